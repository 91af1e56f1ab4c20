"""What a bulk action is started on and with, as an operator gives it.

The population (PopulationForm): the search page's own query string, read by its form
(directory.forms.SearchForm) when everyone matching is chosen, or the ids of the rows
selected. The parameters (one form per action kind, ACTION_FORMS): typed fields read into
the ``params`` the action's ``clean_params`` takes (jobs.actions); the action keeps its own
rules, these forms only read text into values and show a rule's error at its field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.functional import cached_property

from core.api.json import unstorable_text
from core.errors import DomainError
from directory.forms import SearchForm
from directory.search import SearchQuery
from installations.models import Application
from jobs.actions import SELECTION_LIMIT
from people.custom_attributes import parse_value, read_value_text
from people.forms import split_list
from people.models import AttributeDefinition, DataType, PersonType
from populations.population import selection

# Rows selected by hand (jobs.actions.SELECTION_LIMIT, the limit admin's actions keep too).
MAX_SELECTED = SELECTION_LIMIT
# Parameters of the search page that say where its page is, not who is in the population.
PAGE_POSITION = ("after", "start", "go")


def search_params(data: QueryDict) -> QueryDict:
    """The search's own parameters of ``data`` (the bulk page's query string): what is not
    the bulk page's own (ids, all, action) nor the page's position."""
    params = data.copy()
    for name in ("ids", "all", "action", "query", *PAGE_POSITION):
        params.pop(name, None)
    return params


@dataclass(frozen=True)
class Population:
    """Everyone a search finds (``query``) or the people selected (``ids``)."""

    query: SearchQuery | None
    ids: list[int] = field(default_factory=list)
    query_string: str = ""

    @property
    def is_selection(self) -> bool:
        return self.query is None

    @property
    def is_everyone(self) -> bool:
        """All matching a search with no condition: every person."""
        return self.query is not None and not (self.query.q.strip() or self.query.has_filters)

    def stored(self) -> dict[str, Any]:
        """The population as a job stores it (populations.population)."""
        return selection(self.ids) if self.query is None else self.query.to_dict()


class SelectedIdsField(forms.Field):
    """Person ids, as many hidden inputs (or checkboxes) named alike."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[int]:
        texts = value if isinstance(value, list | tuple) else ([value] if value else [])
        ids = []
        for text in texts:
            text = str(text).strip()
            if not text.isdigit() or len(text) > 18:
                raise forms.ValidationError(f"Not a person's id: {text[:40]!r}.", code="invalid")
            ids.append(int(text))
        ids = sorted(set(ids))
        if len(ids) > MAX_SELECTED:
            raise forms.ValidationError(
                f"At most {MAX_SELECTED:,} people can be selected by row; "
                "select all matching the search instead.",
                code="max",
            )
        return ids


class PopulationForm(forms.Form):
    """``query``: the search page's query string; ``all``: everyone it finds, else ``ids``."""

    query = forms.CharField(required=False, widget=forms.HiddenInput)
    ids = SelectedIdsField(required=False)
    all = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        if data.get("all"):
            search = SearchForm(QueryDict(data.get("query") or ""), given_choices_only=True)
            if not search.is_valid():
                problems = " ".join(e for errors in search.errors.values() for e in errors)
                raise forms.ValidationError(f"The search is not valid: {problems}", code="query")
            data["population"] = Population(search.to_query(), [], data.get("query") or "")
        elif data.get("ids"):
            data["population"] = Population(None, data["ids"], data.get("query") or "")
        else:
            raise forms.ValidationError(
                "Select people in the list, or all people matching the search.", code="empty"
            )
        return data

    @property
    def population(self) -> Population:
        return self.cleaned_data["population"]

    @classmethod
    def from_search_page(cls, data: QueryDict) -> PopulationForm:
        """The form of a link from the search page: the search's parameters as they are,
        with the selected ``ids`` and ``all``."""
        given = QueryDict(mutable=True)
        given["query"] = search_params(data).urlencode()
        given.setlist("ids", data.getlist("ids"))
        given["all"] = data.get("all", "")
        return cls(given)


# ---------------------------------------------------------------------------------------------
# The parameters of each kind of action


