"""The one place where web pages decide who is signed in and which customers they may see."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from core.access import user_sees_all_customers
from crm.models import Customer
from crm.selectors import customers_visible_to
from tiering.selectors import notices_for


class WebPageMixin(LoginRequiredMixin):
    """Every page: login required, plus what the shared layout needs (active section, unread notices)."""

    section = ""

    def visible_notices(self) -> QuerySet:
        """The notices this user sees (tiering.selectors.notices_visible_to), newest first."""
        return notices_for(self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            section=self.section,
            sees_all_customers=user_sees_all_customers(self.request.user),
            unread_notice_count=self.visible_notices().filter(acknowledged_at__isnull=True).count(),
        )
        return context


class CustomerScopeMixin(WebPageMixin):
    """Customers this user may see. Views never start a customer query anywhere else."""

    def visible_customers(self) -> QuerySet:
        return customers_visible_to(self.request.user)

    def get_customer(self, code: str) -> Customer:
        """The customer with this code, or 404 when it does not exist or belongs to someone else."""
        queryset = self.visible_customers().select_related("tier", "computed_tier", "industry", "account_manager")
        return get_object_or_404(queryset, code=code)
