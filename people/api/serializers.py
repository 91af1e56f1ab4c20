"""Request and response bodies of the People API v2, with the vendor's names.

Request serializers check JSON types only (``core.api.fields``); every rule about values
(lengths, enums, phone and email formats, custom attribute types) is the domain's and is
enforced by people.services. Response serializers describe the bodies for the OpenAPI document
and build them with ``person_body`` and friends: empty values are left out, as the vendor does.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from rest_framework import serializers

from core.api.fields import AnyJSONField, StrictStringField
from people import custom_attributes as attribute_types
from people import masking
from people.fields import LANGUAGE_MAX_LENGTH, STANDARD_FIELDS, vendor_value
from people.identifier_lookups import IDENTIFIER_TYPES
from people.models import (
    AttributeDefinition,
    DataType,
    Gender,
    IdentityKind,
    Origin,
    PersonType,
    Tag,
)
from people.name_keys import name_key
from people.profiles import Profile

MAX_BATCH = 1000
TIMESTAMP_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$"
# How the standard attributes are documented; the rules themselves live in people.fields.
STANDARD_SCHEMA: dict[str, dict[str, Any]] = {
    "type": {"enum": PersonType.values},
    "gender": {"enum": Gender.values},
    "birthDate": {"format": "date"},
    "preferredLanguage": {"max_length": LANGUAGE_MAX_LENGTH},
    "profilePicture": {"format": "uri"},
}
# Our origins in the vendor's IamOrigin vocabulary.
VENDOR_ORIGIN = {
    Origin.API: "API",
    Origin.UI: "PORTAL",
    Origin.ADMIN: "PORTAL",
    Origin.DEVICE: "PUSH",
}


def timestamp(value: dt.datetime) -> str:
    """``yyyy-MM-ddTHH:mm:ss`` in UTC, the vendor's format."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _standard_field(name: str, *, for_input: bool) -> StrictStringField:
    _, max_length = STANDARD_FIELDS[name]
    schema = {"max_length": max_length, **STANDARD_SCHEMA.get(name, {})}
    return StrictStringField(required=False, allow_null=for_input, **schema)


# ---------------------------------------------------------------------------------------------
# Requests


class PhoneInputSerializer(serializers.Serializer):
    number = StrictStringField(help_text="E.164, e.g. 41793026727 (+, spaces, dashes allowed)")


class EmailInputSerializer(serializers.Serializer):
    address = StrictStringField(max_length=254, format="email")


class ContactInformationInputSerializer(serializers.Serializer):
    phone = serializers.ListField(child=PhoneInputSerializer(), required=False, allow_null=True)
    email = serializers.ListField(child=EmailInputSerializer(), required=False, allow_null=True)


PersonInputSerializer = type(
    "PersonInputSerializer",
    (serializers.Serializer,),
    {
        "__doc__": "A person as sent: read-only fields (id, createdAt, push, ...) are ignored.",
        "__module__": __name__,
        **{name: _standard_field(name, for_input=True) for name in STANDARD_FIELDS},
        "tags": serializers.ListField(
            child=StrictStringField(max_length=256), required=False, allow_null=True
        ),
        "customAttributes": serializers.DictField(
            child=AnyJSONField(allow_null=True),
            required=False,
            allow_null=True,
            help_text="name -> value of a defined custom attribute; null removes it",
        ),
        "contactInformation": ContactInformationInputSerializer(required=False, allow_null=True),
    },
)


class ContactInformationRequestSerializer(serializers.Serializer):
    contactInformation = ContactInformationInputSerializer()  # noqa: N815


class IdentityQuerySerializer(serializers.Serializer):
    identifier = StrictStringField()
    type = StrictStringField(enum=list(IDENTIFIER_TYPES))
    sender = StrictStringField(
        required=False, allow_null=True, help_text="The application code, for type PUSH"
    )


class BatchCreateRequestSerializer(serializers.Serializer):
    people = PersonInputSerializer(many=True, min_length=1, max_length=MAX_BATCH)


class BatchUpdateItemSerializer(serializers.Serializer):
    query = IdentityQuerySerializer()
    update = PersonInputSerializer()


class BatchUpdateRequestSerializer(serializers.Serializer):
    people = BatchUpdateItemSerializer(many=True, min_length=1, max_length=MAX_BATCH)


class BatchQueryItemSerializer(serializers.Serializer):
    query = IdentityQuerySerializer()


class BatchQueryRequestSerializer(serializers.Serializer):
    people = BatchQueryItemSerializer(many=True, min_length=1, max_length=MAX_BATCH)


class MatchRequestSerializer(serializers.Serializer):
    identities = IdentityQuerySerializer(many=True, min_length=1, max_length=MAX_BATCH)


