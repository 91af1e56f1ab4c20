"""The one vocabulary of domain errors, shared by the UI, the API and admin."""

from __future__ import annotations

from typing import Any


class ErrorCode:
    PHONE_INVALID = "PHONE_INVALID"
    EMAIL_INVALID = "EMAIL_INVALID"
    USER_IDENTITY_INVALID = "USER_IDENTITY_INVALID"
    USER_MERGE_INTERRUPTED = "USER_MERGE_INTERRUPTED"
    PERSONALIZATION_IMPOSSIBLE = "PERSONALIZATION_IMPOSSIBLE"
    AMBIGUOUS_PERSONALIZE_CANDIDATES = "AMBIGUOUS_PERSONALIZE_CANDIDATES"
    REQUEST_FORMAT_INVALID = "REQUEST_FORMAT_INVALID"
    NO_REGISTRATION = "NO_REGISTRATION"
    # Not in the vendor's list: a value breaks a limit or a rule of its field.
    BAD_REQUEST = "BAD_REQUEST"
    NOT_FOUND = "NOT_FOUND"
    # The custom attribute definition is used by people and cannot be deleted.
    ATTRIBUTE_IN_USE = "ATTRIBUTE_IN_USE"
    # The edit started from an older version of the profile than the stored one.
    VERSION_CONFLICT = "VERSION_CONFLICT"
    # The caller may not change this (a device and a profile that is not its own).
    FORBIDDEN = "FORBIDDEN"
    # What is created exists already (an event definition id).
    CONFLICT = "CONFLICT"
    # The identifier belonged to an erased person: storing it again is refused until an
    # administrator lifts its suppression (people.suppression).
    IDENTIFIER_SUPPRESSED = "IDENTIFIER_SUPPRESSED"
    # Too many of one kind of request by one operator in a window (revealing masked values).
    RATE_LIMITED = "RATE_LIMITED"
    # A history event's change cannot be reverted: its value changed again since (details:
    # "conflicts", each field, the value now, the value a revert would restore, an owner).
    REVERT_CONFLICT = "REVERT_CONFLICT"
    # A history event of a kind that has no revert (install, launch, custom event, ...);
    # the API answers it, like REVERT_CONFLICT, with 409.
    NOT_REVERTIBLE = "NOT_REVERTIBLE"
    # A bulk job's kind that no action registered (jobs.actions).
    JOB_KIND_UNKNOWN = "JOB_KIND_UNKNOWN"
    # Undo of a bulk job: the person changed since the job, and is left as it is.
    CHANGED_SINCE = "CHANGED_SINCE"


class DomainError(Exception):
    """A rule of DOMAIN.md was broken; nothing was written.

    ``field`` names the input field in the vendor's spelling (``firstName``,
    ``customAttributes.Age``, ``contactInformation.phone``) so that every interface can show
    the error at the field. ``details`` carries data an interface may link to, such as the id
    of the person who owns a contested identity.
    """

    def __init__(
        self,
        code: str,
        message: str,
        field: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.details = details or {}

    def __repr__(self) -> str:
        return f"DomainError({self.code!r}, {self.message!r}, field={self.field!r})"


def reject_nul(text: str, field: str | None, name: str | None = None) -> str:
    """Refuse text with NUL characters: PostgreSQL cannot store them (it would be a 500)."""
    if "\x00" in text:
        raise DomainError(
            ErrorCode.BAD_REQUEST,
            f"{name or field or 'Text'} must not contain NUL characters.",
            field,
        )
    return text
