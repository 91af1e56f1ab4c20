"""Operator UI forms. They parse what the browser sends; the rules live in the services.

Fields are named in the vendor's spelling (``firstName``, ``birthDate``) so that a
DomainError's ``field`` names the form field it belongs to.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.db.models.functions import Lower
from django.urls import reverse

from core.errors import DomainError
from people import custom_attributes as attribute_types
from people.fields import LANGUAGE_MAX_LENGTH, STANDARD_FIELDS
from people.models import AttributeDefinition, DataType, Gender, Person, PersonType
from people.operator_messages import LABELS, operator_message

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
        # In the form's words (labels, formatted phones, the other person's name and link).
        self.add_error(name, operator_message(error))  # type: ignore[attr-defined]
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
        attrs["maxlength"] = LANGUAGE_MAX_LENGTH
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
    # The values of ``version`` as the form showed them (JSON): a save over a newer version
    # writes only the fields the operator changed from these (``loaded_values``).
    loaded = forms.CharField(widget=forms.HiddenInput, required=False, strip=False)

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
        initial["loaded"] = json.dumps({name: initial[name] for name in STANDARD_FIELDS})
        return initial

    def standard_values(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) or "" for name in STANDARD_FIELDS}

    def loaded_values(self) -> dict[str, str] | None:
        """The values the form was loaded with (None from a client that does not send them:
        then every field counts as the operator's)."""
        try:
            loaded = json.loads(self.cleaned_data.get("loaded") or "null")
        except ValueError:
            return None
        if not isinstance(loaded, dict) or set(loaded) != set(STANDARD_FIELDS):
            return None
        return {name: str(loaded[name] or "") for name in STANDARD_FIELDS}


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
        help_text=(
            "One per line or separated by commas, with the country code, in any common"
            " format: +385 1 6419-710"
        ),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    emails = forms.CharField(
        required=False,
        label="Emails",
        help_text="One per line or separated by commas",
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
            help_text="Separated by commas; existing tags are suggested as you type",
            # The person page's suggestions: existing tags starting with the last name typed.
            widget=forms.TextInput(
                attrs={
                    "list": "tag-suggestions",
                    "autocomplete": "off",
                    "hx-get": reverse("people:tag_suggestions"),
                    "hx-trigger": "input changed delay:200ms",
                    "hx-target": "#tag-suggestions",
                    "hx-swap": "innerHTML",
                    "hx-sync": "this:replace",
                }
            ),
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
            "phones": split_list(data.get("phones") or ""),
            "emails": split_list(data.get("emails") or ""),
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
