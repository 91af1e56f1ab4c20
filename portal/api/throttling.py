from rest_framework.throttling import SimpleRateThrottle

from portal.api.authentication import ApiKeyPrincipal


class PerKeyRateThrottle(SimpleRateThrottle):
    """Requests per API key (or per operator, or per address when anonymous)."""

    scope = "api"

    def get_cache_key(self, request, view):
        if isinstance(request.user, ApiKeyPrincipal):
            ident = f"key-{request.user.key.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}
