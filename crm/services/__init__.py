"""Writes to customer records. The API, imports, admin, web pages and commands all come through here."""

from crm.services.activity import (
    INTERACTION_FIELDS,
    ORDER_FIELDS,
    SURVEY_FIELDS,
    IngestResult,
    interaction_update,
    interactions_record,
    order_update,
    orders_ingest,
    survey_update,
    surveys_record,
)
from crm.services.customers import (
    CUSTOMER_EDITABLE_FIELDS,
    CUSTOMER_SCORING_INPUTS,
    customer_code_format,
    customer_code_next,
    customer_codes_reserve,
    customer_create,
    customer_update,
    customers_bulk_save,
)

__all__ = [
    "CUSTOMER_EDITABLE_FIELDS",
    "CUSTOMER_SCORING_INPUTS",
    "INTERACTION_FIELDS",
    "ORDER_FIELDS",
    "SURVEY_FIELDS",
    "IngestResult",
    "customer_code_format",
    "customer_code_next",
    "customer_codes_reserve",
    "customer_create",
    "customer_update",
    "customers_bulk_save",
    "interaction_update",
    "interactions_record",
    "order_update",
    "orders_ingest",
    "survey_update",
    "surveys_record",
]
