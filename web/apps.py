from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    """The account managers' pages and the demo data: the layer that brings the domains together."""

    name = "web"
    verbose_name = _("Web pages")
