"""The forms of the people admins (people/admin.py, directory/admin.py).

Each form parses input with the functions the UI and the API use and checks it with the
services' own checks (a DomainError shows at the field it concerns); the services check again
when they write.
"""

from __future__ import annotations

from typing import Any

import simplejson
from django import forms

from core.admin import ServiceModelForm
from core.api.json import JSONInputError, parse_json
from core.errors import DomainError
from people import custom_attributes as attribute_types
from people import event_definitions
from people.apply import check_external_id_free, check_identity_free
from people.changes import PersonChanges, replace_changes
from people.fields import STANDARD_FIELDS
from people.forms import split_lines
from people.identities import normalize_email, parse_phone
from people.models import (
    AttributeDefinition,
    ContactIdentity,
    CustomEventDefinition,
    IdentityKind,
    Person,
    Tag,
)
from people.services import check_definition_name_free, check_person_version, check_tag_name_free


def dumps_json(value: Any) -> str:
    return simplejson.dumps(value, use_decimal=True, ensure_ascii=False, indent=2, sort_keys=True)


# Where the person admin shows a DomainError's field (directory.admin.PersonAdmin).
PERSON_DOMAIN_FIELDS = {
    **{vendor: model_field for vendor, (model_field, _) in STANDARD_FIELDS.items()},
    "tags": "tags_text",
    "customAttributes": "custom_attributes_text",
}


class PersonAdminForm(ServiceModelForm):
    """Standard attributes as model fields; tags and custom attributes as text the services
    parse (one tag per line; custom attributes as a JSON object, as in the API)."""

    tags_text = forms.CharField(
        label="Tags",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One tag per line.",
    )
    custom_attributes_text = forms.CharField(
        label="Custom attributes",
        required=False,
        # A class, not a style attribute: the Content-Security-Policy refuses inline styles.
        widget=forms.Textarea(attrs={"rows": 6, "class": "monospace"}),
        help_text='A JSON object of name -> value, as in the API: {"Age": 31, "VIP": true}. '
        "Every attribute must be defined first; a name left out is removed.",
    )
    # The version the form was shown at: saving over a newer edit is refused (VERSION_CONFLICT).
    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Person
        fields = [model_field for model_field, _ in STANDARD_FIELDS.values()]

    class Media:
        css = {"all": ["css/admin.css"]}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        person = self.instance
        if person.pk:
            self.fields["tags_text"].initial = "\n".join(t.name for t in person.tags.all())
            values = person.attribute_values.select_related("definition")
            self.fields["custom_attributes_text"].initial = dumps_json(
                {
                    row.definition.name: attribute_types.serialize_value(
                        row.definition, attribute_types.from_row(row.definition, row)
                    )
                    for row in values
                }
            )
            self.fields["expected_version"].initial = person.version
        else:
            self.fields["custom_attributes_text"].initial = "{}"

    def standard_values(self) -> dict[str, Any]:
        """The standard attributes by their vendor names, as text (what the services parse)."""
        values: dict[str, Any] = {}
        for vendor, (model_field, _) in STANDARD_FIELDS.items():
            if model_field not in self.cleaned_data:
                continue
            value = self.cleaned_data[model_field]
            if hasattr(value, "isoformat"):
                value = value.isoformat()
            values[vendor] = value
        return values

    def tag_names(self) -> list[str]:
        text = self.cleaned_data.get("tags_text") or ""
        return split_lines(text)

    def custom_attribute_values(self) -> dict[str, Any] | None:
        text = (self.cleaned_data.get("custom_attributes_text") or "").strip() or "{}"
        try:
            return parse_json(text)
        except JSONInputError as error:
            self.add_error("custom_attributes_text", f"{error}.")
            return None

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        custom = self.custom_attribute_values()
        if custom is None:
            return cleaned
        try:
            self.person_changes = replace_changes(
                fields=self.standard_values(), tags=self.tag_names(), custom_attributes=custom
            )
        except DomainError as error:
            self.add_domain_error(error, PERSON_DOMAIN_FIELDS)
            return cleaned
        for error in person_refusals(
            self.instance, self.person_changes, self.cleaned_data.get("expected_version")
        ):
            self.add_domain_error(error, PERSON_DOMAIN_FIELDS)
        return cleaned


