from rest_framework.request import Request

from core.api.authentication import ApiKeyPrincipal
from people.history import Actor
from people.models import Source


def actor_from_request(request: Request) -> Actor:
    """The history actor of an API request: its API key, or the signed-in operator."""
    if isinstance(request.user, ApiKeyPrincipal):
        return Actor.api_key(request.user.key.name)
    return Actor.operator(request.user, source=Source.API)
