"""The API's firstName/lastName #startsWith, from an index (issue 7, docs/scaling.md).

The vendor's filter compares names case-insensitively, which Django writes as
``UPPER(last_name) LIKE 'HOR%'``. Without an index on that expression a list ordered by
createdAt walks the people newest first and tests each one: 130,000 rows for "Hor" at a
million people. With these (text_pattern_ops, so that a LIKE prefix is an index range in any
collation) the planner reads the prefix's few thousand people when that is cheaper.

PostgreSQL only (as 0002).
"""

from django.db import migrations

INDEXES = [
    (
        f"person_{column}_upper_idx",
        f"CREATE INDEX IF NOT EXISTS person_{column}_upper_idx ON people_person "
        f"(UPPER({column}::text) text_pattern_ops)",
    )
    for column in ("first_name", "last_name")
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for _, sql in INDEXES:
        schema_editor.execute(sql)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _ in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("people", "0005_reversed_name_index_includes_name")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
