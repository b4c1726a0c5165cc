from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TieringConfig(AppConfig):
    name = "tiering"
    verbose_name = _("Tiering")

    def ready(self):
        # Django's place to connect receivers and register tasks: the app registry is ready only
        # now, so these modules (which import models) are imported here. Not a cycle dodge.
        # `tasks` registers the Celery tasks that services send by name (tiering.services.task_names),
        # so eager mode (tests, the embedded default) finds them in any process.
        from crm.signals import customer_data_changed
        from tiering import receivers, tasks  # noqa: F401

        customer_data_changed.connect(
            receivers.reevaluate_on_customer_data_changed, dispatch_uid="tiering.reevaluate_on_customer_data_changed"
        )
