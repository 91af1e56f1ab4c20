"""Push applications: create one, set its user data JWT settings."""

from __future__ import annotations

from django.db import transaction

from core.errors import DomainError, ErrorCode, reject_nul
from installations.models import Application
from people.history import Actor, record_audit
from people.services import (
    SYSTEM,
)


@transaction.atomic
def application_create(*, name: str, code: str | None = None, actor: Actor = SYSTEM) -> Application:
    """A push application; its code is generated unless given. Recorded in the audit log."""
    application = _application_create(name=name, code=code)
    record_audit(
        action="application created",
        target=f"application {application.pk} {application.name!r} ({application.code})",
        actor=actor,
    )
    return application


# The vendor hands out 32-byte keys as hex (``secretKeyHex``); HS256 wants at least as many.
JWT_SECRET_MIN_BYTES = 32
KEEP = object()


def application_set_jwt(
    *,
    application: Application,
    key_id: str,
    secret: str | None | object = KEEP,
    required: bool,
    actor: Actor = SYSTEM,
) -> Application:
    """Set an application's user data JWT settings (see installations/api/jwt_authentication).

    ``secret`` is the signing key as hex; KEEP (the default) keeps the stored one, ``None`` or
    ``""`` removes it. A secret needs a key id; requiring JWT needs a secret (the database
    holds both rules too). The audit log records the change, never the secret.
    """
    if not isinstance(key_id, str) or not isinstance(required, bool):
        raise DomainError(ErrorCode.REQUEST_FORMAT_INVALID, "jwtKeyId must be text.", "jwtKeyId")
    key_id = reject_nul(key_id.strip(), "jwtKeyId")
    if len(key_id) > 128:
        raise DomainError(ErrorCode.BAD_REQUEST, "jwtKeyId must be at most 128.", "jwtKeyId")
    with transaction.atomic():
        application = Application.objects.select_for_update().get(pk=application.pk)
        if secret is not KEEP:
            application.jwt_secret = clean_jwt_secret(secret)
        check_jwt_key_id(application.jwt_secret, key_id)
        check_jwt_required(required, application.jwt_secret)
        secret_changed = secret is not KEEP
        application.jwt_key_id = key_id
        application.jwt_required = required
        application.save(update_fields=["jwt_key_id", "jwt_secret", "jwt_required"])
    record_audit(
        action="application JWT settings changed",
        target=f"application {application.pk} {application.name!r} ({application.code})",
        actor=actor,
        jwt_key_id=key_id,
        jwt_secret="replaced" if secret_changed else "kept",
        jwt_required=required,
    )
    return application


def check_jwt_key_id(secret: str, key_id: str) -> None:
    """A JWT secret needs its key id (the kid tokens signed with it carry)."""
    if secret and not key_id:
        raise DomainError(ErrorCode.BAD_REQUEST, "A JWT secret needs its key id (kid).", "jwtKeyId")


def check_jwt_required(required: bool, secret: str) -> None:
    """Requiring JWT needs a JWT secret."""
    if required and not secret:
        raise DomainError(ErrorCode.BAD_REQUEST, "Requiring JWT needs a JWT secret.", "jwtRequired")


def clean_jwt_secret(secret: object) -> str:
    """The signing key as stored: hexadecimal, 32 to 128 bytes (``""``: none)."""
    if secret is None:
        return ""
    if not isinstance(secret, str):
        raise DomainError(ErrorCode.REQUEST_FORMAT_INVALID, "jwtSecret must be text.", "jwtSecret")
    secret = secret.strip().lower()
    if not secret:
        return ""
    try:
        raw = bytes.fromhex(secret)
    except ValueError:
        raise DomainError(
            ErrorCode.BAD_REQUEST,
            "jwtSecret must be hexadecimal (the key as the vendor shows it: secretKeyHex).",
            "jwtSecret",
        ) from None
    if not JWT_SECRET_MIN_BYTES <= len(raw) <= 128:
        raise DomainError(
            ErrorCode.BAD_REQUEST,
            f"jwtSecret must be {JWT_SECRET_MIN_BYTES} to 128 bytes"
            f" ({2 * JWT_SECRET_MIN_BYTES} to 256 hex digits).",
            "jwtSecret",
        )
    return secret


def check_application_code_free(code: str) -> None:
    """No application has ``code`` yet."""
    if Application.objects.filter(code=code).exists():
        raise DomainError(ErrorCode.BAD_REQUEST, f"Application code {code!r} exists.", "code")


def _application_create(*, name: str, code: str | None) -> Application:
    if not isinstance(name, str) or (code is not None and not isinstance(code, str)):
        raise DomainError(ErrorCode.REQUEST_FORMAT_INVALID, "name and code must be text.", "name")
    name = reject_nul(name.strip(), "name")
    if not name or len(name) > 128:
        raise DomainError(ErrorCode.BAD_REQUEST, "name must be 1 to 128 characters.", "name")
    if code is not None:
        code = reject_nul(code.strip(), "code")
        if not code or len(code) > 64:
            raise DomainError(ErrorCode.BAD_REQUEST, "code must be 1 to 64 characters.", "code")
        check_application_code_free(code)
        return Application.objects.create(name=name, code=code)
    return Application.objects.create(name=name)
