"""Normalization of the unique identifiers of a person: phones, emails and externalId."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import idna
import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator

from core.errors import DomainError, ErrorCode, reject_nul

MAX_EMAIL_LENGTH = 254
MAX_EXTERNAL_ID_LENGTH = 256
_PHONE_DECORATION = re.compile(r"[\s\-.()/]")
_email_validator = EmailValidator()
_DOT_AFTER_I = re.compile("(?<=[ij])\u0307")


@dataclass(frozen=True)
class Phone:
    number: str  # E.164 digits without "+"
    national_number: str  # national significant number
    region: str | None


def parse_phone(raw: object, *, field: str = "phone", region: str | None = None) -> Phone:
    """Read a phone number typed in any common way; raise PHONE_INVALID otherwise.

    Accepted: "+385 1 6419-710", "00385 1 6419 710", "(385) 1.6419.710", and bare
    international digits as the vendor's API sends them ("38516419710"). National input
    ("01 6419 710") is read with PHONE_DEFAULT_REGION when that is set.
    """
    if not isinstance(raw, str | int) or isinstance(raw, bool):
        raise DomainError(ErrorCode.PHONE_INVALID, "Phone number must be a string.", field)
    text = str(raw).strip()
    compact = _PHONE_DECORATION.sub("", text)
    if not compact or len(compact) > 32:
        raise DomainError(ErrorCode.PHONE_INVALID, f"{text!r} is not a valid phone number.", field)
    candidates: list[tuple[str, str | None]] = []
    if compact.startswith("+"):
        candidates.append((compact, None))
    elif compact.startswith("00"):
        candidates.append(("+" + compact[2:], None))
    elif compact.isdigit():
        # Bare digits: international form first (the vendor's format), then national form.
        candidates.append(("+" + compact, None))
        default_region = region or getattr(settings, "PHONE_DEFAULT_REGION", None)
        if default_region:
            candidates.append((compact, default_region))
    for candidate, candidate_region in candidates:
        if not re.fullmatch(r"\+?\d+", candidate):
            continue
        try:
            parsed = phonenumbers.parse(candidate, candidate_region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
            return Phone(
                number=e164.lstrip("+"),
                national_number=str(phonenumbers.national_significant_number(parsed)),
                region=phonenumbers.region_code_for_number(parsed),
            )
    raise DomainError(ErrorCode.PHONE_INVALID, f"{text!r} is not a valid phone number.", field)


def normalize_phone(raw: object, *, field: str = "phone") -> str:
    return parse_phone(raw, field=field).number


def format_phone(number: str) -> str:
    """Stored digits for display: "+385 1 6419 710"."""
    try:
        parsed = phonenumbers.parse("+" + number, None)
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def _refuse_format_characters(text: str, code: str, field: str, what: str) -> None:
    """Invisible and format characters (Unicode category Cf: soft hyphen, zero-width space,
    bidi controls...) make a look-alike of another identifier: refused, never dropped."""
    for character in text:
        if unicodedata.category(character) == "Cf":
            raise DomainError(
                code,
                f"{what} must not contain invisible or format characters"
                f" (U+{ord(character):04X} {unicodedata.name(character, 'FORMAT CHARACTER')}).",
                field,
            )


def fold_email_text(text: str) -> str:
    """The folding of an email's characters (not its domain's IDNA form): NFKC, then case
    folding. For fragments (a "contains" filter) and, with the domain's IDNA form, whole
    addresses (``normalize_email``).

    Dotted capital I folds to a plain "i" (the Turkic entry of Unicode's CaseFolding.txt)
    and a combining dot above after "i" or "j" goes (they have a dot already): full folding
    would give "i" + U+0307, a look-alike of "i" that could be a second owner of one mailbox.
    """
    folded = unicodedata.normalize("NFKC", text).replace("\u0130", "i").casefold()
    return unicodedata.normalize("NFKC", _DOT_AFTER_I.sub("", folded))


def _email_domain(domain: str) -> str:
    """The domain in its IDNA 2008 ASCII form (UTS #46 mapping), or ValueError."""
    if domain.startswith("[") and domain.endswith("]"):
        return domain  # an address literal ("[192.0.2.1]"): no labels to encode
    if domain.isascii():
        # Already ASCII (and lower-cased by the folding): kept as written, so that every
        # domain Django's validator accepts stays accepted (IDNA 2008 would refuse some, such
        # as "ab--cd.example"), and a punycode label ("xn--bcher-kva") equals its Unicode form.
        return domain
    try:
        return idna.encode(domain, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError) as error:
        raise ValueError(str(error)) from None


def normalize_email(raw: object, *, field: str = "email") -> str:
    """Validate an address (Django's RFC 5322 subset) and return the one form that every
    spelling of the mailbox shares: NFKC and case folding (``fold_email_text``), the domain
    in its IDNA (punycode) form. Invisible and format characters are refused. This form is
    stored, compared and shown (DOMAIN.md: one mailbox has one owner)."""
    if not isinstance(raw, str):
        raise DomainError(ErrorCode.EMAIL_INVALID, "Email must be a string.", field)
    text = raw.strip()
    if len(text) > MAX_EMAIL_LENGTH:
        raise DomainError(
            ErrorCode.EMAIL_INVALID,
            f"Email must be at most {MAX_EMAIL_LENGTH} characters.",
            field,
        )
    _refuse_format_characters(text, ErrorCode.EMAIL_INVALID, field, "Email")
    local, at, domain = fold_email_text(text).rpartition("@")
    try:
        if not at or not local or not domain:
            raise ValueError("no local part or domain")
        address = f"{local}@{_email_domain(domain)}"
        _email_validator(address)
    except (ValueError, ValidationError):
        raise DomainError(
            ErrorCode.EMAIL_INVALID, f"{text!r} is not a valid email address.", field
        ) from None
    if len(address) > MAX_EMAIL_LENGTH:
        raise DomainError(
            ErrorCode.EMAIL_INVALID,
            f"Email must be at most {MAX_EMAIL_LENGTH} characters.",
            field,
        )
    return address


def try_email(text: str) -> str | None:
    """``normalize_email`` of ``text``, or None when it is not a valid address."""
    try:
        return normalize_email(text)
    except DomainError:
        return None


def normalize_external_id(raw: object, *, field: str = "externalId") -> str | None:
    """The externalId, or None for "no value": empty, JSON null or any casing of "null".

    Opaque and case-sensitive (as the vendor's), but one string has one form: NFC, so that
    a composed and a decomposed "é" are one externalId; invisible and format characters
    are refused (a look-alike of another person's id).
    """
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise DomainError(ErrorCode.REQUEST_FORMAT_INVALID, "externalId must be a string.", field)
    text = reject_nul(raw.strip(), field)
    if text == "" or text.lower() == "null":
        return None
    _refuse_format_characters(text, ErrorCode.BAD_REQUEST, field, "externalId")
    text = unicodedata.normalize("NFC", text)
    if len(text) > MAX_EXTERNAL_ID_LENGTH:
        raise DomainError(
            ErrorCode.BAD_REQUEST,
            f"externalId must be at most {MAX_EXTERNAL_ID_LENGTH} characters.",
            field,
        )
    return text


def looks_like_email(text: str) -> bool:
    return "@" in text


def try_phone(text: str) -> Phone | None:
    try:
        return parse_phone(text)
    except DomainError:
        return None
