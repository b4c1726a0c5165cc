"""Issue an API token for a user. The key is printed once; only its hash is stored (revoke in admin)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from knox.models import AuthToken


class Command(BaseCommand):
    help = "Print a new API token for USERNAME (shown once; stored hashed, revocable in admin under Auth tokens)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(_("No user named %(username)r.") % {"username": username})
        if not user.is_active:
            raise CommandError(
                _("User %(username)r is inactive; activate it before issuing a token.") % {"username": username}
            )
        _instance, key = AuthToken.objects.create(user)
        self.stdout.write(key)
