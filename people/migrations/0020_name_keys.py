"""Tag and definition names are unique by one folding rule, computed in Python.

The unique indexes on lower(name) go: PostgreSQL's lower() and Python's disagree (Greek final
sigma, Turkish dotted I), so a name could be stored that no look-up reached, and two writers
could each miss the other's row and collide. Each row now stores
people.name_keys.name_key(name) (NFKC, then casefold) in ``name_key``, which carries the
unique constraint (DOMAIN.md, "Custom attributes").

Rows that the old rule let in but that now fold to the same key:

- Tags are merged: they are one tag by the rule. The oldest (lowest id) keeps its name; the
  people of the others get it (a person who had two of them keeps one), and the others are
  deleted. Nothing but the spelling of a tag name is lost.
- Definitions are not merged (their data types and people's values may differ): the
  migration stops, naming the colliding definitions, and changes nothing. Rename or delete
  one of each pair (admin, or the API), then migrate again.
"""

from django.db import migrations, models

import people.name_keys
from people.name_keys import name_key


def _groups(rows):
    by_key = {}
    for row in rows:
        row.name_key = name_key(row.name)
        by_key.setdefault(row.name_key, []).append(row)
    return by_key


def fill_name_keys(apps, schema_editor):
    Tag = apps.get_model("people", "Tag")
    Definition = apps.get_model("people", "AttributeDefinition")
    through = apps.get_model("people", "Person").tags.through

    definitions = _groups(Definition.objects.order_by("id"))
    clashes = [rows for rows in definitions.values() if len(rows) > 1]
    if clashes:
        listed = "; ".join(
            " and ".join(f"{row.name!r} (id {row.pk}, {row.data_type})" for row in rows)
            for rows in clashes
        )
        raise RuntimeError(
            "These custom attribute definitions are one name under the new rule (NFKC and"
            f" case folding): {listed}. Rename or delete one of each, then migrate again."
        )
    Definition.objects.bulk_update(
        [row for rows in definitions.values() for row in rows], ["name_key"], batch_size=500
    )

    tags = _groups(Tag.objects.order_by("id"))
    for keep, *others in tags.values():
        if not others:
            continue
        other_ids = [tag.pk for tag in others]
        has_kept = through.objects.filter(tag_id=keep.pk).values("person_id")
        moving = through.objects.filter(tag_id__in=other_ids).exclude(person_id__in=has_kept)
        person_ids = set(moving.values_list("person_id", flat=True))
        through.objects.bulk_create(
            [through(person_id=pk, tag_id=keep.pk) for pk in person_ids], batch_size=500
        )
        through.objects.filter(tag_id__in=other_ids).delete()
        Tag.objects.filter(pk__in=other_ids).delete()
    Tag.objects.bulk_update([rows[0] for rows in tags.values()], ["name_key"], batch_size=500)
    if schema_editor.connection.vendor == "postgresql":
        # Run the deferred foreign-key checks of the deletes now: PostgreSQL refuses to
        # alter a table with pending trigger events in the same transaction.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0019_drop_like_indexes"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="attributedefinition",
            name="definition_name_unique_ci",
        ),
        migrations.RemoveConstraint(
            model_name="tag",
            name="tag_name_unique_ci",
        ),
        migrations.AddField(
            model_name="attributedefinition",
            name="name_key",
            field=people.name_keys.NameKeyField(default=""),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="tag",
            name="name_key",
            field=people.name_keys.NameKeyField(default=""),
            preserve_default=False,
        ),
        migrations.RunPython(fill_name_keys, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="attributedefinition",
            constraint=models.UniqueConstraint(
                fields=("name_key",), name="definition_name_key_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="tag",
            constraint=models.UniqueConstraint(fields=("name_key",), name="tag_name_key_unique"),
        ),
    ]
