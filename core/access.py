"""Who may see which customer, which rows about customers, and which sensitive values.

The one home of these rules: web pages, the API, admin, imports and services all ask here.
Administrators and users holding `crm.view_all_customers` see every customer; an account
manager sees the customers they manage and the rows (orders, notices, history...) about them.
"""

from django.db.models import QuerySet

from core import crypto


def user_sees_all_customers(user) -> bool:
    return bool(user and user.is_authenticated and (user.is_superuser or user.has_perm("crm.view_all_customers")))


def user_sees_sensitive_fields(user) -> bool:
    return bool(user and user.is_authenticated and user.has_perm("crm.view_sensitive_fields"))


def customers_visible_to(user, customers: QuerySet) -> QuerySet:
    """The customers of `customers` that `user` may see."""
    return rows_visible_to(user, customers, customer_path="")


def rows_visible_to(user, rows: QuerySet, *, customer_path: str = "customer") -> QuerySet:
    """Rows about customers (`customer_path` leads from a row to its customer; "" for customers
    themselves) that `user` may see: all for those who see every customer, none for the anonymous."""
    if not (user and user.is_authenticated):
        return rows.none()
    if user_sees_all_customers(user):
        return rows
    manager = f"{customer_path}__account_manager" if customer_path else "account_manager"
    return rows.filter(**{manager: user})


def sensitive_value_for(user, value: str) -> str:
    """A tax id or bank account as this user may see it: clear with the permission, masked without."""
    if not value:
        return ""
    return value if user_sees_sensitive_fields(user) else crypto.mask(value)
