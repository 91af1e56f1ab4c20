"""Batches of person writes: the API's ``/persons/batch`` and ``/tags/{name}/persons``.

A batch first validates every item, then writes the valid ones in ONE transaction: all of them,
or (when the database fails part way) none, so that the client either gets the per-item report
of what was written or an error with nothing written, and a retry of the same request
duplicates nothing (issue 24, item 3). Each item keeps the rules of its single-person service
(``person_create``, ``person_update``, ``person_add_tags``; deleting people moves their
installations and is installations.depersonalize.person_delete_batch): uniqueness
against the database and within the batch, in item order, normalization, limits, the same
errors and the same history events. Only the look-ups and writes are gathered: a few
statements per batch, not per item (1,000 items took 25 s one at a time, a few now).

An item that fails a rule is that item's DomainError in the answer, and nothing of it is
written; the others stand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from core.errors import DomainError, ErrorCode
from people import custom_attributes as attribute_types
from people import services
from people.apply import (
    _apply_fields,
    _event_kind,
    _jsonable,
    _lock_for_share,
    _merge_error,
    _tags_by_name,
)
from people.batch_checks import (
    EXTERNAL_ID,
    Claim,
    check_claims,
    claim_error,
    claims_of,
    limit_error,
    lock_definitions,
    not_found,
    owners_of,
    parse_items,
)
from people.changes import MAX_CONTACTS_PER_KIND, MERGE, PersonChanges
from people.fields import STANDARD_FIELDS
from people.history import Actor, event_row
from people.models import (
    AttributeDefinition,
    AttributeValue,
    ContactIdentity,
    Event,
    EventKind,
    IdentityKind,
    Person,
    PersonType,
    Tag,
)

T = TypeVar("T")

# Rows per INSERT or UPDATE statement: PostgreSQL takes at most 65,535 parameters a statement
# (a 1,000-item batch with 100 emails each is 100,000 identity rows).
ROWS_PER_STATEMENT = 2000
# A unique constraint that refuses a row means a concurrent writer took an identifier after the
# batch looked it up: the batch runs again, and that item then gets USER_MERGE_INTERRUPTED.
ATTEMPTS = 3


def in_one_transaction(write: Callable[[], T]) -> T:
    """Run ``write`` in one transaction, again when a unique constraint refused a row."""
    for attempt in range(ATTEMPTS):
        try:
            with transaction.atomic():
                return write()
        except IntegrityError:
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def contact_diffs(new: list[ContactIdentity]) -> dict[str, Any]:
    diffs: dict[str, Any] = {}
    for kind, name in ((IdentityKind.PHONE, "phones"), (IdentityKind.EMAIL, "emails")):
        added = [identity.value for identity in new if identity.kind == kind]
        if added:
            diffs[name] = {"added": added, "removed": []}
    return diffs


def attribute_diff(definition: AttributeDefinition, before: Any, after: Any) -> dict[str, Any]:
    def shown(value: Any) -> Any:
        if value is None:
            return None
        return _jsonable(attribute_types.serialize_value(definition, value))

    return {"before": shown(before), "after": shown(after)}


def tags_for(names: Iterable[str]) -> dict[str, Tag]:
    """name as given -> its Tag row, created where missing (_tags_by_name)."""
    names = list(dict.fromkeys(names))
    return dict(zip(names, _tags_by_name(names), strict=True))


# ---------------------------------------------------------------------------------------------
# Create


def person_create_batch(
    *, actor: Actor, items: list[dict[str, Any] | Exception]
) -> list[Person | Exception]:
    """Create a person per item (``person_create``'s keyword arguments ``fields``, ``tags``,
    ``custom_attributes``, ``phones``, ``emails``), or keep the item's error. Answers, per
    item, the person created or the error; the valid items are written in one transaction."""
    outcomes, parsed = parse_items(items)
    if not parsed:
        return outcomes
    return in_one_transaction(lambda: _create(actor, parsed, list(outcomes)))


def _create(actor: Actor, parsed: dict[int, PersonChanges], outcomes: list[Any]) -> list[Any]:
    parsed = lock_definitions(parsed, outcomes)
    claims = {index: claims_of(changes) for index, changes in parsed.items()}
    owners = owners_of({claim.key for item in claims.values() for claim in item})
    claimed_by: dict[tuple[str, str], int] = {}  # key -> the index of the batch item that has it
    later: dict[int, tuple[Claim, int]] = {}  # index -> its claim an earlier item holds
    accepted: list[int] = []
    for index in parsed:
        error = None
        counts = {IdentityKind.PHONE: 0, IdentityKind.EMAIL: 0}
        for claim in claims[index]:
            kind = claim.key[0]
            if kind in counts:
                counts[kind] += 1
                if counts[kind] > MAX_CONTACTS_PER_KIND:
                    error = limit_error(kind)
                    break
            if claim.key in owners:
                error = claim_error(claim, owners[claim.key])
                break
            if claim.key in claimed_by:
                later[index] = (claim, claimed_by[claim.key])
                break
        if error is not None:
            outcomes[index] = error
        elif index not in later:
            accepted.append(index)
            claimed_by.update({claim.key: index for claim in claims[index]})
    if not accepted:
        return outcomes

    origin = services._origin_of(actor)
    people: dict[int, Person] = {}
    for index in accepted:
        fields = dict(parsed[index].fields)
        external_id = fields.pop("external_id", None)
        person = Person(type=PersonType.CUSTOMER, origin=origin)
        _apply_fields(person, fields, {})
        person.external_id = external_id
        people[index] = person
    _insert(Person, list(people.values()), skip=("tag_ids",))

    tags = tags_for(name for index in accepted for name in parsed[index].tags or [])

    identities, links, values, events = [], [], [], []
    Link = Person.tags.through
    for index in accepted:
        person, changes = people[index], parsed[index]
        new = [
            ContactIdentity(
                person=person, kind=claim.key[0], value=claim.key[1], national_number=claim.national
            )
            for claim in claims[index]
            if claim.key[0] != EXTERNAL_ID
        ]
        identities += new
        diffs = contact_diffs(new)
        person_tags = list({tags[name].pk: tags[name] for name in changes.tags or []}.values())
        links += [Link(person_id=person.pk, tag_id=tag.pk) for tag in person_tags]
        if person_tags:
            diffs["tags"] = {"added": sorted(tag.name for tag in person_tags), "removed": []}
        shown = {}
        for definition, value in (changes.custom_attributes or {}).items():
            if value is None:
                continue
            values.append(
                AttributeValue(
                    person=person,
                    definition=definition,
                    **attribute_types.to_columns(definition, value),
                )
            )
            shown[definition.name] = attribute_diff(definition, None, value)
        if shown:
            diffs["customAttributes"] = shown
        events.append(
            event_row(
                person=person,
                kind=EventKind.PERSON_CREATED,
                actor=actor,
                changes={**services._created_summary(person), **diffs},
            )
        )
    ContactIdentity.objects.bulk_create(identities, batch_size=ROWS_PER_STATEMENT)
    Link.objects.bulk_create(links, batch_size=ROWS_PER_STATEMENT)
    AttributeValue.objects.bulk_create(values, batch_size=ROWS_PER_STATEMENT)
    Event.objects.bulk_create(events, batch_size=ROWS_PER_STATEMENT)

    for index in accepted:
        outcomes[index] = people[index]
    for index, (claim, holder) in later.items():
        outcomes[index] = _merge_error(claim.field, claim.what, people[holder].pk)
    return outcomes


# ---------------------------------------------------------------------------------------------
# Update (merge, as PATCH /persons does)


@dataclass
class Profile:
    """A locked person and what the batch knows of it, as its items change it in order."""

    person: Person
    identities: dict[str, set[str]] = field(
        default_factory=lambda: {IdentityKind.PHONE: set(), IdentityKind.EMAIL: set()}
    )
    tag_ids: set[int] = field(default_factory=set)
    values: dict[int, AttributeValue] = field(default_factory=dict)  # definition id -> row
    loaded_value_ids: set[int] = field(default_factory=set)
    changed_values: set[int] = field(default_factory=set)  # definition ids
    changed_fields: set[str] = field(default_factory=set)


def person_update_batch(
    *, actor: Actor, items: list[tuple[int, dict[str, Any]] | Exception]
) -> list[bool | Exception]:
    """Apply a merge edit (``merge_changes`` keyword arguments) to each item's person, or keep
    the item's error. Answers, per item, whether the person changed, or the error. Items run in
    their order: the same person twice gets both edits, one after the other."""
    outcomes, parsed = parse_items(
        [item if isinstance(item, Exception) else item[1] for item in items]
    )
    targets = {index: item[0] for index, item in enumerate(items) if index in parsed}
    if not parsed:
        return outcomes
    for changes in parsed.values():
        if changes.tags_mode != MERGE or changes.tags_remove:
            raise ValueError("A batch update adds tags; it does not replace or remove them.")
        if changes.contacts_mode != MERGE or changes.phones_remove or changes.emails_remove:
            raise ValueError("A batch update adds phones and emails; it does not remove them.")
    return in_one_transaction(lambda: _update(actor, parsed, targets, list(outcomes)))


def _update(
    actor: Actor,
    parsed: dict[int, PersonChanges],
    targets: dict[int, int],
    outcomes: list[Any],
) -> list[Any]:
    parsed = lock_definitions(parsed, outcomes)
    # The tags (FOR SHARE) before the people: tag_delete's order (the tag, then its people).
    tags = tags_for(name for changes in parsed.values() for name in changes.tags or [])
    # Every person of the batch locked at once, in id order (as two batches lock them).
    ids = sorted(set(targets.values()))
    profiles = {
        person.pk: Profile(person)
        for person in Person.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    }
    for person_id, kind, value in ContactIdentity.objects.filter(
        person_id__in=list(profiles)
    ).values_list("person_id", "kind", "value"):
        profiles[person_id].identities[kind].add(value)
    Link = Person.tags.through
    for person_id, tag_id in Link.objects.filter(person_id__in=list(profiles)).values_list(
        "person_id", "tag_id"
    ):
        profiles[person_id].tag_ids.add(tag_id)
    if any(changes.custom_attributes for changes in parsed.values()):
        for row in AttributeValue.objects.filter(person_id__in=list(profiles)).select_related(
            "definition"
        ):
            profiles[row.person_id].values[row.definition_id] = row
            profiles[row.person_id].loaded_value_ids.add(row.pk)
    claims = {index: claims_of(changes) for index, changes in parsed.items()}
    owners = owners_of({claim.key for item in claims.values() for claim in item})

    identities: list[ContactIdentity] = []
    links: list[Any] = []
    events: list[Event] = []
    for index, changes in parsed.items():
        profile = profiles.get(targets[index])
        if profile is None:
            outcomes[index] = not_found(targets[index])
            continue
        error = check_claims(profile.person, profile.identities, claims[index], owners)
        if error is not None:
            outcomes[index] = error
            continue
        diffs: dict[str, Any] = {}
        _update_fields(profile, changes, diffs)
        if profile.person.external_id is not None:
            owners[(EXTERNAL_ID, profile.person.external_id)] = profile.person.pk
        new = []
        for claim in claims[index]:
            kind, value = claim.key
            if kind == EXTERNAL_ID or value in profile.identities[kind]:
                continue
            profile.identities[kind].add(value)
            owners[claim.key] = profile.person.pk
            new.append(
                ContactIdentity(
                    person=profile.person, kind=kind, value=value, national_number=claim.national
                )
            )
        identities += new
        diffs.update(contact_diffs(new))
        added = []
        for name in changes.tags or []:
            tag = tags[name]
            if tag.pk not in profile.tag_ids:
                profile.tag_ids.add(tag.pk)
                links.append(Link(person_id=profile.person.pk, tag_id=tag.pk))
                added.append(tag.name)
        if added:
            diffs["tags"] = {"added": sorted(added), "removed": []}
        _update_values(profile, changes, diffs)
        outcomes[index] = bool(diffs)
        if diffs:
            profile.person.version += 1
            profile.changed_fields.add("version")
            events.append(
                event_row(
                    person=profile.person,
                    kind=_event_kind(diffs),
                    actor=actor,
                    changes=diffs,
                )
            )

    changed = [profile for profile in profiles.values() if profile.changed_fields]
    if changed:
        # The locked rows' changed columns written back in one statement (_write_people):
        # bulk_update's CASE WHEN per row and column took 6 of the 9 s of a 1,000-item batch
        # (cProfile). modified_at is auto_now.
        fields = {"modified_at"}.union(*(profile.changed_fields for profile in changed))
        _write_people([profile.person for profile in changed], sorted(fields))
    ContactIdentity.objects.bulk_create(identities, batch_size=ROWS_PER_STATEMENT)
    Link.objects.bulk_create(links, batch_size=ROWS_PER_STATEMENT)
    _write_values(profiles.values())
    Event.objects.bulk_create(events, batch_size=ROWS_PER_STATEMENT)
    return outcomes


def _unnest(fields: list[Any]) -> str | None:
    """``UNNEST(%s::type[], ...)`` of these columns, one array parameter each, or None where
    a column's type cannot be an array element (as Django's own bulk insert decides)."""
    if connection.vendor != "postgresql" or any(
        hasattr(f, "get_placeholder")
        or (f.target_field if f.is_relation else f).get_internal_type() not in connection.data_types
        for f in fields
    ):
        return None
    types = [f.db_type(connection).split("(")[0] for f in fields]
    return "UNNEST({})".format(", ".join(f"(%s)::{t}[]" for t in types))


def _columns(fields: list[Any], rows: list[list[Any]]) -> list[list[Any]]:
    """Rows turned into one list per column (the UNNEST arrays)."""
    return [list(column) for column in zip(*rows, strict=True)] or [[] for _ in fields]


def _insert(model: Any, objs: list[Any], skip: tuple[str, ...] = ()) -> None:
    """``model.objects.bulk_create(objs)``, on PostgreSQL as one INSERT ... SELECT FROM
    UNNEST of an array per column, their ids set on them in order (RETURNING gives them in the
    order of the arrays, as bulk_create relies on too).
    A person's database-kept tag_ids array keeps bulk_create from unnesting: it writes a
    placeholder per row and column, and building and quoting that statement took 0.25 to
    0.3 s for 1,000 people, this 0.13 s. ``skip``: columns left to their database default
    (a person's tag_ids: empty, the value bulk_create writes)."""
    pk = model._meta.pk
    fields = [f for f in model._meta.concrete_fields if f is not pk and f.name not in skip]
    source = _unnest(fields)
    if source is None or not objs or any(obj.pk is not None for obj in objs):
        model.objects.bulk_create(objs, batch_size=ROWS_PER_STATEMENT)
        return
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) SELECT * FROM {} RETURNING {}".format(
        quote(model._meta.db_table),
        ", ".join(quote(f.column) for f in fields),
        source,
        quote(pk.column),
    )
    with connection.cursor() as cursor:
        for start in range(0, len(objs), ROWS_PER_STATEMENT):
            part = objs[start : start + ROWS_PER_STATEMENT]
            rows = [
                [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
                for obj in part
            ]
            cursor.execute(sql, _columns(fields, rows))
            for obj, (value,) in zip(part, cursor.fetchall(), strict=True):
                obj.pk = value


def _write_people(people: list[Person], names: list[str]) -> None:
    """The locked people's changed columns written back: on PostgreSQL one UPDATE ... FROM
    UNNEST of an array per column (bulk_create's upsert writes every column of every row as
    a placeholder of its own: 0.23 to 0.32 s for 1,000 people in building and quoting it,
    this 0.07 s); elsewhere that upsert. The same triggers fire (UPDATE OF search_name).
    modified_at is auto_now."""
    fields = [Person._meta.get_field(name) for name in names]
    pk = Person._meta.pk
    source = _unnest([pk, *fields])
    if source is None:
        Person.objects.bulk_create(
            people,
            update_conflicts=True,
            unique_fields=["id"],
            update_fields=names,
            batch_size=ROWS_PER_STATEMENT // 2,
        )
        return
    quote = connection.ops.quote_name
    table = quote(Person._meta.db_table)
    sql = "UPDATE {t} SET {sets} FROM {source} AS v({names}) WHERE {t}.{pk} = v.{pk}".format(
        t=table,
        sets=", ".join(f"{quote(f.column)} = v.{quote(f.column)}" for f in fields),
        source=source,
        names=", ".join(quote(f.column) for f in [pk, *fields]),
        pk=quote(pk.column),
    )
    with connection.cursor() as cursor:
        for start in range(0, len(people), ROWS_PER_STATEMENT):
            rows = [
                [f.get_db_prep_save(f.pre_save(person, False), connection) for f in [pk, *fields]]
                for person in people[start : start + ROWS_PER_STATEMENT]
            ]
            cursor.execute(sql, _columns([pk, *fields], rows))


def _update_fields(profile: Profile, changes: PersonChanges, diffs: dict) -> None:
    """``_apply_fields`` without its externalId look-up (the batch made it)."""
    person = profile.person
    values = dict(changes.fields)
    vendor_names = {model: vendor for vendor, (model, _) in STANDARD_FIELDS.items()}
    before = {name: getattr(person, name) for name in values}
    external_id = values.pop("external_id", person.external_id)
    _apply_fields(person, values, diffs)
    if external_id != person.external_id:
        diffs[vendor_names["external_id"]] = {"before": person.external_id, "after": external_id}
        person.external_id = external_id
    changed = {name for name in before if getattr(person, name) != before[name]}
    if changed:
        profile.changed_fields |= changed | {"search_name", "search_name_reversed"}


def _update_values(profile: Profile, changes: PersonChanges, diffs: dict) -> None:
    if not changes.custom_attributes:
        return
    shown = {}
    for definition, value in changes.custom_attributes.items():
        row = profile.values.get(definition.pk)
        before = attribute_types.from_row(definition, row) if row else None
        if value is None:
            profile.values.pop(definition.pk, None)
        elif row is None:
            profile.values[definition.pk] = AttributeValue(
                person=profile.person,
                definition=definition,
                **attribute_types.to_columns(definition, value),
            )
        else:
            for column, column_value in attribute_types.to_columns(definition, value).items():
                setattr(row, column, column_value)
            profile.changed_values.add(definition.pk)
        if before != value:
            shown[definition.name] = attribute_diff(definition, before, value)
    if shown:
        diffs["customAttributes"] = shown


VALUE_COLUMNS = [
    "value_text",
    "value_number",
    "value_bool",
    "value_date",
    "value_datetime",
    "value_json",
]


def _write_values(profiles: Iterable[Profile]) -> None:
    """Removed values deleted; new and changed ones upserted on (person, definition), one
    statement (bulk_update of the changed rows cost about 3 s for 1,000 of them)."""
    kept, written = set(), []
    loaded: set[int] = set()
    for profile in profiles:
        loaded |= profile.loaded_value_ids
        for definition_id, row in profile.values.items():
            if row.pk is not None:
                kept.add(row.pk)
            if row.pk is None or definition_id in profile.changed_values:
                written.append(
                    AttributeValue(
                        person_id=row.person_id,
                        definition_id=row.definition_id,
                        **{column: getattr(row, column) for column in VALUE_COLUMNS},
                    )
                )
    gone = loaded - kept
    if gone:
        AttributeValue.objects.filter(pk__in=gone).delete()
    AttributeValue.objects.bulk_create(
        written,
        update_conflicts=True,
        unique_fields=["person", "definition"],
        update_fields=VALUE_COLUMNS,
        batch_size=ROWS_PER_STATEMENT,
    )


# ---------------------------------------------------------------------------------------------
# One tag on many people: all of them or none


def tag_add_batch(*, tag: Tag, actor: Actor, person_ids: list[int]) -> int:
    """Give ``tag`` to every person (``person_add_tags`` each): all or nothing. A person that
    no longer exists (deleted since the caller looked it up) refuses the whole batch with
    NOT_FOUND (``details["personId"]``). Answers how many people got the tag."""
    return in_one_transaction(lambda: _tag_batch(tag, actor, person_ids, add=True))


def tag_remove_batch(*, tag: Tag, actor: Actor, person_ids: list[int]) -> int:
    """Take ``tag`` off every person, all or nothing (as ``tag_add_batch``)."""
    return in_one_transaction(lambda: _tag_batch(tag, actor, person_ids, add=False))


def _tag_batch(tag: Tag, actor: Actor, person_ids: list[int], *, add: bool) -> int:
    # The tag first, FOR SHARE, then its people: tag_delete's order (no deadlock), and a tag
    # deleted meanwhile is a 404 rather than a foreign-key error at commit.
    if not _lock_for_share(Tag, [tag.pk]):
        raise DomainError(ErrorCode.NOT_FOUND, f"There is no tag {tag.name!r}.", "name")
    ids = sorted(set(person_ids))
    locked = set(
        Person.objects.select_for_update()
        .filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    missing = [pk for pk in person_ids if pk not in locked]
    if missing:
        raise DomainError(
            ErrorCode.NOT_FOUND,
            f"Person {missing[0]} does not exist; nothing was changed.",
            details={"personId": missing[0]},
        )
    Link = Person.tags.through
    having = set(
        Link.objects.filter(tag_id=tag.pk, person_id__in=ids).values_list("person_id", flat=True)
    )
    if add:
        changed = [pk for pk in ids if pk not in having]
        Link.objects.bulk_create(
            [Link(person_id=pk, tag_id=tag.pk) for pk in changed], batch_size=ROWS_PER_STATEMENT
        )
        diff = {"tags": {"added": [tag.name], "removed": []}}
    else:
        changed = sorted(having)
        Link.objects.filter(tag_id=tag.pk, person_id__in=changed).delete()
        diff = {"tags": {"added": [], "removed": [tag.name]}}
    if changed:
        Person.objects.filter(pk__in=changed).update(
            version=F("version") + 1, modified_at=timezone.now()
        )
        Event.objects.bulk_create(
            [
                event_row(
                    person=Person(pk=pk), kind=EventKind.TAGS_CHANGED, actor=actor, changes=diff
                )
                for pk in changed
            ],
            batch_size=ROWS_PER_STATEMENT,
        )
    return len(changed)
