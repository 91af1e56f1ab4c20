"""Stored emails and externalIds in the form people.identities now gives them.

Emails: NFKC, case folding, the domain in its IDNA (punycode) form; externalIds: NFC
(DOMAIN.md, "Contact identities"). Rows already in that form (every plain ASCII address and
id) are left alone; the others are rewritten with the same functions the services use.

What cannot be rewritten stops the migration, naming the rows, and changes nothing (it runs
in one transaction):

- two people whose addresses (or externalIds) are now one: which person keeps the mailbox
  is an operator's choice (remove it from one of them, then migrate again);
- an address or externalId that is now refused (an invisible or format character, such as
  a soft hyphen or a zero-width space, or an address that is no longer valid).

One person holding two spellings of one mailbox keeps one row (the oldest).
"""

from django.db import migrations

from core.errors import DomainError
from people.identities import normalize_email, normalize_external_id


def renormalize(apps, schema_editor):
    Identity = apps.get_model("people", "ContactIdentity")
    Person = apps.get_model("people", "Person")
    problems: list[str] = []

    # A plain ASCII address was stored lower-cased, which is already its new form (NFKC and
    # case folding change no ASCII letter but its case; an ASCII domain keeps its spelling):
    # only the others are read again, and compared with the rows that hold their new form.
    # A million people are one pass over the table, not a dictionary of every address.
    emails = Identity.objects.filter(kind="EMAIL").order_by("id").values_list("id", "person_id", "value")
    found = []  # (identity, person, stored value, new form)
    for pk, person_id, value in emails.iterator(chunk_size=2000):
        if value.isascii():
            continue
        try:
            found.append((pk, person_id, value, normalize_email(value)))
        except DomainError as error:
            problems.append(f"email {value!r} of person {person_id}: {error.message}")
    holders = Identity.objects.filter(kind="EMAIL", value__in={row[3] for row in found})
    involved = {row[0]: row for row in found}
    for pk, person_id, value in holders.values_list("id", "person_id", "value"):
        involved.setdefault(pk, (pk, person_id, value, value))

    owners: dict[str, int] = {}  # new form -> person
    rewrite, duplicates = [], []
    for pk, person_id, value, address in sorted(involved.values()):
        if address in owners:
            if owners[address] == person_id:
                duplicates.append(pk)
            else:
                problems.append(
                    f"email {value!r} of person {person_id} is {address!r} of person"
                    f" {owners[address]}"
                )
            continue
        owners[address] = person_id
        if address != value:
            rewrite.append((pk, address))

    # externalIds: NFC changes no ASCII text, and no ASCII character is a format character.
    found_ids = []  # (person, stored value, new form)
    people = Person.objects.exclude(external_id=None).order_by("id").values_list("id", "external_id")
    for person_id, value in people.iterator(chunk_size=2000):
        if value.isascii():
            continue
        try:
            found_ids.append((person_id, value, normalize_external_id(value)))
        except DomainError as error:
            problems.append(f"externalId {value!r} of person {person_id}: {error.message}")
    holders_ids = Person.objects.filter(external_id__in={row[2] for row in found_ids})
    involved_ids = {row[0]: row for row in found_ids}
    for person_id, value in holders_ids.values_list("id", "external_id"):
        involved_ids.setdefault(person_id, (person_id, value, value))
    ids: dict[str, int] = {}
    rewrite_ids = []
    for person_id, value, external_id in sorted(involved_ids.values()):
        if external_id in ids:
            problems.append(
                f"externalId {value!r} of person {person_id} is {external_id!r} of person"
                f" {ids[external_id]}"
            )
            continue
        ids[external_id] = person_id
        if external_id != value:
            rewrite_ids.append((person_id, external_id))

    if problems:
        raise RuntimeError(
            "Stored emails or externalIds that the new rules (NFKC, case folding, IDNA; NFC;"
            " no invisible characters) refuse or make one. Correct or remove them, then"
            " migrate again:\n  " + "\n  ".join(problems)
        )
    # No rewritten value is another row's (that was a problem above, or a duplicate of the
    # same person, deleted here first).
    Identity.objects.filter(pk__in=duplicates).delete()
    for pk, address in rewrite:
        Identity.objects.filter(pk=pk).update(value=address)
    for person_id, external_id in rewrite_ids:
        Person.objects.filter(pk=person_id).update(external_id=external_id)


class Migration(migrations.Migration):
    dependencies = [("people", "0020_name_keys")]

    operations = [migrations.RunPython(renormalize, migrations.RunPython.noop)]