class IdentityForm(ServiceModelForm):
    """A phone or an email, checked with the same normalization the services use, and
    refused when it belongs to another person (the services never merge two people)."""

    # What is typed, not what is stored (the services normalize it): the model's unique
    # constraint on (kind, value) does not judge it, the owner check below does.
    value = forms.CharField(max_length=320)
    domain_field_names = {
        "value": "value",
        "contactInformation.phone": "value",
        "contactInformation.email": "value",
    }

    class Meta:
        model = ContactIdentity
        fields = ("kind", "value")
        exclude = ("value",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial.setdefault("value", self.instance.value)

    def person_id(self) -> int | None:
        return self.instance.person_id

    def clean(self):
        cleaned = super().clean()
        kind, value = cleaned.get("kind"), cleaned.get("value")
        if kind and value:
            stored = self.check(lambda: stored_identity(kind, value))
            if stored is not None:
                field = f"contactInformation.{kind.lower()}"
                self.check(lambda: check_identity_free(kind, stored, self.person_id(), field))
        return cleaned


def stored_identity(kind: str, value: str) -> str:
    """A phone or an email as the services store it (a refusal names the field ``value``)."""
    if kind == IdentityKind.PHONE:
        return parse_phone(value, field="value").number
    return normalize_email(value, field="value")


def person_refusals(
    person: Person, changes: PersonChanges, expected_version: int | None
) -> list[DomainError]:
    """What person_create or person_update would refuse for the stored rows: an externalId of
    another person, an edit of an older version (they check again under their locks)."""
    checks = []
    external_id = changes.fields.get("external_id")
    if external_id:
        checks.append(lambda: check_external_id_free(external_id, person.pk))
    if person.pk:
        checks.append(lambda: check_person_version(person, expected_version))
    refusals = []
    for check in checks:
        try:
            check()
        except DomainError as error:
            refusals.append(error)
    return refusals


class StandaloneIdentityForm(IdentityForm):
    class Meta:
        model = ContactIdentity
        fields = ("person", "kind", "value")
        exclude = ("value",)

    def person_id(self) -> int | None:
        person = self.cleaned_data.get("person")
        return person.pk if person else None


class TagForm(ServiceModelForm):
    """A new tag: the name as tag_create checks it, and not one that exists in another case."""

    domain_field_names = {"name": "name"}

    class Meta:
        model = Tag
        fields = ("name",)

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk or not cleaned.get("name"):
            return cleaned
        self.check(lambda: check_tag_name_free(cleaned["name"]))
        return cleaned


class DefinitionForm(ServiceModelForm):
    """A custom attribute definition, checked as attribute_definition_create and _update do."""

    object_schema = forms.JSONField(
        required=False,
        help_text='LIST_OF_OBJECTS only: field name -> type, e.g. {"sku": "STRING", '
        '"price": "DECIMAL"}.',
    )
    domain_field_names = {
        "name": "name",
        "dataType": "data_type",
        "objectSchema": "object_schema",
        "description": "description",
    }

    class Meta:
        model = AttributeDefinition
        fields = ("name", "data_type", "object_schema", "description")

    def clean(self):
        cleaned = super().clean()
        if "data_type" in self.fields and "data_type" not in self.errors:
            data_type = self.check(lambda: attribute_types.validate_data_type(cleaned["data_type"]))
            if data_type and "object_schema" not in self.errors:
                self.check(
                    lambda: attribute_types.validate_object_schema(
                        data_type, cleaned.get("object_schema")
                    )
                )
        if "name" in self.errors:
            return cleaned
        name = self.check(lambda: attribute_types.validate_definition_name(cleaned.get("name")))
        if name:
            self.check(lambda: check_definition_name_free(name, other_than=self.instance.pk))
        return cleaned


class EventDefinitionForm(ServiceModelForm):
    """Checked as event_definition_create does: the id's form, a new id, the fields' shape.
    Taking a field away or retyping it is refused by event_definition_update (an error
    message, nothing saved)."""

    domain_field_names = {
        "definitionId": "definition_id",
        "title": "title",
        "description": "description",
        "fields": "fields",
    }

    class Meta:
        model = CustomEventDefinition
        fields = ("definition_id", "title", "description", "fields")

    def clean(self):
        cleaned = super().clean()
        if "fields" not in self.errors:
            self.check(lambda: event_definitions.clean_fields(cleaned.get("fields")))
        definition_id = cleaned.get("definition_id")
        if self.instance.pk or not definition_id:
            return cleaned
        if self.check(lambda: event_definitions.check_definition_id(definition_id)):
            self.check(lambda: event_definitions.check_definition_id_free(definition_id))
        return cleaned