class TagInputSerializer(serializers.Serializer):
    name = StrictStringField(max_length=256)


class CustomAttributeInputSerializer(serializers.Serializer):
    name = StrictStringField(max_length=attribute_types.MAX_NAME_LENGTH)
    dataType = StrictStringField(enum=DataType.values)  # noqa: N815
    objectSchema = serializers.DictField(  # noqa: N815
        child=StrictStringField(enum=list(attribute_types.SCALAR_TYPES)),
        required=False,
        allow_null=True,
        help_text="LIST_OF_OBJECTS only: field name -> scalar data type",
    )
    description = StrictStringField(required=False, allow_null=True, max_length=512)


# ---------------------------------------------------------------------------------------------
# Responses


class PhoneContactSerializer(serializers.Serializer):
    number = serializers.CharField()


class EmailContactSerializer(serializers.Serializer):
    address = serializers.CharField()


class PushRegistrationSerializer(serializers.Serializer):
    registrationId = serializers.CharField()  # noqa: N815
    applicationId = serializers.CharField(help_text="The application code")  # noqa: N815
    isPrimary = serializers.BooleanField()  # noqa: N815
    systemData = serializers.DictField(child=AnyJSONField())  # noqa: N815
    additionalData = serializers.DictField(child=AnyJSONField())  # noqa: N815


class ContactInformationSerializer(serializers.Serializer):
    phone = PhoneContactSerializer(many=True)
    email = EmailContactSerializer(many=True)
    push = PushRegistrationSerializer(many=True, help_text="Read-only: the installations")


class PersonSerializerBase(serializers.Serializer):
    def to_representation(self, instance: Profile) -> dict[str, Any]:
        return person_body(instance)


PersonSerializer = type(
    "PersonSerializer",
    (PersonSerializerBase,),
    {
        "__doc__": "A person as returned: fields without a value are left out.",
        "__module__": __name__,
        "id": serializers.IntegerField(),
        **{name: _standard_field(name, for_input=False) for name in STANDARD_FIELDS},
        "origin": StrictStringField(required=False, enum=sorted(set(VENDOR_ORIGIN.values()))),
        "tags": serializers.ListField(child=serializers.CharField()),
        "customAttributes": serializers.DictField(child=AnyJSONField()),
        "contactInformation": ContactInformationSerializer(),
        "createdAt": StrictStringField(pattern=TIMESTAMP_PATTERN),
        "modifiedAt": StrictStringField(pattern=TIMESTAMP_PATTERN),
    },
)
PersonSerializer._declared_fields["type"].required = True


class PersonListSerializer(serializers.Serializer):
    persons = PersonSerializer(many=True)
    limit = serializers.IntegerField()
    page = serializers.IntegerField()
    orderBy = serializers.CharField()  # noqa: N815
    totalCount = serializers.IntegerField(required=False, help_text="Only when asked")  # noqa: N815


def person_body(profile: Profile) -> dict[str, Any]:
    """The vendor's IamPersonV2 of a profile (people.profiles)."""
    person = profile.person
    body: dict[str, Any] = {"id": person.pk, "type": person.type}
    for name in STANDARD_FIELDS:
        value = vendor_value(person, name)
        if value not in (None, "") and name != "type":
            body[name] = value
    if person.origin in VENDOR_ORIGIN:
        body["origin"] = VENDOR_ORIGIN[person.origin]
    body["tags"] = sorted((tag.name for tag in profile.tags), key=name_key)
    body["customAttributes"] = {
        row.definition.name: attribute_types.serialize_value(
            row.definition, attribute_types.from_row(row.definition, row)
        )
        for row in profile.attribute_values
    }
    identities = profile.identities
    body["contactInformation"] = {
        "phone": [{"number": i.value} for i in identities if i.kind == IdentityKind.PHONE],
        "email": [{"address": i.value} for i in identities if i.kind == IdentityKind.EMAIL],
        "push": [push_body(installation) for installation in profile.installations],
    }
    body["createdAt"] = timestamp(person.created_at)
    body["modifiedAt"] = timestamp(person.modified_at)
    return body


def masked_person_body(body: dict[str, Any]) -> dict[str, Any]:
    """A person body as a caller without the "see personal data" permission reads it: the
    externalId, phone numbers and email addresses masked (people.masking)."""
    masked = dict(body)
    if "externalId" in masked:
        masked["externalId"] = masking.mask_text(masked["externalId"])
    contacts = dict(masked.get("contactInformation") or {})
    if contacts:
        contacts["phone"] = [
            {**item, "number": masking.mask_phone(item["number"])}
            for item in contacts.get("phone", [])
        ]
        contacts["email"] = [
            {**item, "address": masking.mask_email(item["address"])}
            for item in contacts.get("email", [])
        ]
        masked["contactInformation"] = contacts
    return masked


