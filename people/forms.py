"""Operator UI forms. They parse what the browser sends; the rules live in the services.

Fields are named in the vendor's spelling (``firstName``, ``birthDate``) so that a
DomainError's ``field`` names the form field it belongs to.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db import connection
from django.db.models.functions import Lower

from core.api.json import unstorable_text
from core.errors import DomainError
from people import custom_attributes as attribute_types
from people.fields import STANDARD_FIELDS
from people.models import AttributeDefinition, DataType, Gender, Person, PersonType
from people.search import SearchQuery, installation_model

YES_NO = [("", "Any"), ("yes", "Yes"), ("no", "No")]
PLATFORMS = ["Android", "iOS", "Huawei"]
ATTRIBUTE_OPERATORS = [
    ("eq", "="),
    ("gt", ">"),
    ("gte", "≥"),
    ("lt", "<"),
    ("lte", "≤"),
]
# HTML input type per custom attribute data type. DECIMAL is a text input with a decimal
# keyboard: a number input would silently drop what it cannot read instead of letting the
# service name the rule.
INPUT_TYPES = {
    DataType.STRING: "text",
    DataType.INTEGER: "number",
    DataType.DECIMAL: "text",
    DataType.BOOLEAN: "checkbox",
    DataType.DATE: "date",
    DataType.DATE_TIME: "datetime-local",
}

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


def split_list(text: str) -> list[str]:
    """Names or values separated by commas or new lines, blanks dropped."""
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


class DomainErrorsMixin:
    """Show a DomainError at the form field it names (or above the form)."""

    field_prefixes: dict[str, str] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]

    def add_domain_error(self, error: DomainError) -> None:
        name = self.field_for(error.field)
        self.add_error(name, error.message)  # type: ignore[attr-defined]
        self.domain_error = error

    def field_for(self, domain_field: str | None) -> str | None:
        if not domain_field:
            return None
        fields = self.fields  # type: ignore[attr-defined]
        if domain_field in fields:
            return domain_field
        for prefix, name in self.field_prefixes.items():
            if domain_field.startswith(prefix) and name in fields:
                return name
        return None


# ---------------------------------------------------------------------------------------------
# Search


def select_choices() -> tuple[list[tuple[str, str]], list[AttributeDefinition]]:
    """The applications, (code, name) by name, and the attribute definitions by name (any
    casing; name and data type loaded, the rest deferred) that the search filters offer: one
    statement for both, read each time the filters are shown (an administrator's new
    application or attribute shows at once)."""
    applications = installation_model()._meta.get_field("application").related_model
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
        required=False, choices=[("", "Any")] + [(p, p) for p in PLATFORMS], label="Platform"
    )
    primary = forms.ChoiceField(required=False, choices=YES_NO, label="Has a primary device")
    push = forms.ChoiceField(required=False, choices=YES_NO, label="Push enabled")
    attribute = forms.ChoiceField(required=False, label="Custom attribute")
    op = forms.ChoiceField(required=False, choices=ATTRIBUTE_OPERATORS, label="Comparison")
    value = forms.CharField(required=False, label="Attribute value")

    def __init__(self, *args: Any, given_choices_only: bool = False, **kwargs: Any) -> None:
        """``given_choices_only``: the form is validated, not shown (the results answered to
        the search box), so the application and attribute selects hold only the values
        given, read only when one is: no query for a search that names neither."""
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        if given_choices_only:
            applications = installation_model()._meta.get_field("application").related_model
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
        )

    def add_domain_error(self, error: DomainError) -> None:
        names = {"attribute": "attribute", "attributeValue": "value", "attributeOp": "op"}
        self.add_error(names.get(error.field or ""), error.message)


# ---------------------------------------------------------------------------------------------
# A person's standard attributes


def _standard_field(name: str) -> forms.Field:
    _, max_length = STANDARD_FIELDS[name]
    label = LABELS[name]
    if name == "type":
        return forms.ChoiceField(choices=PersonType.choices, label=label)
    if name == "gender":
        return forms.ChoiceField(
            choices=[("", "Not set")] + Gender.choices, required=False, label=label
        )
    attrs: dict[str, Any] = {}
    help_text = ""
    if max_length:
        attrs["maxlength"] = max_length
        help_text = f"At most {max_length} characters"
    if name == "birthDate":
        attrs["type"] = "date"
        help_text = "YYYY-MM-DD, not in the future"
    if name == "preferredLanguage":
        help_text = "Language code such as en or en-GB"
        attrs["maxlength"] = 5
    if name == "profilePicture":
        attrs["type"] = "url"
    return forms.CharField(
        required=False,
        label=label,
        help_text=help_text,
        strip=False,
        widget=forms.TextInput(attrs=attrs),
    )


class PersonForm(DomainErrorsMixin, forms.Form):
    """Basic information: every standard attribute, sent whole to ``person_set_fields``."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in STANDARD_FIELDS:
            self.fields[name] = _standard_field(name)

    @classmethod
    def initial_for(cls, person: Person) -> dict[str, Any]:
        initial: dict[str, Any] = {"version": person.version}
        for name, (model_field, _) in STANDARD_FIELDS.items():
            value = getattr(person, model_field)
            initial[name] = value.isoformat() if hasattr(value, "isoformat") else (value or "")
        return initial

    def standard_values(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) or "" for name in STANDARD_FIELDS}