class ParamsForm(forms.Form):
    """An action's parameters; ``to_params`` the dict its ``clean_params`` takes."""

    # The action's names of its parameters (a DomainError's field) -> this form's fields.
    param_fields: dict[str, str] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def to_params(self) -> dict[str, Any]:
        return {}

    def add_domain_error(self, error: DomainError) -> None:
        """The action's refusal at the field it names ("tags", "params.value",
        "customAttributes.Score"), else above the form."""
        name = (error.field or "").rsplit(".", 1)[-1] if error.field else ""
        if (error.field or "").startswith("customAttributes.") and "value" in self.fields:
            name = "value"
        name = self.param_fields.get(name, name)
        self.add_error(name if name in self.fields else None, error.message)


class TagsForm(ParamsForm):
    tags = forms.CharField(
        label="Tags",
        help_text="Separate several with commas",
        max_length=20_000,
        widget=forms.TextInput(attrs={"list": "bulk-tag-suggestions", "autocomplete": "off"}),
    )

    def clean_tags(self) -> list[str]:
        names = split_list(self.cleaned_data["tags"])
        if not names:
            raise forms.ValidationError("Give at least one tag.", code="required")
        return names

    def to_params(self) -> dict[str, Any]:
        return {"tags": self.cleaned_data["tags"]}


def definition_choices() -> list[tuple[str, str]]:
    """Every attribute definition by name (one statement)."""
    definitions = AttributeDefinition.objects.order_by("name").only("name", "data_type")
    return [("", "Choose an attribute")] + [
        (d.name, f"{d.name} ({d.get_data_type_display()})") for d in definitions
    ]


def application_choices(empty: str) -> list[tuple[str, str]]:
    return [("", empty)] + list(Application.objects.order_by("name").values_list("code", "name"))


class AttributeRemoveForm(ParamsForm):
    name = forms.ChoiceField(label="Custom attribute")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].choices = definition_choices()

    def to_params(self) -> dict[str, Any]:
        return {"name": self.cleaned_data["name"]}


class AttributeSetForm(AttributeRemoveForm):
    """A value typed by the chosen definition (its input: templates' _bulk_value_field)."""

    value = forms.CharField(label="Value", required=False, max_length=10_000, strip=False)

    @cached_property
    def selected_definition(self) -> AttributeDefinition | None:
        name = self.data.get("name") if self.is_bound else None
        if not name or unstorable_text(name) is not None:
            return None
        return AttributeDefinition.objects.filter(name=name).only("name", "data_type").first()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        name = data.get("name")
        if not name:
            return data
        definition = self.selected_definition
        text = self.data.get("value", "")
        if definition is None:  # deleted since the page was shown
            self.add_error("name", f"There is no custom attribute {name} any more.")
        elif definition.data_type == DataType.LIST_OF_OBJECTS:
            self.add_error("name", f"{name} holds a list of objects: set it on each person's page.")
        elif not text.strip():
            self.add_error("value", f"Give a value for {name} (or remove the attribute instead).")
        else:
            value = read_value_text(definition, text.strip())
            try:
                parse_value(definition, value, from_text=True)
            except DomainError as error:
                self.add_error("value", error.message)
            else:
                data["value"] = value
        return data

    def to_params(self) -> dict[str, Any]:
        return {"name": self.cleaned_data["name"], "value": self.cleaned_data["value"]}


class TypeForm(ParamsForm):
    type = forms.ChoiceField(label="New type", choices=PersonType.choices)

    def to_params(self) -> dict[str, Any]:
        return {"type": self.cleaned_data["type"]}


class LogoutForm(ParamsForm):
    application = forms.ChoiceField(label="Application", required=False)
    empty_application = "Every application"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["application"].choices = application_choices(self.empty_application)

    def to_params(self) -> dict[str, Any]:
        code = self.cleaned_data.get("application")
        return {"application": code} if code else {}


class PushForm(LogoutForm):
    enabled = forms.ChoiceField(
        label="Push",
        choices=[("on", "On"), ("off", "Off")],
        widget=forms.RadioSelect,
    )
    field_order = ["enabled", "application"]

    def to_params(self) -> dict[str, Any]:
        return {"enabled": self.cleaned_data["enabled"] == "on", **super().to_params()}


ACTION_FORMS: dict[str, type[ParamsForm]] = {
    "tags.add": TagsForm,
    "tags.remove": TagsForm,
    "attribute.set": AttributeSetForm,
    "attribute.remove": AttributeRemoveForm,
    "type.change": TypeForm,
    "push.set": PushForm,
    "installations.logout": LogoutForm,
    "people.delete": ParamsForm,
}


def params_form(kind: str, data: QueryDict | None = None) -> ParamsForm:
    """The parameter form of an action kind (an action with no form of its own takes none)."""
    return ACTION_FORMS.get(kind, ParamsForm)(data)
