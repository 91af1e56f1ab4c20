"""The people of a tag, in person order, from the index alone (issue 7, docs/scaling.md).

The tag list and every combination with a tag read a tag's people first. With the index on
`tag_id` alone each of them costs a heap page of the through table (3,500 to 5,000 pages for a
rare tag at a million people); `(tag_id, person_id)` makes it an index-only scan of a few pages
and gives the newest people of a tag as the end of an index range. It replaces the index on
`tag_id` that Django made for the foreign key: every query that used that one can use this one.
"""

from django.db import migrations

TABLE = "people_person_tags"
NAME = "person_tags_tag_person_idx"


def _single_tag_id_indexes(schema_editor):
    with schema_editor.connection.cursor() as cursor:
        constraints = schema_editor.connection.introspection.get_constraints(cursor, TABLE)
    return [
        name
        for name, info in constraints.items()
        if info["index"] and not info["unique"] and info["columns"] == ["tag_id"]
    ]


def create(apps, schema_editor):
    schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {NAME} ON {TABLE} (tag_id, person_id)")
    for name in _single_tag_id_indexes(schema_editor):
        schema_editor.execute(f"DROP INDEX {schema_editor.quote_name(name)}")


def drop(apps, schema_editor):
    if not _single_tag_id_indexes(schema_editor):
        schema_editor.execute(f"CREATE INDEX {TABLE}_tag_id_idx ON {TABLE} (tag_id)")
    schema_editor.execute(f"DROP INDEX IF EXISTS {NAME}")


class Migration(migrations.Migration):
    dependencies = [("people", "0003_attribute_value_person_indexes")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
