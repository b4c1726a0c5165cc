"""Names in the order Chinese readers look for them: by pinyin, sorted by the database.

Code-point order puts 上海 before 北京 (U+4E0A < U+5317); people expect 北京 (bei), 成都 (cheng),
上海 (shang). PostgreSQL compares with ICU's Chinese collation, which every ICU-enabled cluster
imports at initdb (no migration). SQLite has no ICU, so each of its connections gets a Python
collation comparing pypinyin sort keys. Either way the sort stays in ORDER BY, and a filter on a
`Pinyin` annotation (a cursor's "after this name") compares in the same order.
"""

import functools

from django.db import connections
from django.db.backends.signals import connection_created
from django.db.models.functions import Collate
from pypinyin import Style, lazy_pinyin

POSTGRES_COLLATION = "zh-x-icu"
SQLITE_COLLATION = "pinyin"


class Pinyin(Collate):
    """`expression` (a text column) in pinyin order: `order_by(Pinyin("name").asc(), "code")`."""

    def __init__(self, expression):
        super().__init__(expression, POSTGRES_COLLATION)

    def as_sqlite(self, compiler, connection, **extra_context):
        collation = connection.ops.quote_name(SQLITE_COLLATION)
        return super().as_sql(compiler, connection, collation=collation, **extra_context)


# Han syllables sort between digits and punctuation (before) and Latin letters (after), as ICU's
# Chinese collation does; "chong2" < "chong3" < "chongqing": tone digits sort before letters.
_OTHER, _HAN, _LATIN = 0, 1, 2


def _non_han(chars: str) -> list[str]:
    return [f"\x00{char}" for char in chars]  # marked, so the key tells them from syllables


@functools.lru_cache(maxsize=100_000)
def pinyin_sort_key(text: str) -> tuple:
    """北京 -> ((1, 'bei3'), (1, 'jing1')), then the text itself so different names never tie.
    Cached: SQLite calls the collation O(n log n) times for n rows."""
    parts = []
    for item in lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True, errors=_non_han):
        if item.startswith("\x00"):
            char = item[1:]
            parts.append((_LATIN if char.isalpha() else _OTHER, char.casefold()))
        else:
            parts.append((_HAN, item))
    return (tuple(parts), text)


def _compare(left: str, right: str) -> int:
    left_key, right_key = pinyin_sort_key(left), pinyin_sort_key(right)
    return (left_key > right_key) - (left_key < right_key)


def _sqlite_collation_add(sender=None, connection=None, **kwargs) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_collation(SQLITE_COLLATION, _compare)


def install() -> None:
    """Every SQLite connection, opened from now on or already open, knows the pinyin collation."""
    connection_created.connect(_sqlite_collation_add, dispatch_uid="core.collation.pinyin")
    for connection in connections.all(initialized_only=True):
        if connection.connection is not None:
            _sqlite_collation_add(connection=connection)
