"""The People API v2: persons, contact information, batches, match, tags, custom attributes.

Each view authorizes (permission classes), parses (serializers check JSON types), calls one
service or selector, and renders the vendor's body. Rules are the domain's: a DomainError
becomes the vendor's error body in core.api.errors.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import status
from rest_framework.response import Response

from core.api.errors import RequestFormatInvalid
from core.api.schema import error_responses
from core.api.views import VendorAPIView
from core.errors import DomainError, ErrorCode
from people import batches, masking, services
from people.api import serializers as bodies
from people.api.actors import actor_from_request
from people.api.batches import batch_items
from people.api.filters import PageParamsSerializer, name_ordering, page_of, page_params
from people.api.identities import parse_identity, required_identity, resolve, resolve_all
from people.api.inputs import (
    contacts,
    create_arguments,
    merge_changes,
    replace_changes,
    validated,
)
from people.identifier_lookups import (
    IDENTIFIER_TYPES,
)
from people.models import AttributeDefinition, Person, Tag
from people.name_keys import name_key
from people.profiles import profile as read_profile

logger = logging.getLogger(__name__)


def profile(person_id: int) -> dict[str, Any]:
    return bodies.person_body(read_profile(person_id))


# ---------------------------------------------------------------------------------------------
# Versions: ETag on a person, If-Match on its edits (no lost updates, issue 8)
#
# The tag names the profile's edit version (Person.version, bumped by every edit through the
# services). It is weak: a device changing its push registration does not edit the profile, so
# the body can change while the tag stays. If-Match compares the version, whichever form of the
# tag (weak or strong) the client sends back.

# At most 19 digits each (a 64-bit number): int() of thousands of digits raises (issue 24).
ETAG = re.compile(r'\s*(?:W/)?"(\d{1,19})-(\d{1,19})"\s*')


def etag_of(person: Person) -> str:
    return f'W/"{person.pk}-{person.version}"'


def person_response(person_id: int, *, masked: bool = False) -> Response:
    """The person's profile with its ETag (``masked``: for a caller who may not see personal
    data, people.masking)."""
    found = read_profile(person_id)
    body = bodies.person_body(found)
    if masked:
        body = bodies.masked_person_body(body)
    return Response(body, headers={"ETag": etag_of(found.person)})


def expected_version(request, person_id: int) -> int | None:
    """The version an edit started from, by its If-Match header (None: no precondition).

    ``*`` matches any existing person. A tag of another person, or of no version this person
    is at, fails the precondition: the service refuses with VERSION_CONFLICT (412).
    """
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    versions: list[int] = []
    for part in header.split(","):
        match = ETAG.fullmatch(part)
        if match is None:
            raise DomainError(
                ErrorCode.BAD_REQUEST,
                'If-Match must be * or entity tags as sent in ETag, such as W/"12-3".',
                IF_MATCH,
            )
        if int(match.group(1)) == person_id:
            versions.append(int(match.group(2)))
    if not versions:
        raise DomainError(
            ErrorCode.VERSION_CONFLICT,
            f"If-Match names no version of person {person_id}.",
            IF_MATCH,
        )
    if len(versions) > 1:
        # Several acceptable versions: expect the current one if it is among them. The service
        # checks again under the row lock, so a change in between is still refused.
        current = Person.objects.filter(pk=person_id).values_list("version", flat=True).first()
        return current if current in versions else versions[0]
    return versions[0]


def update_person(request, person_id: int, changes: services.PersonChanges) -> Response:
    """Apply an edit, honouring If-Match; answer the profile with its new ETag."""
    version = expected_version(request, person_id)
    try:
        services.person_update(
            person=person_id,
            actor=actor_from_request(request),
            changes=changes,
            expected_version=version,
        )
    except DomainError as error:
        if error.code == ErrorCode.VERSION_CONFLICT and not error.field:
            error.field = IF_MATCH
        raise
    return person_response(person_id)


# ---------------------------------------------------------------------------------------------
# OpenAPI parameters

IDENTITY_PARAMETERS = [
    OpenApiParameter(
        "identifier", str, description="The person's identifier, of the kind given by type"
    ),
    OpenApiParameter("type", str, enum=list(IDENTIFIER_TYPES), description="Identifier type"),
    OpenApiParameter("sender", str, description="Application code; required for type PUSH"),
    OpenApiParameter("phone", str, description="Older alias of type=PHONE", deprecated=True),
    OpenApiParameter("email", str, description="Older alias of type=EMAIL", deprecated=True),
    OpenApiParameter(
        "externalId", str, description="Older alias of type=EXTERNAL_ID", deprecated=True
    ),
    OpenApiParameter(
        "pushRegistrationId", str, description="Older alias of type=PUSH", deprecated=True
    ),
]


def page_parameters(order_help: str) -> list:
    """limit, page and includeTotalCount (with their bounds) and orderBy."""
    return [PageParamsSerializer, OpenApiParameter("orderBy", str, description=order_help)]


NAME_PARAMETER = OpenApiParameter(
    "name", str, OpenApiParameter.PATH, description="Name (case-insensitive)"
)
TEXT_RESPONSE = OpenApiResponse(OpenApiTypes.STR, description="What was done, in words")
DONE_RESPONSE = OpenApiResponse(description="Done (no body)")
IF_MATCH = "If-Match"
IF_MATCH_PARAMETER = OpenApiParameter(
    IF_MATCH,
    str,
    OpenApiParameter.HEADER,
    description='The ETag of the person as last read (W/"<id>-<version>"), or *. The edit is '
    "made only if the person is still at that version; otherwise nothing is written and the "
    "answer is 412 VERSION_CONFLICT. Without it the edit applies to the current version.",
)
ETAG_HEADER = OpenApiParameter(
    "ETag",
    str,
    OpenApiParameter.HEADER,
    description='The person\'s edit version, W/"<id>-<version>": send it back in If-Match. '
    "Only when the answer is one person.",
    response=[200],
)


# ---------------------------------------------------------------------------------------------
# Persons


class PersonsView(VendorAPIView):
    """One person by identifier and type, create, replace, update, delete."""

    administrator_methods = frozenset({"DELETE"})

    @extend_schema(
        operation_id="get-a-single-person",
        summary="Get a single person (identifier + type)",
        parameters=[*IDENTITY_PARAMETERS, ETAG_HEADER],
        responses={200: bodies.PersonSerializer, **error_responses(400, 404)},
        tags=["persons"],
    )
    def get(self, request):
        """One person by identifier and type (directory.api.views.PersonsView adds the list)."""
        return person_response(
            resolve(required_identity(request.query_params)),
            masked=not masking.sees_personal_data(request.user),
        )

    @extend_schema(
        operation_id="create-a-new-person",
        summary="Create a person (type CUSTOMER unless given)",
        parameters=[ETAG_HEADER],
        request=bodies.PersonInputSerializer,
        responses={200: bodies.PersonSerializer, **error_responses(400)},
        tags=["persons"],
    )
    def post(self, request):
        data = validated(bodies.PersonInputSerializer, request.data)
        person = services.person_create(actor=actor_from_request(request), **create_arguments(data))
        return person_response(person.pk)

    @extend_schema(
        operation_id="update-a-person",
        summary="Replace a person: omitted attributes, tags, phones and emails are cleared",
        parameters=[*IDENTITY_PARAMETERS, IF_MATCH_PARAMETER, ETAG_HEADER],
        request=bodies.PersonInputSerializer,
        responses={200: bodies.PersonSerializer, **error_responses(400, 404, 412)},
        tags=["persons"],
    )
    def put(self, request):
        person_id = resolve(required_identity(request.query_params))
        changes = replace_changes(validated(bodies.PersonInputSerializer, request.data))
        return update_person(request, person_id, changes)

    @extend_schema(
        operation_id="partial-person-update",
        summary="Update a person: named attributes change, tags and contacts are added",
        parameters=[*IDENTITY_PARAMETERS, IF_MATCH_PARAMETER, ETAG_HEADER],
        request=bodies.PersonInputSerializer,
        responses={200: bodies.PersonSerializer, **error_responses(400, 404, 412)},
        tags=["persons"],
    )
    def patch(self, request):
        person_id = resolve(required_identity(request.query_params))
        changes = merge_changes(validated(bodies.PersonInputSerializer, request.data))
        return update_person(request, person_id, changes)


class ContactInformationView(VendorAPIView):
    """Replace, add or remove the phones and emails of one person."""

    def _contacts(self, request) -> tuple[int, list[str], list[str]]:
        person_id = resolve(required_identity(request.query_params))
        data = validated(bodies.ContactInformationRequestSerializer, request.data)
        phones, emails = contacts(data)
        return person_id, phones or [], emails or []

    def _apply(self, request, person_id: int, changes: services.PersonChanges) -> Response:
        return update_person(request, person_id, changes)

    @extend_schema(
        operation_id="set-person-contact-information",
        summary="Replace the person's phones and emails",
        parameters=[*IDENTITY_PARAMETERS, IF_MATCH_PARAMETER, ETAG_HEADER],
        request=bodies.ContactInformationRequestSerializer,
        responses={200: bodies.PersonSerializer, **error_responses(400, 404, 412)},
        tags=["persons"],
    )
    def put(self, request):
        person_id, phones, emails = self._contacts(request)
        changes = services.replaced_contacts(phones=phones, emails=emails)
        return self._apply(request, person_id, changes)

    @extend_schema(
        operation_id="add-person-contact-information",
        summary="Add phones and emails to the person",
        parameters=[*IDENTITY_PARAMETERS, IF_MATCH_PARAMETER, ETAG_HEADER],
        request=bodies.ContactInformationRequestSerializer,
        responses={200: bodies.PersonSerializer, **error_responses(400, 404, 412)},
        tags=["persons"],
    )
    def patch(self, request):
        person_id, phones, emails = self._contacts(request)
        return self._apply(
            request, person_id, services.contact_changes(phones=phones, emails=emails)
        )

    @extend_schema(
        operation_id="delete-person-contact-information",
        summary="Remove the given phones and emails from the person",
        parameters=[*IDENTITY_PARAMETERS, IF_MATCH_PARAMETER, ETAG_HEADER],
        request=bodies.ContactInformationRequestSerializer,
        responses={200: bodies.PersonSerializer, **error_responses(400, 404, 412)},
        tags=["persons"],
    )
    def delete(self, request):
        person_id, phones, emails = self._contacts(request)
        changes = services.contact_changes(phones_remove=phones, emails_remove=emails)
        return self._apply(request, person_id, changes)


# ---------------------------------------------------------------------------------------------
# Tags


def tag_named(name: str) -> Tag:
    tag = Tag.objects.filter(name_key=name_key(name)).first()
    if tag is None:
        raise DomainError(ErrorCode.NOT_FOUND, f"There is no tag {name!r}.", "name")
    return tag


def paged(queryset, request, key: str, render) -> dict[str, Any]:
    params = page_params(request.query_params)
    order_by, ordering = name_ordering(request.query_params.get("orderBy", ""))
    rows, total = page_of(queryset.order_by(*ordering), params)
    body: dict[str, Any] = {
        key: [render(row) for row in rows],
        "limit": params["limit"],
        "page": params["page"],
        "orderBy": order_by,
    }
    if total is not None:
        body["totalCount"] = total
    return body


NAME_PAGE_PARAMETERS = page_parameters("name or createdAt, with :asc or :desc (default name:asc)")


class TagsView(VendorAPIView):
    """The tags, a page at a time; create one."""

    @extend_schema(
        operation_id="get-list-of-tags",
        summary="A page of tags",
        parameters=NAME_PAGE_PARAMETERS,
        responses={200: bodies.TagListSerializer, **error_responses(400)},
        tags=["tags"],
    )
    def get(self, request):
        return Response(paged(Tag.objects.all(), request, "tags", bodies.tag_body))

    @extend_schema(
        operation_id="create-a-new-tag",
        summary="Create a tag",
        request=bodies.TagInputSerializer,
        responses={200: bodies.TagSerializer, **error_responses(400)},
        tags=["tags"],
    )
    def post(self, request):
        data = validated(bodies.TagInputSerializer, request.data)
        tag = services.tag_create(name=data["name"], actor=actor_from_request(request))
        return Response(bodies.tag_body(tag))


class TagView(VendorAPIView):
    """One tag by name (case-insensitive); delete it."""

    administrator_methods = frozenset({"DELETE"})

    @extend_schema(
        operation_id="get-a-tag",
        summary="One tag",
        parameters=[NAME_PARAMETER],
        responses={200: bodies.TagSerializer, **error_responses(404)},
        tags=["tags"],
    )
    def get(self, request, name: str):
        return Response(bodies.tag_body(tag_named(name)))

    @extend_schema(
        operation_id="delete-a-tag",
        summary="Delete a tag (and remove it from every person that has it)",
        parameters=[NAME_PARAMETER],
        responses={200: TEXT_RESPONSE, **error_responses(404)},
        tags=["tags"],
    )
    def delete(self, request, name: str):
        tag = tag_named(name)
        count = services.tag_delete(tag=tag, actor=actor_from_request(request))
        return Response(f"Tag {tag.name} deleted; it was removed from {count} people.")


class TagPersonsView(VendorAPIView):
    """Add a tag to, or remove it from, many people: all of them or none (the vendor answers
    200, 400 or 404 here, no per-item report). A person given that does not exist, or that is
    deleted while the request runs, is a 404 naming it, and nothing was changed."""

    def _people(self, request, name: str) -> tuple[Tag, list[int]]:
        tag = tag_named(name)
        items = batch_items(request.data)
        queries = [
            parse_identity(
                item.get("query") if isinstance(item, dict) else None,
                prefix=f"people[{index}].query.",
            )
            for index, item in enumerate(items)
        ]
        person_ids, missing = [], {}
        for index, found in enumerate(resolve_all(queries)):
            if isinstance(found, DomainError):
                missing[f"people[{index}].query"] = [found.message]
            else:
                person_ids.append(found)
        if missing:
            raise DomainError(
                ErrorCode.NOT_FOUND,
                f"{len(missing)} of the people given do not exist; nothing was changed.",
                next(iter(missing)),
            )
        return tag, person_ids

    def _all_or_nothing(self, write, tag: Tag, person_ids: list[int], request) -> int:
        try:
            return write(tag=tag, actor=actor_from_request(request), person_ids=person_ids)
        except DomainError as error:
            missing = error.details.get("personId")
            if error.code == ErrorCode.NOT_FOUND and missing in person_ids:
                error.field = f"people[{person_ids.index(missing)}].query"
            raise

    @extend_schema(
        operation_id="add-tag-to-people-batch",
        summary=f"Add the tag to up to {bodies.MAX_BATCH} people",
        parameters=[NAME_PARAMETER],
        request=bodies.BatchQueryRequestSerializer,
        responses={200: DONE_RESPONSE, **error_responses(400, 404)},
        tags=["tags"],
    )
    def patch(self, request, name: str):
        tag, person_ids = self._people(request, name)
        self._all_or_nothing(batches.tag_add_batch, tag, person_ids, request)
        return Response(status=status.HTTP_200_OK)

    @extend_schema(
        operation_id="remove-tag-from-people-batch",
        summary=f"Remove the tag from up to {bodies.MAX_BATCH} people",
        parameters=[NAME_PARAMETER],
        request=bodies.BatchQueryRequestSerializer,
        responses={200: TEXT_RESPONSE, **error_responses(400, 404)},
        tags=["tags"],
    )
    def delete(self, request, name: str):
        tag, person_ids = self._people(request, name)
        self._all_or_nothing(batches.tag_remove_batch, tag, person_ids, request)
        return Response(f"Tag {tag.name} removed from {len(set(person_ids))} people.")


# ---------------------------------------------------------------------------------------------
# Custom attribute definitions


def definition_named(name: str) -> AttributeDefinition:
    definition = AttributeDefinition.objects.filter(name_key=name_key(name)).first()
    if definition is None:
        raise DomainError(ErrorCode.NOT_FOUND, f"There is no custom attribute {name!r}.", "name")
    return definition


class CustomAttributesView(VendorAPIView):
    """Custom attribute definitions, a page at a time; define one."""

    administrator_methods = frozenset({"POST"})

    @extend_schema(
        operation_id="get-a-list-of-custom-attributes",
        summary="A page of custom attribute definitions",
        parameters=NAME_PAGE_PARAMETERS,
        responses={200: bodies.CustomAttributeListSerializer, **error_responses(400)},
        tags=["customAttributes"],
    )
    def get(self, request):
        return Response(
            paged(
                AttributeDefinition.objects.all(),
                request,
                "customAttributes",
                bodies.custom_attribute_body,
            )
        )

    @extend_schema(
        operation_id="create-a-custom-attribute",
        summary="Define a custom attribute (its data type never changes)",
        request=bodies.CustomAttributeInputSerializer,
        responses={200: bodies.CustomAttributeSerializer, **error_responses(400)},
        tags=["customAttributes"],
    )
    def post(self, request):
        data = validated(bodies.CustomAttributeInputSerializer, request.data)
        definition = services.attribute_definition_create(
            name=data["name"],
            data_type=data["dataType"],
            object_schema=data.get("objectSchema"),
            description=data.get("description") or "",
            actor=actor_from_request(request),
        )
        return Response(bodies.custom_attribute_body(definition))


class CustomAttributeView(VendorAPIView):
    """One custom attribute definition by name; delete it while unused."""

    administrator_methods = frozenset({"DELETE"})

    @extend_schema(
        operation_id="get-a-single-custom-attribute",
        summary="One custom attribute definition",
        parameters=[NAME_PARAMETER],
        responses={200: bodies.CustomAttributeSerializer, **error_responses(404)},
        tags=["customAttributes"],
    )
    def get(self, request, name: str):
        return Response(bodies.custom_attribute_body(definition_named(name)))

    @extend_schema(
        operation_id="delete-a-custom-attribute",
        summary="Delete a definition that no person uses (ATTRIBUTE_IN_USE otherwise)",
        parameters=[NAME_PARAMETER],
        responses={200: TEXT_RESPONSE, **error_responses(400, 404)},
        tags=["customAttributes"],
    )
    def delete(self, request, name: str):
        definition = definition_named(name)
        services.attribute_definition_delete(
            definition=definition, actor=actor_from_request(request)
        )
        return Response(f"Custom attribute {definition.name} deleted.")


class AppendView(VendorAPIView):
    """Append one object to a LIST_OF_OBJECTS attribute of one person."""

    @extend_schema(
        operation_id="append-item-to-custom-attribute",
        summary="Append one object to a person's LIST_OF_OBJECTS attribute",
        parameters=[NAME_PARAMETER, *IDENTITY_PARAMETERS],
        request={"application/json": OpenApiTypes.OBJECT},
        responses={
            200: OpenApiResponse(
                {"type": "array", "items": {"type": "object"}},
                description="The attribute's whole list after the append",
            ),
            **error_responses(400, 404),
        },
        tags=["customAttributes"],
    )
    def post(self, request, name: str):
        person_id = resolve(required_identity(request.query_params))
        if not isinstance(request.data, dict):
            raise RequestFormatInvalid({"request": ["Expected one object to append."]})
        services.person_append_list_item(
            person=person_id, actor=actor_from_request(request), name=name, item=request.data
        )
        values = profile(person_id)["customAttributes"]
        key = next(k for k in values if name_key(k) == name_key(name))
        return Response(values[key])
