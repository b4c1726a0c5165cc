"""The metric columns on PostgreSQL, by hand-written SQL read through binary COPY into NumPy.

The orders are read through their covering index with a streaming aggregate, and the values
arrive as plain floats and day numbers, so no Decimal or date object is built per row
(measurements in docs/performance.md). The SQL must give what the portable path gives;
scoring/tests/test_metrics_postgres.py compares the two.
"""

from __future__ import annotations

import datetime

import numpy as np
from django.core.exceptions import EmptyResultSet
from django.db import connections, transaction
from django.db.models import Case, F, FloatField, Func, IntegerField, Value, When
from django.db.models.functions import Cast, Coalesce

from core import pgcopy
from crm.models import Customer, Interaction

# Day numbers as Python's date.toordinal() counts them (0001-01-01 is day 1).
_ORDINAL = "({column} - DATE '0001-01-01' + 1)"
# Customers per id in [first, last] above which one range scan beats restricting to the set.
_DENSE_RANGE = 0.5
# Up to this many customers, a sparse set is passed as an id list; beyond it, as a subquery.
_ID_LIST_MAX = 1000

_ORDERS_SQL = (
    "SELECT customer_id, SUM(amount)::float8, COUNT(amount), " + _ORDINAL.format(column="MAX(ordered_at)") + " "
    "FROM crm_order WHERE {restriction} AND ordered_at > %s AND ordered_at <= %s "
    "GROUP BY customer_id ORDER BY customer_id"
)
_SURVEYS_SQL = (
    "SELECT customer_id, AVG(score)::float8 FROM crm_satisfactionsurvey "
    "WHERE {restriction} AND surveyed_at > %s AND surveyed_at <= %s GROUP BY customer_id ORDER BY customer_id"
)
_INTERACTIONS_SQL = (
    "SELECT customer_id, COUNT(*) FILTER (WHERE kind = %s), COUNT(*) FILTER (WHERE kind = %s), "
    "COUNT(*) FILTER (WHERE kind = %s), COUNT(*) FILTER (WHERE kind = %s AND occurred_at > %s), "
    + _ORDINAL.format(column="MAX(occurred_at)")
    + " "
    "FROM crm_interaction WHERE {restriction} AND occurred_at > %s AND occurred_at <= %s "
    "GROUP BY customer_id ORDER BY customer_id"
)


def _choice_codes(field: str, values: list[str]):
    """The position of the field's value among `values` (-1 for another value), as SQL."""
    return Case(
        *(When(**{field: value}, then=Value(n)) for n, value in enumerate(values)),
        default=Value(-1),
        output_field=IntegerField(),
    )


def _customer_columns(customers) -> tuple[dict[str, np.ndarray], list[str], list[str]]:
    """The customer facts as arrays in id order (-1 / NaN for NULL); customer type and status as
    positions in the returned value lists."""
    types = list(Customer.CustomerType.values)
    statuses = list(Customer.Status.values)
    query = (
        customers.order_by("id")
        .annotate(
            _type=_choice_codes("customer_type", types),
            _strategic=Coalesce(F("industry__strategic"), Value(False)),
            _rating=Coalesce("potential_rating", Value(0), output_field=IntegerField()),
            _since=Coalesce(
                Func(
                    "cooperation_since", template=_ORDINAL.format(column="%(expressions)s"), output_field=IntegerField()
                ),
                Value(-1),
            ),
            _status=_choice_codes("status", statuses),
            _industry=Coalesce("industry_id", Value(-1), output_field=IntegerField()),
            _manager=Coalesce("account_manager_id", Value(-1), output_field=IntegerField()),
            _tier=Coalesce("tier_id", Value(-1), output_field=IntegerField()),
            _computed=Coalesce("computed_tier_id", Value(-1), output_field=IntegerField()),
            _score=Coalesce(Cast("score", FloatField()), Value(float("nan"))),
            _spend=Cast("spend_12m", FloatField()),
            _below=Cast("runs_below_threshold", IntegerField()),
        )
        .values_list(
            "id",
            "_type",
            "_industry",
            "_strategic",
            "_rating",
            "_since",
            "_status",
            "_manager",
            "_tier",
            "_computed",
            "_score",
            "_spend",
            "_below",
        )
    )
    names = [
        ("id", "bigint"),
        ("type", "integer"),
        ("industry", "bigint"),
        ("strategic", "boolean"),
        ("rating", "integer"),
        ("since", "integer"),
        ("status", "integer"),
        ("manager", "bigint"),
        ("tier", "bigint"),
        ("computed", "bigint"),
        ("score", "float8"),
        ("spend", "float8"),
        ("below", "integer"),
    ]
    try:
        sql, params = query.query.get_compiler(using=customers.db).as_sql()
    except EmptyResultSet:
        return pgcopy.empty_columns(names), types, statuses
    # Fixed-width binary columns: bigint ids, integer codes and days, double precision numbers.
    outer = ", ".join(f"c{n}::{kind}" for n, (_name, kind) in enumerate(names))
    aliases = ", ".join(f"c{n}" for n in range(len(names)))
    wrapped = f"SELECT {outer} FROM ({sql}) AS q({aliases})"  # noqa: S608 (the ORM's SQL; values are parameters)
    with connections[customers.db].cursor() as cursor:
        columns = pgcopy.columns_read(cursor.cursor, wrapped, params, names)
    return columns, types, statuses