class PersonCreateForm(DomainErrorsMixin, forms.Form):
    """Contact information, then basic information, then tags and custom attributes."""

    field_prefixes = {
        "contactInformation.phone": "phones",
        "contactInformation.email": "emails",
        "tags": "tags",
    }

    phones = forms.CharField(
        required=False,
        label="Phones",
        help_text="One per line, any common format: +385 1 6419-710",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    emails = forms.CharField(
        required=False,
        label="Emails",
        help_text="One per line",
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in STANDARD_FIELDS:
            self.fields[name] = _standard_field(name)
        self.fields["type"].initial = PersonType.CUSTOMER
        self.fields["tags"] = forms.CharField(
            required=False,
            label="Tags",
            help_text="Separated by commas",
            widget=forms.TextInput(attrs={"list": "tag-suggestions", "autocomplete": "off"}),
        )
        # Scalar custom attributes; lists of objects are edited on the person page.
        self.attribute_fields: dict[str, AttributeDefinition] = {}
        for index, definition in enumerate(
            AttributeDefinition.objects.exclude(data_type=DataType.LIST_OF_OBJECTS).order_by(
                Lower("name")
            )
        ):
            field_name = f"attribute_{index}"
            self.attribute_fields[field_name] = definition
            self.fields[field_name] = attribute_form_field(definition)

    def field_for(self, domain_field: str | None) -> str | None:
        for field_name, definition in self.attribute_fields.items():
            if domain_field == f"customAttributes.{definition.name}":
                return field_name
        return super().field_for(domain_field)

    def basic_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in STANDARD_FIELDS]

    def attribute_bound_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.attribute_fields]

    def service_arguments(self) -> dict[str, Any]:
        """``person_create``'s arguments: the typed text read as values of each type
        (``read_text``; what does not read as one is left for the service to refuse)."""
        data = self.cleaned_data
        custom: dict[str, Any] = {}
        for field_name, definition in self.attribute_fields.items():
            raw = data.get(field_name)
            if definition.data_type == DataType.BOOLEAN:
                if raw:
                    custom[definition.name] = True
            elif raw not in (None, ""):
                custom[definition.name] = attribute_types.read_text(definition.data_type, raw)
        return {
            "fields": {name: data.get(name) or "" for name in STANDARD_FIELDS},
            "phones": split_lines(data.get("phones") or ""),
            "emails": split_lines(data.get("emails") or ""),
            "tags": split_list(data.get("tags") or ""),
            "custom_attributes": custom,
        }


def split_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def attribute_form_field(definition: AttributeDefinition) -> forms.Field:
    """A form field for a scalar custom attribute: text, read as the type by
    ``service_arguments`` and checked by the service."""
    label = f"{definition.name} ({definition.get_data_type_display()})"
    if definition.data_type == DataType.BOOLEAN:
        return forms.BooleanField(required=False, label=label)
    attrs: dict[str, Any] = {"type": INPUT_TYPES[definition.data_type]}
    if definition.data_type == DataType.DECIMAL:
        attrs["inputmode"] = "decimal"
    if definition.data_type == DataType.INTEGER:
        attrs["step"] = "1"
    if definition.data_type == DataType.DATE_TIME:
        attrs["step"] = "1"
    return forms.CharField(
        required=False, label=label, strip=False, widget=forms.TextInput(attrs=attrs)
    )


def attribute_value(definition: AttributeDefinition, submitted: Any) -> Any:
    """What a custom attribute's editor on the person page sent (text, or a list of
    {field: text} for a list of objects; None removes the value) as values of the attribute's
    type, for ``person_set_custom_attributes`` (``read_value_text``)."""
    return attribute_types.read_value_text(definition, submitted)
