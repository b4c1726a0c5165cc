"""The business clock: "today" is the date in TIME_ZONE, whatever zone a request has activated."""

import datetime
import zoneinfo

from django.conf import settings
from django.utils import timezone


def local_today() -> datetime.date:
    """Today in the business time zone (TIME_ZONE), whatever zone is active for the request."""
    return timezone.localdate(timezone=zoneinfo.ZoneInfo(settings.TIME_ZONE))
