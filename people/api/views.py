"""The People API v2: persons, contact information, batches, match, tags, custom attributes.

Each view authorizes (permission classes), parses (serializers check JSON types), calls one
service or selector, and renders the vendor's body. Rules are the domain's: a DomainError
becomes the vendor's error body in core.api.errors.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from core.api.errors import DOMAIN_STATUS, RequestFormatInvalid, flatten_detail
from core.api.permissions import CanReadViaApi
from core.api.schema import error_responses
from core.api.views import VendorAPIView
from core.errors import DomainError, ErrorCode
from people import batches, services
from people.api import serializers as bodies
from people.api.actors import actor_from_request
from people.api.filters import PageParamsSerializer, name_ordering, page_of, page_params
from people.fields import STANDARD_FIELDS
from people.identifier_lookups import (
    IDENTIFIER_TYPES,
    person_id_by_identifier,
    person_ids_by_identifiers,
)
from people.models import AttributeDefinition, Person, Tag
from people.name_keys import name_key
from people.profiles import profile as read_profile

logger = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------------
# Identifying one person: identifier + type (+ sender), or the older ?phone= style aliases

LEGACY_IDENTIFIERS = {
    "phone": "PHONE",
    "email": "EMAIL",
    "externalId": "EXTERNAL_ID",
    "pushRegistrationId": "PUSH",
}


@dataclass(frozen=True)
class IdentityQuery:
    type: str
    identifier: str
    sender: str | None = None

    def as_body(self) -> dict[str, str]:
        body = {"type": self.type, "identifier": self.identifier}
        if self.sender:
            body["sender"] = self.sender
        return body


def parse_identity(data: Any, *, prefix: str = "", sender_required: bool = True) -> IdentityQuery:
    """An IdentityQuery from query parameters or a JSON object; a 400 naming what is wrong."""
    if not isinstance(data, dict):
        raise RequestFormatInvalid({prefix.rstrip(".") or "query": ["Expected an object."]})
    identifier, kind, sender = data.get("identifier"), data.get("type"), data.get("sender")
    errors: dict[str, list[str]] = {}
    if identifier is None or identifier == "":
        errors[f"{prefix}identifier"] = ["identifier is required."]
    elif not isinstance(identifier, str):
        errors[f"{prefix}identifier"] = ["identifier must be a string."]
    if kind is None or kind == "":
        errors[f"{prefix}type"] = [f"type is required: one of {', '.join(IDENTIFIER_TYPES)}."]
    elif kind not in IDENTIFIER_TYPES:
        errors[f"{prefix}type"] = [
            f"type {kind!r} is not supported: use one of {', '.join(IDENTIFIER_TYPES)}."
        ]
    if sender is not None and not isinstance(sender, str):
        errors[f"{prefix}sender"] = ["sender must be a string."]
    elif kind == "PUSH" and not sender and sender_required:
        errors[f"{prefix}sender"] = ["sender (the application code) is required for type PUSH."]
    if errors:
        raise ValidationError(errors)
    return IdentityQuery(kind, identifier, sender or None)


def identity_from_params(params) -> IdentityQuery | None:
    if "identifier" in params or "type" in params:
        return parse_identity({key: params.get(key) for key in ("identifier", "type", "sender")})
    for name, kind in LEGACY_IDENTIFIERS.items():
        if name in params:
            return parse_identity(
                {"identifier": params.get(name), "type": kind, "sender": params.get("sender")},
                sender_required=False,
            )
    return None


def required_identity(params) -> IdentityQuery:
    identity = identity_from_params(params)
    if identity is None:
        raise ValidationError(
            {"identifier": ["identifier and type are required to name the person."]}
        )
    return identity


def resolve(identity: IdentityQuery) -> int:
    """The id of the person ``identity`` names, or NOT_FOUND."""
    person_id = person_id_by_identifier(identity.type, identity.identifier, sender=identity.sender)
    if person_id is None:
        raise DomainError(
            ErrorCode.NOT_FOUND,
            f"There is no person with {identity.type} {identity.identifier!r}.",
        )
    return person_id


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


def person_response(person_id: int) -> Response:
    """The person's profile with its ETag."""
    found = read_profile(person_id)
    return Response(bodies.person_body(found), headers={"ETag": etag_of(found.person)})


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
# Request bodies -> service arguments