def push_body(installation: Any) -> dict[str, Any]:
    return {
        "registrationId": installation.push_registration_id,
        "applicationId": installation.application.code,
        "isPrimary": installation.is_primary,
        "systemData": installation.system_data,
        "additionalData": installation.additional_data or {},
    }


class BatchErrorSerializer(serializers.Serializer):
    message = serializers.CharField()
    messageId = serializers.CharField()  # noqa: N815
    field = serializers.CharField(required=False)


class BatchCreateResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    status = serializers.IntegerField()
    id = serializers.IntegerField(required=False, help_text="The new person, when created")
    errors = BatchErrorSerializer(many=True, required=False)


class BatchCreateResponseSerializer(serializers.Serializer):
    results = BatchCreateResultSerializer(many=True)


class QueryEchoSerializer(serializers.Serializer):
    """The query of a batch item as it was sent (its well-formed parts)."""

    identifier = serializers.CharField(required=False)
    type = StrictStringField(required=False, enum=list(IDENTIFIER_TYPES))
    sender = serializers.CharField(required=False)


class BatchUpdateResultSerializer(serializers.Serializer):
    query = QueryEchoSerializer()
    status = serializers.IntegerField()
    isModified = serializers.BooleanField(required=False)  # noqa: N815
    errors = BatchErrorSerializer(many=True, required=False)


class BatchUpdateResponseSerializer(serializers.Serializer):
    results = BatchUpdateResultSerializer(many=True)


class BatchDeleteResultSerializer(serializers.Serializer):
    query = QueryEchoSerializer()
    status = serializers.IntegerField()
    errors = BatchErrorSerializer(many=True, required=False)


class BatchDeleteResponseSerializer(serializers.Serializer):
    results = BatchDeleteResultSerializer(many=True)


class MatchSerializer(serializers.Serializer):
    type = serializers.CharField()
    identifier = serializers.CharField()
    sender = serializers.CharField(required=False)
    personId = serializers.IntegerField()  # noqa: N815


class MatchResponseSerializer(serializers.Serializer):
    matches = MatchSerializer(many=True)


class TagSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    createdAt = StrictStringField(pattern=TIMESTAMP_PATTERN)  # noqa: N815
    modifiedAt = StrictStringField(pattern=TIMESTAMP_PATTERN)  # noqa: N815

    def to_representation(self, instance: Tag) -> dict[str, Any]:
        return tag_body(instance)


def tag_body(tag: Tag) -> dict[str, Any]:
    # Tags are never renamed: created is also the last modification.
    return {
        "id": tag.pk,
        "name": tag.name,
        "createdAt": timestamp(tag.created_at),
        "modifiedAt": timestamp(tag.created_at),
    }


class TagListSerializer(serializers.Serializer):
    tags = TagSerializer(many=True)
    limit = serializers.IntegerField()
    page = serializers.IntegerField()
    orderBy = serializers.CharField()  # noqa: N815
    totalCount = serializers.IntegerField(required=False)  # noqa: N815


class CustomAttributeSerializer(serializers.Serializer):
    name = serializers.CharField()
    dataType = StrictStringField(enum=DataType.values)  # noqa: N815
    objectSchema = serializers.DictField(  # noqa: N815
        child=StrictStringField(enum=list(attribute_types.SCALAR_TYPES)), required=False
    )
    description = serializers.CharField(required=False)
    createdAt = StrictStringField(pattern=TIMESTAMP_PATTERN)  # noqa: N815
    modifiedAt = StrictStringField(pattern=TIMESTAMP_PATTERN)  # noqa: N815

    def to_representation(self, instance: AttributeDefinition) -> dict[str, Any]:
        return custom_attribute_body(instance)


def custom_attribute_body(definition: AttributeDefinition) -> dict[str, Any]:
    body: dict[str, Any] = {"name": definition.name, "dataType": definition.data_type}
    if definition.object_schema:
        body["objectSchema"] = dict(definition.object_schema)
    if definition.description:
        body["description"] = definition.description
    body["createdAt"] = timestamp(definition.created_at)
    body["modifiedAt"] = timestamp(definition.created_at)
    return body


class CustomAttributeListSerializer(serializers.Serializer):
    customAttributes = CustomAttributeSerializer(many=True)  # noqa: N815
    limit = serializers.IntegerField()
    page = serializers.IntegerField()
    orderBy = serializers.CharField()  # noqa: N815
    totalCount = serializers.IntegerField(required=False)  # noqa: N815
