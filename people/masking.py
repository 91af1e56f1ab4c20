"""Masked personal data (DOMAIN.md): phones, emails and externalIds as a role without the
"see personal data" permission sees them.

A masked value keeps what tells values apart without disclosing them: a phone's country code
and last four digits (``+385 •• ••• 4255``), an email's first letter and domain
(``l•••@example.com``), an externalId's first and last characters. Masking is for display:
search still matches the full value an operator typed (the operator knows it).
"""

from __future__ import annotations

import phonenumbers

from people.identities import format_phone

BULLET = "•"
PERMISSION = "people.see_personal_data"
REVEAL_PERMISSION = "people.reveal_personal_data"


def mask_phone(number: str) -> str:
    """Stored digits as "+385 •• ••• 4255": the country code, the grouping, the last four."""
    shown = format_phone(number)
    try:
        country = str(phonenumbers.parse("+" + number, None).country_code)
    except phonenumbers.NumberParseException:
        country = ""
    head = f"+{country}" if country and shown.startswith(f"+{country}") else ""
    rest = shown[len(head) :]
    digits = sum(ch.isdigit() for ch in rest)
    keep = min(4, max(digits - 2, 0))
    seen = 0
    masked = []
    for ch in rest:
        if ch.isdigit():
            seen += 1
            masked.append(ch if seen > digits - keep else BULLET)
        else:
            masked.append(ch)
    return head + "".join(masked)


def mask_email(address: str) -> str:
    """ "luka@example.com" as "l•••@example.com"."""
    local, at, domain = address.partition("@")
    if not at:
        return mask_text(address)
    return f"{local[:1]}{BULLET * 3}@{domain}"


def mask_text(text: str) -> str:
    """An externalId: its first and last characters around bullets ("c•••01"), or bullets
    alone when it is too short to keep any."""
    if len(text) <= 4:
        return BULLET * 3
    return f"{text[:1]}{BULLET * 3}{text[-2:]}"


def sees_personal_data(user) -> bool:
    """Whether ``user`` (an operator, or an API key's principal) sees values unmasked."""
    return bool(user and user.is_authenticated and user.has_perm(PERMISSION))


def may_reveal(user) -> bool:
    return bool(user and user.is_authenticated and user.has_perm(REVEAL_PERMISSION))


# Where an event's changes hold a phone, an email or an externalId (people.history_lines).
_MASKS = {
    "phones": mask_phone,
    "phone": mask_phone,
    "phoneNumber": mask_phone,
    "emails": mask_email,
    "email": mask_email,
    "externalId": mask_text,
    "externalUserId": mask_text,
}


def masked_changes(changes, mask=None):
    """An event's ``changes`` with every phone, email and externalId in it masked: the values
    under those names, in lists, before/after pairs and added/removed lists alike."""
    if isinstance(changes, dict):
        return {key: masked_changes(value, _MASKS.get(key, mask)) for key, value in changes.items()}
    if isinstance(changes, list):
        return [masked_changes(item, mask) for item in changes]
    if mask is not None and isinstance(changes, str) and changes:
        return mask(changes)
    return changes
