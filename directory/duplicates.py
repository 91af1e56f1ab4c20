"""Possible duplicates: people who may be the same person as another.

Four rules, each with a reason an operator reads:

- ``birth``: the same folded full name (``Person.search_name``) and the same birth date;
- ``email``: the same folded full name and an email with the same local part
  (``ana.horvat@a.example`` and ``Ana.Horvat@b.example``);
- ``phone``: the same folded full name and a phone with the same national digits under
  another country code (``+385 91 641 9710`` and ``+33 9 16 41 97 10``);
- ``device``: a name at most one edit away (Levenshtein, rapidfuzz) and an installation of
  the same app on the same device model and OS (the device's fingerprint).

``candidates(person_id)`` finds them for one person (the person page's panel) in at most six
statements, each an index probe: the person, its identities, its installations' fingerprints,
the rules' probes in one ``UNION ALL``, the pairs already said not to be duplicates, and the
candidates' rows. A pair an operator marked "not a duplicate" (``people.models.NotDuplicate``)
is never proposed again, whichever of the two is asked about.

``find_pairs()`` finds every pair of the first three rules at once, set-based (``GROUP BY``
the name with the birth date, the email's local part or the national number), for the
duplicates queue (``people.models.DuplicatePair``, filled daily by ``manage.py
find_duplicates``). The device rule is only asked person by person, on the person page: over
everyone it would compare every pair of names among the people of a popular device.

It lives above people and installations because the device rule reads both.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Q
from rapidfuzz.distance import Levenshtein

from installations.models import Installation
from people.models import (
    ContactIdentity,
    DuplicatePair,
    IdentityKind,
    NotDuplicate,
    Person,
)

RULES = {
    "birth": "same name and birth date",
    "email": "same name and email name (before the @)",
    "phone": "same name and phone number under another country code",
    "device": "name one letter apart and the same device (app, model and OS)",
}
# At most this many candidates are shown for one person.
MAX_CANDIDATES = 10
# Rows each probe may read: a probe of a common key stops there.
PROBE_LIMIT = 20
# Rows each of the device rule's name probes may read (see _device_branches).
DEVICE_PROBE_LIMIT = 500
# People sharing a key beyond this many are not paired by find_pairs (a placeholder name and
# date, a shared mailbox name like "info" among namesakes): no operator works through them.
MAX_GROUP = 20


@dataclass(frozen=True)
class Candidate:
    person: Person
    rules: tuple[str, ...]

    @property
    def reasons(self) -> list[str]:
        return [RULES[rule] for rule in self.rules]


def ordered(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def _like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _local_part_sql(column: str) -> str:
    """The lower-cased local part of an email column: on PostgreSQL the expression of the
    index identity_email_local_idx; elsewhere a plain equivalent (emails are stored
    lower-cased)."""
    if connection.vendor == "postgresql":
        return f"lower(split_part({column}, '@', 1))"
    return f"substr({column}, 1, instr({column}, '@') - 1)"


def _placeholders(values: list) -> str:
    return ", ".join(["%s"] * len(values))


def _device_branches(person: Person, fingerprints: list[tuple]) -> tuple[list[str], list]:
    """The device rule's probes: people with a name close to this person's in a name index,
    and an installation with one of its fingerprints.

    A fingerprint alone is no probe: a popular model ("iPhone 15" on iOS) is shared by
    thousands, and so is a first name. A name one edit away from "ana horvat" keeps one of
    its words whole: the first ("ana horvath": the edit is in the last name) or the last
    ("anna horvat"). So there are two probes, each a range of a name index: ``search_name``
    starting with "ana h" (the first word and the last word's first letter) and
    ``search_name_reversed`` starting with "horvat a". Each reads at most
    DEVICE_PROBE_LIMIT people of its range and checks the fingerprint on each one's
    installations (a probe of installation_app_person_idx, application and person); the
    distance is measured on what they return. So the work is bounded whatever the data: at
    most 2 x DEVICE_PROBE_LIMIT index entries and as many installation probes. No index on
    the fingerprint itself: the probes never start from it (its people are too many), and
    the installations table is the busiest one written.

    What it does not find, by design: an edit of a word's first letter ("ana gorvat"), an
    edit of the space between the words ("anahorvat"), a one-word name, and a match beyond
    the first DEVICE_PROBE_LIMIT people of a very common range.
    """
    words = person.search_name.split(" ")
    if len(words) < 2:
        return [], []
    first, last = words[0], words[-1]
    fingerprint_sql = " OR ".join(
        ["(x.application_id = %s AND x.device_model = %s AND x.os = %s)"] * len(fingerprints)
    )
    fingerprint_params = [value for fingerprint in fingerprints for value in fingerprint]
    branches, params = [], []
    for column, prefix in (
        ("search_name", f"{first} {last[0]}"),
        ("search_name_reversed", f"{last} {first[0]}"),
    ):
        branches.append(
            "SELECT * FROM (SELECT p.id, 'device' AS rule, p.search_name FROM ("
            f"SELECT id, search_name FROM people_person WHERE {column} LIKE %s ESCAPE '\\'"
            f" LIMIT {DEVICE_PROBE_LIMIT}) AS p"
            " WHERE p.id <> %s AND EXISTS (SELECT 1 FROM installations_installation x"
            f" WHERE x.person_id = p.id AND ({fingerprint_sql}))) AS d"
        )
        params += [_like_prefix(prefix), person.pk, *fingerprint_params]
    return branches, params


def candidate_statement(person: Person) -> tuple[str, list] | None:
    """The rules' probes for ``person`` as one statement (None: no rule can apply): rows of
    (person id, rule, folded name of a device match). Exposed for the EXPLAIN tests."""
    if not person.search_name:
        return None
    identities = list(
        ContactIdentity.objects.filter(person_id=person.pk).values_list(
            "kind", "value", "national_number"
        )
    )
    fingerprints = list(
        Installation.objects.filter(person_id=person.pk)
        .exclude(device_model="")
        .values_list("application_id", "device_model", "os")
        .distinct()
    )
    locals_ = sorted(
        {value.split("@", 1)[0] for kind, value, _ in identities if kind == IdentityKind.EMAIL}
    )
    nationals = sorted({n for kind, _, n in identities if kind == IdentityKind.PHONE and n})
    phones = sorted({value for kind, value, _ in identities if kind == IdentityKind.PHONE})
    branches: list[str] = []
    params: list = []
    if person.birth_date is not None:
        branches.append(
            "SELECT * FROM (SELECT p.id, 'birth' AS rule, NULL AS search_name"
            " FROM people_person p WHERE p.search_name = %s AND p.birth_date = %s"
            f" AND p.id <> %s LIMIT {PROBE_LIMIT}) AS b"
        )
        params += [person.search_name, person.birth_date, person.pk]
    if locals_:
        local = _local_part_sql("i.value")
        branches.append(
            "SELECT * FROM (SELECT i.person_id AS id, 'email' AS rule, NULL AS search_name"
            " FROM people_contactidentity i JOIN people_person p ON p.id = i.person_id"
            f" WHERE i.kind = 'EMAIL' AND {local} IN ({_placeholders(locals_)})"
            f" AND p.search_name = %s AND i.person_id <> %s LIMIT {PROBE_LIMIT}) AS e"
        )
        params += [*locals_, person.search_name, person.pk]
    if nationals:
        branches.append(
            "SELECT * FROM (SELECT i.person_id AS id, 'phone' AS rule, NULL AS search_name"
            " FROM people_contactidentity i JOIN people_person p ON p.id = i.person_id"
            f" WHERE i.kind = 'PHONE' AND i.national_number IN ({_placeholders(nationals)})"
            f" AND i.value NOT IN ({_placeholders(phones)})"
            f" AND p.search_name = %s AND i.person_id <> %s LIMIT {PROBE_LIMIT}) AS t"
        )
        params += [*nationals, *phones, person.search_name, person.pk]
    if fingerprints:
        device_branches, device_params = _device_branches(person, fingerprints)
        branches += device_branches
        params += device_params
    if not branches:
        return None
    return " UNION ALL ".join(branches), params


def candidates(person_id: int) -> list[Candidate]:
    """The people who may be the same person as ``person_id``'s, with the rules that say so,
    at most MAX_CANDIDATES, those matched by more rules first (then newest first)."""
    person = Person.objects.filter(pk=person_id).only("search_name", "birth_date").first()
    if person is None:
        return []
    statement = candidate_statement(person)
    if statement is None:
        return []
    found: dict[int, set[str]] = defaultdict(set)
    with connection.cursor() as cursor:
        cursor.execute(*statement)
        for other_id, rule, name in cursor.fetchall():
            if rule == "device" and Levenshtein.distance(name, person.search_name) > 1:
                continue
            found[other_id].add(rule)
    if not found:
        return []
    dismissed = not_duplicates_of(person_id, found)
    ids = sorted(
        (pk for pk in found if pk not in dismissed),
        key=lambda pk: (-len(found[pk]), -pk),
    )[:MAX_CANDIDATES]
    if not ids:
        return []
    people = Person.objects.in_bulk(ids)
    order = list(RULES)
    return [
        Candidate(people[pk], tuple(sorted(found[pk], key=order.index)))
        for pk in ids
        if pk in people
    ]


def not_duplicates_of(person_id: int, others) -> set[int]:
    """Which of ``others`` were said not to be duplicates of ``person_id`` (one statement)."""
    others = list(others)
    rows = NotDuplicate.objects.filter(
        Q(low_id=person_id, high_id__in=others) | Q(high_id=person_id, low_id__in=others)
    ).values_list("low_id", "high_id")
    return {low if high == person_id else high for low, high in rows}


# ---------------------------------------------------------------------------------------------
# Every pair at once: the queue


def _pair_statements() -> dict[str, str]:
    """Per rule, one statement of (low id, high id) pairs: people grouped by the rule's key,
    groups of 2 to MAX_GROUP people, each pair once."""
    local = _local_part_sql("i.value")
    keyed = {
        "birth": (
            "SELECT id AS person_id, search_name AS name, CAST(birth_date AS TEXT) AS k"
            " FROM people_person WHERE search_name <> '' AND birth_date IS NOT NULL"
        ),
        "email": (
            f"SELECT DISTINCT i.person_id, p.search_name AS name, {local} AS k"
            " FROM people_contactidentity i JOIN people_person p ON p.id = i.person_id"
            " WHERE i.kind = 'EMAIL' AND p.search_name <> ''"
        ),
        "phone": (
            "SELECT DISTINCT i.person_id, p.search_name AS name, i.national_number AS k"
            " FROM people_contactidentity i JOIN people_person p ON p.id = i.person_id"
            " WHERE i.kind = 'PHONE' AND i.national_number <> '' AND p.search_name <> ''"
        ),
    }
    return {
        rule: (
            f"WITH keyed AS ({source}),"
            " groups AS (SELECT name, k FROM keyed GROUP BY name, k"
            f" HAVING count(*) BETWEEN 2 AND {MAX_GROUP})"
            " SELECT DISTINCT a.person_id, b.person_id FROM groups g"
            " JOIN keyed a ON a.name = g.name AND a.k = g.k"
            " JOIN keyed b ON b.name = g.name AND b.k = g.k AND b.person_id > a.person_id"
        )
        for rule, source in keyed.items()
    }


def find_pairs() -> dict[tuple[int, int], list[str]]:
    """Every pair of people the set-based rules find (not the device rule), with its rules,
    less the pairs said not to be duplicates."""
    found: dict[tuple[int, int], set[str]] = defaultdict(set)
    with connection.cursor() as cursor:
        for rule, sql in _pair_statements().items():
            cursor.execute(sql)
            for low, high in cursor.fetchall():
                found[(low, high)].add(rule)
    dismissed = set(NotDuplicate.objects.values_list("low_id", "high_id"))
    order = list(RULES)
    return {
        pair: sorted(rules, key=order.index)
        for pair, rules in found.items()
        if pair not in dismissed
    }


@dataclass(frozen=True)
class Refresh:
    added: int
    changed: int
    removed: int
    total: int


def refresh_pairs() -> Refresh:
    """Make the queue (DuplicatePair) what find_pairs finds now: new pairs added (the newest
    first in the queue), pairs found by other rules updated, pairs no longer found removed."""
    found = find_pairs()
    with transaction.atomic():
        existing = {(p.low_id, p.high_id): p for p in DuplicatePair.objects.select_for_update()}
        stale = [p.pk for key, p in existing.items() if key not in found]
        changed = []
        for key, pair in existing.items():
            if key in found and pair.reasons != found[key]:
                pair.reasons = found[key]
                changed.append(pair)
        new = [
            DuplicatePair(low_id=low, high_id=high, reasons=rules)
            for (low, high), rules in sorted(found.items())
            if (low, high) not in existing
        ]
        DuplicatePair.objects.filter(pk__in=stale).delete()
        DuplicatePair.objects.bulk_update(changed, ["reasons"])
        DuplicatePair.objects.bulk_create(new, ignore_conflicts=True)
    return Refresh(len(new), len(changed), len(stale), len(found))


# ---------------------------------------------------------------------------------------------
# The queue's pages

QUEUE_PAGE_SIZE = 25


@dataclass(frozen=True)
class QueueRow:
    pair: DuplicatePair
    low: Person
    high: Person

    @property
    def reasons(self) -> list[str]:
        return [RULES.get(rule, rule) for rule in self.pair.reasons]


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    next_after: int | None


def queue_page(after: int | None = None) -> QueuePage:
    """A page of the queue, newest pair first, after the pair id ``after`` (a keyset): one
    statement (the pairs with both people joined)."""
    pairs = DuplicatePair.objects.select_related("low", "high").order_by("-pk")
    if after is not None:
        pairs = pairs.filter(pk__lt=after)
    rows = list(pairs[: QUEUE_PAGE_SIZE + 1])
    more = len(rows) > QUEUE_PAGE_SIZE
    rows = rows[:QUEUE_PAGE_SIZE]
    return QueuePage(
        [QueueRow(p, p.low, p.high) for p in rows],
        rows[-1].pk if more else None,
    )