def validated(serializer_class, data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        raise RequestFormatInvalid(serializer.errors)
    return serializer.validated_data


def _contacts(data: dict[str, Any]) -> tuple[list[str] | None, list[str] | None]:
    contact = data.get("contactInformation") or {}
    phones = contact.get("phone")
    emails = contact.get("email")
    return (
        [item["number"] for item in phones] if phones is not None else None,
        [item["address"] for item in emails] if emails is not None else None,
    )


def create_arguments(data: dict[str, Any]) -> dict[str, Any]:
    phones, emails = _contacts(data)
    return {
        "fields": {name: data[name] for name in STANDARD_FIELDS if name in data},
        "tags": data.get("tags"),
        "custom_attributes": data.get("customAttributes"),
        "phones": phones,
        "emails": emails,
    }


def replace_changes(data: dict[str, Any]) -> services.PersonChanges:
    """PUT: what is omitted is cleared (attributes, tags, custom attributes, phones, emails).

    The type cannot be empty: an omitted type keeps the current one.
    """
    fields = {name: data.get(name) for name in STANDARD_FIELDS if name != "type"}
    if data.get("type") is not None:
        fields["type"] = data["type"]
    phones, emails = _contacts(data)
    return services.replace_changes(
        fields=fields,
        tags=data.get("tags") or [],
        custom_attributes=data.get("customAttributes") or {},
        phones=phones or [],
        emails=emails or [],
    )


def merge_arguments(data: dict[str, Any]) -> dict[str, Any]:
    """PATCH: named attributes change, tags and contacts are added, the rest stays."""
    phones, emails = _contacts(data)
    return {
        "fields": {name: data[name] for name in STANDARD_FIELDS if name in data},
        "tags": data.get("tags"),
        "custom_attributes": data.get("customAttributes"),
        "phones": phones,
        "emails": emails,
    }


def merge_changes(data: dict[str, Any]) -> services.PersonChanges:
    return services.merge_changes(**merge_arguments(data))


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
        return person_response(resolve(required_identity(request.query_params)))

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
        phones, emails = _contacts(data)
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
# Batches: every item validated first, the valid ones written in one transaction (all of them,
# or nothing when the database fails part way: then a 503), a result per item, 207 when some
# failed (people.batches).

MERGE_CONFLICT_STATUS = 409


def batch_items(data: Any) -> list[Any]:
    people = data.get("people") if isinstance(data, dict) else None
    if not isinstance(people, list):
        raise RequestFormatInvalid({"people": ["Expected a list of people."]})
    if not 1 <= len(people) <= bodies.MAX_BATCH:
        raise ValidationError(
            {"people": [f"Send between 1 and {bodies.MAX_BATCH} people, not {len(people)}."]}
        )
    return people


def failure(error: Exception) -> dict[str, Any]:
    """The status and errors of one failed batch item."""
    if isinstance(error, DomainError):
        code = (
            MERGE_CONFLICT_STATUS
            if error.code == ErrorCode.USER_MERGE_INTERRUPTED
            else DOMAIN_STATUS.get(error.code, status.HTTP_400_BAD_REQUEST)
        )
        item: dict[str, Any] = {"message": error.message, "messageId": error.code}
        if error.field:
            item["field"] = error.field
        return {"status": code, "errors": [item]}
    assert isinstance(error, ValidationError)
    message_id = getattr(error, "message_id", "BAD_REQUEST")
    return {
        "status": status.HTTP_400_BAD_REQUEST,
        "errors": [
            {"message": " ".join(messages), "messageId": message_id, "field": field}
            for field, messages in flatten_detail(error.detail).items()
        ],
    }


def query_echo(item: Any) -> dict[str, str]:
    """The query of a batch item as given, keeping only well-formed parts."""
    query = item.get("query") if isinstance(item, dict) else None
    if not isinstance(query, dict):
        return {}
    echo = {
        key: query[key]
        for key in ("identifier", "sender")
        if isinstance(query.get(key), str) and query[key]
    }
    if query.get("type") in IDENTIFIER_TYPES:
        echo["type"] = query["type"]
    return echo


def batch_response(results: list[dict[str, Any]]) -> Response:
    failed = any(result["status"] != status.HTTP_200_OK for result in results)
    return Response(
        {"results": results},
        status=status.HTTP_207_MULTI_STATUS if failed else status.HTTP_200_OK,
    )


def query_of(item: Any) -> IdentityQuery:
    if not isinstance(item, dict):
        raise RequestFormatInvalid({"query": ["Each item must be an object with a query."]})
    return parse_identity(item.get("query"), prefix="query.")


def resolve_all(queries: list[IdentityQuery | Exception]) -> list[int | Exception]:
    """``resolve`` for every query of a batch at once (one statement per identifier type)."""
    wanted = [
        (index, (query.type, query.identifier, query.sender))
        for index, query in enumerate(queries)
        if isinstance(query, IdentityQuery)
    ]
    found = person_ids_by_identifiers([key for _, key in wanted])
    answers: list[int | Exception] = list(queries)  # type: ignore[arg-type]
    for (index, _), person_id in zip(wanted, found, strict=True):
        query = queries[index]
        if person_id is None:
            person_id = DomainError(
                ErrorCode.NOT_FOUND,
                f"There is no person with {query.type} {query.identifier!r}.",
            )
        answers[index] = person_id
    return answers


def queries_of(items: list[Any]) -> list[IdentityQuery | Exception]:
    queries: list[IdentityQuery | Exception] = []
    for item in items:
        try:
            queries.append(query_of(item))
        except (DomainError, ValidationError) as error:
            queries.append(error)
    return queries


class BatchView(VendorAPIView):
    """Create, update or delete many people: a result per item, 207 when some failed."""

    administrator_methods = frozenset({"DELETE"})

    @extend_schema(
        operation_id="batch-people-create",
        summary=f"Create up to {bodies.MAX_BATCH} people",
        request=bodies.BatchCreateRequestSerializer,
        responses={
            200: bodies.BatchCreateResponseSerializer,
            207: bodies.BatchCreateResponseSerializer,
            **error_responses(400),
        },
        tags=["persons"],
    )
    def post(self, request):
        items: list[Any] = []
        for item in batch_items(request.data):
            try:
                items.append(create_arguments(validated(bodies.PersonInputSerializer, item)))
            except ValidationError as error:
                items.append(error)
        outcomes = batches.person_create_batch(actor=actor_from_request(request), items=items)
        results = []
        for index, outcome in enumerate(outcomes):
            if isinstance(outcome, Exception):
                results.append({"index": index, **failure(outcome)})
            else:
                results.append({"index": index, "status": status.HTTP_200_OK, "id": outcome.pk})
        return batch_response(results)

    @extend_schema(
        operation_id="batch-people-update",
        summary=f"Update up to {bodies.MAX_BATCH} people (as PATCH does)",
        request=bodies.BatchUpdateRequestSerializer,
        responses={
            200: bodies.BatchUpdateResponseSerializer,
            207: bodies.BatchUpdateResponseSerializer,
            **error_responses(400),
        },
        tags=["persons"],
    )
    def patch(self, request):
        people = batch_items(request.data)
        targets = resolve_all(queries_of(people))
        items: list[Any] = []
        for item, target in zip(people, targets, strict=True):
            if isinstance(target, Exception):
                items.append(target)
                continue
            try:
                data = validated(bodies.PersonInputSerializer, item.get("update"))
                items.append((target, merge_arguments(data)))
            except ValidationError as error:
                items.append(error)
        outcomes = batches.person_update_batch(actor=actor_from_request(request), items=items)
        results = []
        for item, outcome in zip(people, outcomes, strict=True):
            result: dict[str, Any] = {"query": query_echo(item)}
            if isinstance(outcome, Exception):
                result.update(failure(outcome))
            else:
                result.update(status=status.HTTP_200_OK, isModified=outcome)
            results.append(result)
        return batch_response(results)


class MatchView(VendorAPIView):
    """Which people the given identities name (a read: read keys may call it)."""

    permission_classes = [CanReadViaApi]

    @extend_schema(
        operation_id="match-people-ids",
        summary="The ids of the people the given identities name",
        request=bodies.MatchRequestSerializer,
        responses={200: bodies.MatchResponseSerializer, **error_responses(400)},
        tags=["persons"],
    )
    def post(self, request):
        data = request.data
        identities = data.get("identities") if isinstance(data, dict) else None
        if not isinstance(identities, list) or not 1 <= len(identities) <= bodies.MAX_BATCH:
            raise RequestFormatInvalid(
                {"identities": [f"Expected a list of 1 to {bodies.MAX_BATCH} identities."]}
            )
        queries = [
            parse_identity(item, prefix=f"identities[{index}].")
            for index, item in enumerate(identities)
        ]
        matches, seen = [], set()
        for query in queries:
            if query in seen:
                continue  # the same identity twice: one reference
            seen.add(query)
            try:
                person_id = person_id_by_identifier(
                    query.type, query.identifier, sender=query.sender
                )
            except DomainError:
                continue  # not a valid phone or email: it names nobody
            if person_id is not None:
                matches.append({**query.as_body(), "personId": person_id})
        return Response({"matches": matches})


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
