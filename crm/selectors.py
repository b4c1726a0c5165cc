"""Who may see which customer. Every list, detail, export and API endpoint starts from here."""

from django.db.models import QuerySet

from crm.models import Customer


def user_sees_all_customers(user) -> bool:
    return bool(user and user.is_authenticated and (user.is_superuser or user.has_perm("crm.view_all_customers")))


def customers_visible_to(user, queryset: QuerySet | None = None) -> QuerySet:
    """Admins and users with `crm.view_all_customers` see everyone; account managers see their own."""
    qs = Customer.objects.all() if queryset is None else queryset
    if not (user and user.is_authenticated):
        return qs.none()
    if user_sees_all_customers(user):
        return qs
    return qs.filter(account_manager=user)


def user_sees_sensitive_fields(user) -> bool:
    return bool(user and user.is_authenticated and user.has_perm("crm.view_sensitive_fields"))
