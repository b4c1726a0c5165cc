from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from core import collation


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("Customers")

    def ready(self):
        # Customer names sort by pinyin (core.collation); SQLite learns the collation per connection.
        collation.install()