def _restriction(customers, ids: np.ndarray) -> tuple[str, list]:
    """SQL restricting `customer_id` to the customers: an id range for a dense set (a chunk of a
    run), an id list for a few, otherwise the customers' own query."""
    first, last = int(ids[0]), int(ids[-1])
    if len(ids) >= _DENSE_RANGE * (last - first + 1):
        return "customer_id BETWEEN %s AND %s", [first, last]
    if len(ids) <= _ID_LIST_MAX:
        return "customer_id = ANY(%s)", [ids.tolist()]
    sql, params = customers.order_by().values("id").query.get_compiler(using=customers.db).as_sql()
    return f"customer_id IN ({sql})", list(params)


def _aggregate(cursor, sql: str, restriction, ids: np.ndarray, kinds: list[str], *, before=(), after=()):
    """Columns (customer_id, v1..vn) of a per-customer aggregate, only for `ids`.
    `before` and `after` are the parameters around the restriction in the SQL."""
    clause, params = restriction
    names = [("id", "bigint")] + [(f"v{n}", kind) for n, kind in enumerate(kinds, start=1)]
    columns = pgcopy.columns_read(cursor.cursor, sql.format(restriction=clause), [*before, *params, *after], names)
    # An id range may hold customers the queryset left out: keep only the wanted ones.
    row_ids = columns["id"]
    if not len(row_ids):
        return columns
    positions = np.minimum(np.searchsorted(ids, row_ids), len(ids) - 1)
    wanted = ids[positions] == row_ids
    return {name: values[wanted] for name, values in columns.items()}


def _spread(ids: np.ndarray, data: dict[str, np.ndarray], column: int, fill, dtype=float) -> np.ndarray:
    result = np.full(len(ids), fill, dtype=dtype)
    if len(data["id"]):
        result[np.searchsorted(ids, data["id"])] = data[f"v{column}"]
    return result


def columns_read(
    customers, *, as_of: datetime.date, start: datetime.date, recent_start: datetime.date
) -> dict[str, np.ndarray]:
    """The customers' facts and aggregates over `start < day <= as_of`, as scoring.metrics expects them."""
    db = customers.db
    facts, types, statuses = _customer_columns(customers)
    ids = facts["id"]
    size = len(ids)

    empty = {"id": np.zeros(0, dtype=np.int64)}
    orders = surveys = interactions = empty
    if size:
        kind = Interaction.Kind
        restriction = _restriction(customers, ids)
        # In their own transaction, hash aggregation is off and random reads are priced for SSDs,
        # so PostgreSQL streams the covering index in customer order instead of hashing the window.
        with transaction.atomic(using=db), connections[db].cursor() as cursor:
            cursor.execute("SET LOCAL enable_hashagg = off")
            cursor.execute("SET LOCAL random_page_cost = 1.1")
            orders = _aggregate(
                cursor, _ORDERS_SQL, restriction, ids, ["float8", "bigint", "integer"], after=[start, as_of]
            )
            surveys = _aggregate(cursor, _SURVEYS_SQL, restriction, ids, ["float8"], after=[start, as_of])
            interactions = _aggregate(
                cursor,
                _INTERACTIONS_SQL,
                restriction,
                ids,
                ["bigint", "bigint", "bigint", "bigint", "integer"],
                before=[kind.REFERRAL, kind.COMPLAINT, kind.SOCIAL_SHARE, kind.COMPLAINT, recent_start],
                after=[start, as_of],
            )
    return {
        "customer_ids": ids,
        "customer_type": _choices_back(facts["type"], types),
        "industry_id": facts["industry"],
        "account_manager_id": facts["manager"],
        "status": _choices_back(facts["status"], statuses),
        "tier_id": facts["tier"],
        "computed_tier_id": facts["computed"],
        "score": facts["score"],
        "spend_12m_before": facts["spend"],
        "runs_below_threshold": facts["below"],
        "cooperation_since": facts["since"],
        "last_order": _spread(ids, orders, 3, -1, dtype=np.int64),
        "last_interaction": _spread(ids, interactions, 5, -1, dtype=np.int64),
        "complaints_recent": _spread(ids, interactions, 4, 0, dtype=np.int64),
        "strategic": np.where(facts["strategic"], 10.0, facts["rating"].astype(float)),
        "spend": _spread(ids, orders, 1, 0.0),
        "count": _spread(ids, orders, 2, 0.0),
        "satisfaction": _spread(ids, surveys, 1, np.nan),
        "referrals": _spread(ids, interactions, 1, 0.0),
        "complaints": _spread(ids, interactions, 2, 0.0),
        "shares": _spread(ids, interactions, 3, 0.0),
    }


def _choices_back(codes: np.ndarray, values: list[str]) -> np.ndarray:
    """Positions from _choice_codes back to the values ("" for a value outside the choices)."""
    return np.array([*values, ""], dtype=object)[codes]
