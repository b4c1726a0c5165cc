"""Rate limits per API token (one integration's burst never eats another's quota)."""

from rest_framework.throttling import UserRateThrottle


class TokenRateThrottle(UserRateThrottle):
    """Keys on the knox token (its key prefix) when there is one, else on the user or client IP.

    Uses the "user" rate of DEFAULT_THROTTLE_RATES (API_THROTTLE_RATE in the environment)."""

    scope = "user"

    def get_cache_key(self, request, view):
        token = getattr(request, "auth", None)
        token_key = getattr(token, "token_key", None)
        if token_key:
            ident = f"token-{token_key}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}
