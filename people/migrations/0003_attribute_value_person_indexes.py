"""Custom attribute filters that match many people (issue 7, docs/scaling.md).

"Favourite store = Online" matches tens of thousands of people at a million. With the value
indexes alone PostgreSQL fetches every match, then sorts them to show the newest 50. With the
person id as the last column, equal values come in person order, so the newest matches are the
end of an index range, read backwards, and an index-only scan when the text is short.

PostgreSQL only (as 0002): SQLite keeps the indexes of Meta.indexes.
"""

from django.db import migrations

INDEXES = [
    (
        "attr_text_person_idx",
        "CREATE INDEX IF NOT EXISTS attr_text_person_idx ON people_attributevalue "
        "(definition_id, substr(value_text, 1, 200), person_id)",
    ),
    (
        "attr_number_person_idx",
        "CREATE INDEX IF NOT EXISTS attr_number_person_idx ON people_attributevalue "
        "(definition_id, value_number, person_id)",
    ),
    (
        "attr_bool_person_idx",
        "CREATE INDEX IF NOT EXISTS attr_bool_person_idx ON people_attributevalue "
        "(definition_id, value_bool, person_id)",
    ),
    (
        "attr_date_person_idx",
        "CREATE INDEX IF NOT EXISTS attr_date_person_idx ON people_attributevalue "
        "(definition_id, value_date, person_id)",
    ),
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
    dependencies = [("people", "0002_search_indexes")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
