from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScoringConfig(AppConfig):
    name = "scoring"
    verbose_name = _("Scoring")

    def ready(self):
        # `tasks` registers the task the backtest service sends by name, so eager mode (tests,
        # the embedded default) finds it in any process. Not a cycle dodge: the app registry is
        # ready only now.
        from scoring import tasks  # noqa: F401
