"""PostgreSQL's binary COPY format, built and read column-wise with NumPy.

Bulk paths (a tier run's metrics and writes) move hundreds of thousands of numbers; the binary
format lets NumPy lay them out or read them in place, so no Python object is built per value.
Only fixed-width, non-NULL values fit: callers turn NULL into a sentinel (NaN, -1) in SQL or
before writing. Types: "bigint", "integer", "float8", "boolean", and ("float8[]", width) for
one-dimensional float arrays of a known length (reading only).
"""

from __future__ import annotations

import io

import numpy as np

SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
_HEADER = SIGNATURE + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
_TRAILER = (-1).to_bytes(2, "big", signed=True)
_WIRE = {"bigint": ">i8", "integer": ">i4", "float8": ">f8", "boolean": "?"}
_NATIVE = {"bigint": np.int64, "integer": np.int64, "float8": float, "boolean": bool}


def _wire_dtype(kind):
    if isinstance(kind, tuple):  # ("float8[]", width): ndim, has-null flag, element type, size, lower bound
        _name, width = kind
        header = [("ndim", ">i4"), ("flags", ">i4"), ("oid", ">i4"), ("size", ">i4"), ("lbound", ">i4")]
        return np.dtype([*header, ("items", [("len", ">i4"), ("value", ">f8")], (width,))])
    return np.dtype(_WIRE[kind])


def payload(columns: list[tuple[str, str, np.ndarray]]) -> bytes:
    """The COPY ... FROM STDIN (FORMAT binary) stream for equally long columns (name, type, values)."""
    size = len(columns[0][2]) if columns else 0
    fields = [("count", ">i2")]
    for name, kind, _values in columns:
        fields += [(f"{name}__len", ">i4"), (name, _WIRE[kind])]
    tuples = np.empty(size, dtype=np.dtype(fields))
    tuples["count"] = len(columns)
    for name, kind, values in columns:
        tuples[f"{name}__len"] = np.dtype(_WIRE[kind]).itemsize
        tuples[name] = values
    return _HEADER + tuples.tobytes() + _TRAILER


def columns_read(cursor, sql: str, params, columns: list[tuple[str, object]]) -> dict[str, np.ndarray]:
    """The rows of a query as one array per column (an array column as a rows x width matrix).

    `cursor` is a psycopg2 cursor. Raises ValueError when the rows do not have the declared
    widths (a NULL, or an array of another length), so a caller can fall back."""
    query = cursor.mogrify(sql, params)
    query = query.decode() if isinstance(query, bytes) else query
    buffer = io.BytesIO()
    cursor.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT binary)", buffer)
    data = buffer.getvalue()
    if not data.startswith(SIGNATURE):
        raise ValueError("not a binary COPY stream")
    header = len(SIGNATURE) + 8 + int.from_bytes(data[15:19], "big")
    fields = [("count", ">i2")]
    for name, kind in columns:
        fields += [(f"{name}__len", ">i4"), (name, _wire_dtype(kind))]
    dtype = np.dtype(fields)
    body = memoryview(data)[header : len(data) - 2]
    if len(body) % dtype.itemsize:
        raise ValueError("a value is NULL or not of its declared width")
    rows = np.frombuffer(body, dtype=dtype)
    result = {}
    for name, kind in columns:
        if isinstance(kind, tuple):
            result[name] = rows[name]["items"]["value"].astype(float)
        else:
            result[name] = rows[name].astype(_NATIVE[kind])
    return result


def empty_columns(columns: list[tuple[str, str]]) -> dict[str, np.ndarray]:
    return {name: np.zeros(0, dtype=_NATIVE[kind]) for name, kind in columns}
