from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    """Serving each tier as promised: activities, follow-up tasks, contact plans, letters sent."""

    name = "service"
    verbose_name = _("Customer service")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from crm.signals import customer_data_changed
        from service import receivers
        from tiering.signals import tiers_changed

        customer_data_changed.connect(receivers.contact_status_on_activity, dispatch_uid="service.contact_activity")
        tiers_changed.connect(receivers.contact_status_on_tiers_changed, dispatch_uid="service.contact_tiers")
