"""The built-in views: the device hygiene conditions (directory.search.hygiene), each a fixed
query with a name and a description, that every operator and every API key may open and act
on. Their keys are part of their URLs (/views/hygiene/<key>/) and the API's view ids
(``hygiene-<key>``): they do not change."""

from __future__ import annotations

from dataclasses import dataclass

from directory.search import SearchQuery
from directory.search.hygiene import DEFAULT_STALE_DAYS

API_PREFIX = "hygiene-"


@dataclass(frozen=True)
class BuiltinView:
    key: str
    name: str
    description: str
    fields: tuple[tuple[str, object], ...]

    @property
    def query(self) -> SearchQuery:
        """A fresh query each time (a SearchQuery is mutable)."""
        return SearchQuery(**dict(self.fields))

    @property
    def api_id(self) -> str:
        return API_PREFIX + self.key


BUILTIN_VIEWS = (
    BuiltinView(
        "stale-devices",
        f"Devices not updated in {DEFAULT_STALE_DAYS} days",
        f"People with an installation that nothing has updated for {DEFAULT_STALE_DAYS} days "
        "or more: a device that no longer reports, or an app no longer used.",
        (("stale_days", DEFAULT_STALE_DAYS),),
    ),
    BuiltinView(
        "no-primary",
        "Several devices, none primary",
        "People with two or more installations and no primary one: messages meant for the "
        "primary device reach none of them.",
        (("several_no_primary", True),),
    ),
    BuiltinView(
        "push-off-notifying",
        "Push off, notifications on",
        "People with an installation whose push an operator or the API turned off while the "
        "device has notifications enabled.",
        (("push_off_notifying", True),),
    ),
    BuiltinView(
        "logged-out",
        "Logged-out devices",
        "Anonymous profiles holding installations: no externalId, phone or email. A logout "
        "(remote or by the app) moves the installation to such a profile; a device that "
        "never logged in has one too.",
        (("anonymous", True),),
    ),
    BuiltinView(
        "duplicate-devices",
        "The same device twice",
        "People with two registrations of one device fingerprint: the same application, "
        "device model and OS.",
        (("duplicate_devices", True),),
    ),
)
BY_KEY = {view.key: view for view in BUILTIN_VIEWS}


def builtin_view(key: str) -> BuiltinView | None:
    return BY_KEY.get(key)
