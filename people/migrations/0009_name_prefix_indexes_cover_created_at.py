"""The API's firstName/lastName #startsWith indexes also hold createdAt.

The API lists people newest first (createdAt, id). A name prefix on 8,000 people ("Hans") read
each of them from the table to sort them: 8,000 rows for a page of 20. With created_at in the
index the page's ids come from the index alone (sorted there), and only the page's 20 rows are
read (PersonsView reads the ids first, then the rows).

PostgreSQL only (as 0002). The new indexes replace those of 0008 under the same names.
"""

from django.db import migrations

COLUMNS = ("first_name", "last_name")


def _create(schema_editor, include: str) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        name = f"person_{column}_upper_idx"
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
        schema_editor.execute(
            f"CREATE INDEX {name} ON people_person (UPPER({column}::text) text_pattern_ops)"
            f" INCLUDE ({include.format(column=column)})"
        )


def create(apps, schema_editor):
    _create(schema_editor, "id, {column}, created_at")


def drop(apps, schema_editor):
    _create(schema_editor, "id, {column}")


class Migration(migrations.Migration):
    dependencies = [("people", "0008_name_prefix_indexes_cover_id_and_name")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
