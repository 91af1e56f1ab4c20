"""A DomainError as the operator UI says it.

The services word their errors for every interface in the vendor's spelling (``birthDate
cannot be in the future``, ``phone 385917028940 already belongs to person 248``): the API
sends exactly that. The person page and the new-person form speak of what the operator
sees instead: the form's labels, phones as they are shown (+385 91 702 8940), and the other
person by name, with a link to them.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.urls import reverse
from django.utils.html import format_html

from core.errors import DomainError, ErrorCode
from people.identities import format_phone
from people.models import Person

LABELS = {
    "externalId": "External ID",
    "type": "Type",
    "firstName": "First name",
    "lastName": "Last name",
    "middleName": "Middle name",
    "gender": "Gender",
    "birthDate": "Birth date",
    "address": "Address",
    "city": "City",
    "country": "Country",
    "preferredLanguage": "Preferred language",
    "profilePicture": "Profile picture URL",
}

# An API field name as a word of a message ("birthDate cannot be ..."), not inside another
# word or a quoted value.
_FIELD_NAMES = re.compile(r"(?<![\w'\"])(" + "|".join(map(re.escape, LABELS)) + r")(?![\w'\"])")
# The services' USER_MERGE_INTERRUPTED: "<kind> <value> already belongs to person <id>."
_MERGE = re.compile(r"^(phone|email|externalId) (.+) already belongs to person \d+\.$", re.S)
_QUOTED = re.compile(r"^['\"](.*)['\"] is not a valid phone number")
_KINDS = {"phone": "Phone", "email": "Email", "externalId": "External ID"}
# Only this example is offered: it is how the page's phone fields show a number.
PHONE_EXAMPLE = "+385 91 999 8888"


def with_labels(message: str) -> str:
    """``message`` with each API field name replaced by its label."""
    return _FIELD_NAMES.sub(lambda match: LABELS[match.group(1)], message)


def operator_message(error: DomainError, *, typed: str = "") -> str:
    """The error's message for the operator UI: labels for field names, a formatted phone
    and the other person's name with a link to them (``format_html``: a message with one
    link), and for a phone without a country code how to write it. ``typed``: what the
    operator typed, when the error is about that input."""
    if error.code == ErrorCode.USER_MERGE_INTERRUPTED and error.details.get("personId"):
        return _merge_message(error)
    message = with_labels(error.message)
    if error.code == ErrorCode.PHONE_INVALID and not typed:
        quoted = _QUOTED.match(error.message)  # parse_phone's "'091 999' is not a valid ..."
        typed = quoted.group(1) if quoted else ""
    if error.code == ErrorCode.PHONE_INVALID and _lacks_country_code(typed):
        message += f" Add the country code, for example {PHONE_EXAMPLE}."
    return message


def for_operator(error: DomainError | None, *, typed: str = "") -> DomainError | None:
    """A copy of ``error`` that carries ``operator_message`` as its message."""
    if error is None:
        return None
    return DomainError(
        error.code, operator_message(error, typed=typed), error.field, dict(error.details)
    )


def _lacks_country_code(typed: str) -> bool:
    """A national number ("091 999 8888") when no PHONE_DEFAULT_REGION reads it."""
    compact = re.sub(r"[\s\-.()/]", "", typed or "")
    return (
        bool(compact)
        and not compact.startswith(("+", "00"))
        and not getattr(settings, "PHONE_DEFAULT_REGION", None)
    )


def _merge_message(error: DomainError) -> str:
    person_id = error.details["personId"]
    match = _MERGE.match(error.message)
    if match is None:
        what = with_labels(error.message.split(" already belongs", 1)[0])
    else:
        kind, value = match.groups()
        if kind == "phone":
            value = format_phone(value)
        elif kind == "externalId":
            value = value.strip("'\"")
        what = f"{_KINDS[kind]} {value}"
    owner = Person.objects.filter(pk=person_id).first()
    if owner is None:  # deleted since
        return f"{what} already belongs to person {person_id}."
    url = reverse("people:detail", args=[person_id])
    if owner.display_name == f"Person {person_id}":  # no name to show but the number
        return format_html(
            '{} already belongs to <a href="{}" data-testid="merge-link">person {}</a>.',
            what,
            url,
            person_id,
        )
    return format_html(
        '{} already belongs to person {}, <a href="{}" data-testid="merge-link">{}</a>.',
        what,
        person_id,
        url,
        owner.display_name,
    )
