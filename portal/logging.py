"""Keeps personal data out of the application logs: emails, phone numbers and API keys in a
log record are masked before any handler writes it."""

from __future__ import annotations

import logging
import re

from people.identities import try_phone

_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(\.[\w-]+)+")
# Seven or more digits, optionally with the decorations people type in phone numbers.
_PHONE = re.compile(r"(?<![\w.])\+?\d[\d\s().-]{5,}\d(?![\w.])")
_APP_KEY = re.compile(r"(?i)\b(App|Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}")
# A device's push registration id in a URL path (/mobile/1/appinstance/<pushRegId>/...,
# /people/2/contactInformation/push/<pushRegId>/...): it identifies a person's device.
_DEVICE_ID_IN_PATH = re.compile(r"(/mobile/1/appinstance/|/contactInformation/push/)[^/?#\s]+")


# Timestamps have the shape of a decorated number ("2026-11-24 03"): they stay as they are.
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def _mask_phone(match: re.Match) -> str:
    """Mask what reads as a phone number: a long bare run of digits (38516419710), or a
    decorated one that phonenumbers accepts. Dates, times and addresses stay readable."""
    text = match.group(0)
    if _DATE.match(text):
        return text
    if text.isdigit() and len(text) >= 9 or try_phone(text) is not None:
        return text[:2] + "[phone]"
    return text


def mask(text: str) -> str:
    text = _APP_KEY.sub(lambda m: f"{m.group(1)} [key]", text)
    text = _DEVICE_ID_IN_PATH.sub(r"\1[device]", text)
    text = _EMAIL.sub("[email]", text)
    return _PHONE.sub(_mask_phone, text)


class PersonalDataFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is logged as it is
            return True
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
