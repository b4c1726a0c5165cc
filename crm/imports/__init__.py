"""CSV / XLSX imports of customers and orders, shared by the admin page and the manage.py commands."""

from crm.imports.customers import (
    CUSTOMER_COLUMNS,
    CUSTOMER_COMPUTED_COLUMNS,
    CUSTOMER_KEY_COLUMN,
    CUSTOMER_REQUIRED,
    customers_import,
)
from crm.imports.files import DEFAULT_ENCODINGS, ImportReport, RowError, read_table, template_csv
from crm.imports.orders import ORDER_COLUMNS, ORDER_REQUIRED, orders_import

__all__ = [
    "CUSTOMER_COLUMNS",
    "CUSTOMER_COMPUTED_COLUMNS",
    "CUSTOMER_KEY_COLUMN",
    "CUSTOMER_REQUIRED",
    "DEFAULT_ENCODINGS",
    "ORDER_COLUMNS",
    "ORDER_REQUIRED",
    "ImportReport",
    "RowError",
    "customers_import",
    "orders_import",
    "read_table",
    "template_csv",
]
