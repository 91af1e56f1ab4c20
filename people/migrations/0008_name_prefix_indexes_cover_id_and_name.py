"""The API's firstName/lastName #startsWith indexes (0006) also hold the id and the name.

A rare tag with a name prefix is read as the tag's people INTERSECT the prefix's people
(people.search.TagFilter.with_prefix). With the id and the name in the index the prefix's
people come from the index alone (the name: PostgreSQL checks ``UPPER(name) LIKE`` on the
column, so the column must be there too): "Mar" is 31,000 index entries instead of 31,000
rows of the table.

PostgreSQL only (as 0002). The new indexes replace those of 0006 under the same names.
"""

from django.db import migrations

COLUMNS = ("first_name", "last_name")


def _create(schema_editor, include: bool) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        name = f"person_{column}_upper_idx"
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
        schema_editor.execute(
            f"CREATE INDEX {name} ON people_person (UPPER({column}::text) text_pattern_ops)"
            + (f" INCLUDE (id, {column})" if include else "")
        )


def create(apps, schema_editor):
    _create(schema_editor, include=True)


def drop(apps, schema_editor):
    _create(schema_editor, include=False)


class Migration(migrations.Migration):
    dependencies = [("people", "0007_attribute_value_statistics")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
