"""The operator's preferences form."""

from __future__ import annotations

from django import forms

from portal.time_zones import time_zone_names


class PreferencesForm(forms.Form):
    time_zone = forms.ChoiceField(
        required=False,
        label="Time zone",
        # static/js/times.js writes the browser's zone into the first option's text.
        widget=forms.Select(attrs={"data-browser-zone": ""}),
        help_text="Times are shown in this zone: relative (“3 hours ago”) with the exact time "
        "on hover, and the dashboard’s days and the search’s dates.",
        error_messages={
            "invalid_choice": "Time zone: “%(value)s” is not a time zone; choose one of the "
            "list (IANA names such as Europe/Zagreb)."
        },
    )

    def __init__(self, *args, browser_zone: str = "", **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        current = browser_zone or "not known yet"
        self.fields["time_zone"].choices = [
            ("", f"Use my browser’s time zone (currently {current})")
        ] + [(name, name) for name in time_zone_names()]
