import pytest

from installations import services
from installations.models import Installation
from people.history import Actor


@pytest.fixture
def register(application):
    """Register a device's push installation the way the SDK does on first launch."""

    def _register(push_registration_id: str, **kwargs) -> Installation:
        installation, _ = services.installation_register(
            application=kwargs.pop("app", application),
            actor=Actor.device(application.code),
            push_registration_id=push_registration_id,
            **kwargs,
        )
        return installation

    return _register
