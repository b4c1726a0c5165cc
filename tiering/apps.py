from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TieringConfig(AppConfig):
    name = "tiering"
    verbose_name = _("Tiering")

    def ready(self):
        # Django's place to connect receivers: the app registry is ready only now, so these
        # modules (which import models) are imported here, not at the top. Not a cycle dodge.
        from crm.signals import customer_data_changed
        from tiering import receivers

        customer_data_changed.connect(
            receivers.reevaluate_on_customer_data_changed, dispatch_uid="tiering.reevaluate_on_customer_data_changed"
        )
