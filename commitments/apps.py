from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommitmentsConfig(AppConfig):
    """Service commitments per tier: cases with first-response clocks, playbooks, results."""

    name = "commitments"
    verbose_name = _("Service commitments")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from commitments import receivers
        from crm.signals import customer_data_changed
        from tiering.signals import tiers_changed

        customer_data_changed.connect(receivers.cases_on_customer_data, dispatch_uid="commitments.customer_data")
        tiers_changed.connect(receivers.playbooks_on_tiers_changed, dispatch_uid="commitments.playbooks_tiers")
