"""The search page's form: the box and the filters, read into the one query (SearchQuery)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db import connection

from core.api.json import unstorable_text
from core.errors import DomainError
from directory.search import PAGE_SIZES, SORTS, SearchQuery
from directory.search.filters import created_day
from directory.search.hygiene import MAX_STALE_DAYS
from installations.models import Application, Platform
from people.forms import split_list
from people.models import AttributeDefinition, PersonType

YES_NO = [("", "Any"), ("yes", "Yes"), ("no", "No")]
ATTRIBUTE_OPERATORS = [
    ("eq", "="),
    ("gt", ">"),
    ("gte", "≥"),
    ("lt", "<"),
    ("lte", "≤"),
]


# ---------------------------------------------------------------------------------------------
# Search

# The query's fields that the search page's form sets (SearchForm.to_query).
SEARCH_PAGE_FIELDS = frozenset(
    {
        "q",
        "type",
        "tags",
        "application",
        "platform",
        "has_primary",
        "push_enabled",
        "attribute",
        "attribute_value",
        "attribute_op",
        "created_from",
        "created_to",
        "installed_from",
        "installed_to",
        "sort",
        "page_size",
        "stale_days",
        "several_no_primary",
        "push_off_notifying",
        "anonymous",
        "duplicate_devices",
    }
)


def select_choices() -> tuple[list[tuple[str, str]], list[AttributeDefinition]]:
    """The applications, (code, name) by name, and the attribute definitions by name (any
    casing; name and data type loaded, the rest deferred) that the search filters offer: one
    statement for both, read each time the filters are shown (an administrator's new
    application or attribute shows at once)."""
    applications = Application
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 0, name, code, name, NULL FROM {quote(applications._meta.db_table)}"
            " UNION ALL"
            f" SELECT 1, LOWER(name), name, data_type, id"
            f" FROM {quote(AttributeDefinition._meta.db_table)}"
            " ORDER BY 1, 2"
        )
        rows = cursor.fetchall()
    apps = [(code, name) for part, _, code, name, _ in rows if part == 0]
    definitions = [
        AttributeDefinition.from_db(
            connection.alias, ["id", "name", "data_type"], [pk, name, data_type]
        )
        for part, _, name, data_type, pk in rows
        if part == 1
    ]
    return apps, definitions


class SearchForm(forms.Form):
    q = forms.CharField(
        required=False,
        label="Search",
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": "Push registration id, phone, email, external id or name",
                "autocomplete": "off",
                "autofocus": True,
            }
        ),
    )
    type = forms.ChoiceField(
        required=False, choices=[("", "Any")] + PersonType.choices, label="Type"
    )
    tags = forms.CharField(
        required=False,
        label="Tags",
        help_text="All of these, separated by commas",
        widget=forms.TextInput(attrs={"list": "tag-suggestions", "autocomplete": "off"}),
    )
    app = forms.ChoiceField(required=False, label="Application")
    platform = forms.ChoiceField(
        required=False, choices=[("", "Any")] + list(Platform.choices), label="Platform"
    )
    primary = forms.ChoiceField(required=False, choices=YES_NO, label="Has a primary device")
    push = forms.ChoiceField(required=False, choices=YES_NO, label="Push enabled")
    attribute = forms.ChoiceField(required=False, label="Custom attribute")
    op = forms.ChoiceField(required=False, choices=ATTRIBUTE_OPERATORS, label="Comparison")
    value = forms.CharField(required=False, label="Attribute value")
    # Days in the operator's time zone, read by the query's own parser (created_day).
    created_from = forms.CharField(
        required=False,
        label="Created from",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    created_to = forms.CharField(
        required=False,
        label="Created to",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    installed_from = forms.CharField(
        required=False,
        label="A device registered from",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    installed_to = forms.CharField(
        required=False,
        label="A device registered to",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    sort = forms.ChoiceField(
        required=False, choices=[("", "Newest first")] + [(s, s) for s in SORTS], label="Sort"
    )
    size = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        choices=[(str(n), str(n)) for n in PAGE_SIZES],
        label="Rows per page",
    )
    # Device hygiene (directory.search.hygiene), each named as the query's field.
    stale_days = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_STALE_DAYS, label="A device not updated in"
    )
    several_no_primary = forms.BooleanField(required=False, label="Several devices, none primary")
    push_off_notifying = forms.BooleanField(
        required=False, label="Push off on a device with notifications on"
    )
    anonymous = forms.BooleanField(required=False, label="Anonymous, with devices (logged out)")
    duplicate_devices = forms.BooleanField(required=False, label="The same device twice")

    def __init__(self, *args: Any, given_choices_only: bool = False, **kwargs: Any) -> None:
        """``given_choices_only``: the form is validated, not shown (the results answered to
        the search box), so the application and attribute selects hold only the values
        given, read only when one is: no query for a search that names neither."""
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        if given_choices_only:
            applications = Application
            app, attribute = (self._storable(name) for name in ("app", "attribute"))
            apps = list(
                applications.objects.filter(code=app).values_list("code", "name") if app else []
            )
            definitions = list(
                AttributeDefinition.objects.filter(name=attribute).only("name", "data_type")
                if attribute
                else []
            )
        else:
            apps, definitions = select_choices()
        self.fields["app"].choices = [("", "Any")] + apps
        self.definitions = {d.name: d for d in definitions}
        self.fields["attribute"].choices = [("", "Any")] + [
            (name, f"{name} ({d.get_data_type_display()})") for name, d in self.definitions.items()
        ]

    def _storable(self, name: str) -> str | None:
        """The value given for ``name`` if a column could hold it (one with a NUL cannot be a
        choice, and the database would refuse to compare it), else None."""
        value = self.data.get(name) if self.is_bound else None
        return value if value and unstorable_text(value) is None else None

    @property
    def selected_definition(self) -> AttributeDefinition | None:
        name = self.data.get("attribute") if self.is_bound else None
        return self.definitions.get(name or "")

    def _created(self, name: str, field: str) -> str:
        text = (self.cleaned_data.get(name) or "").strip()
        if not text:
            return ""
        try:
            return created_day(text, field).isoformat()
        except DomainError as error:
            raise forms.ValidationError(error.message, code="invalid") from None

    def clean_created_from(self) -> str:
        return self._created("created_from", "createdFrom")

    def clean_created_to(self) -> str:
        return self._created("created_to", "createdTo")

    def clean_installed_from(self) -> str:
        return self._created("installed_from", "installedFrom")

    def clean_installed_to(self) -> str:
        return self._created("installed_to", "installedTo")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        first, last = data.get("created_from"), data.get("created_to")
        if first and last and last < first:
            self.add_error("created_to", f"Created to ({last}) is before created from ({first}).")
        first, last = data.get("installed_from"), data.get("installed_to")
        if first and last and last < first:
            self.add_error(
                "installed_to",
                f"A device registered to ({last}) is before registered from ({first}).",
            )
        return data

    def to_query(self) -> SearchQuery:
        data = self.cleaned_data
        flag = {"yes": True, "no": False}
        return SearchQuery(
            q=data.get("q") or "",
            type=data.get("type") or None,
            tags=split_list(data.get("tags") or ""),
            application=data.get("app") or None,
            platform=data.get("platform") or None,
            has_primary=flag.get(data.get("primary") or ""),
            push_enabled=flag.get(data.get("push") or ""),
            attribute=data.get("attribute") or None,
            attribute_value=data.get("value") or None,
            attribute_op=data.get("op") or "eq",
            created_from=data.get("created_from") or None,
            created_to=data.get("created_to") or None,
            installed_from=data.get("installed_from") or None,
            installed_to=data.get("installed_to") or None,
            sort=data.get("sort") or None,
            page_size=data.get("size"),
            stale_days=data.get("stale_days"),
            several_no_primary=bool(data.get("several_no_primary")),
            push_off_notifying=bool(data.get("push_off_notifying")),
            anonymous=bool(data.get("anonymous")),
            duplicate_devices=bool(data.get("duplicate_devices")),
        )

    @staticmethod
    def params_of(query: SearchQuery) -> list[tuple[str, str]]:
        """The form's parameters that ``to_query`` reads back as ``query`` (its search page
        fields; the API's own ones have no field here): how a saved view opens the page."""
        names = {
            "application": "app",
            "has_primary": "primary",
            "push_enabled": "push",
            "attribute_op": "op",
            "attribute_value": "value",
            "page_size": "size",
        }
        params: list[tuple[str, str]] = []
        for name, value in query.to_dict().items():
            if name not in SEARCH_PAGE_FIELDS:
                continue
            if name == "tags":
                text = ", ".join(value)
            elif isinstance(value, bool):
                text = "yes" if value else "no"
            else:
                text = str(value)
            params.append((names.get(name, name), text))
        return params

    def add_domain_error(self, error: DomainError) -> None:
        names = {
            "attribute": "attribute",
            "attributeValue": "value",
            "attributeOp": "op",
            "createdFrom": "created_from",
            "createdTo": "created_to",
            "installedFrom": "installed_from",
            "installedTo": "installed_to",
            "staleDays": "stale_days",
        }
        self.add_error(names.get(error.field or ""), error.message)
