"""The "last first" name index carries "first last" too (issue 7, docs/scaling.md).

A name page lists a person under "first last" when that matches, so its "last first" range
leaves out the people whose "first last" matches the prefix as well. With search_name in the
index that test is answered from the index (an index-only scan); without it, every row of the
range is read from the table, and with a tag filter on top that was thousands of rows.

PostgreSQL only (as 0002).
"""

from django.db import migrations

OLD = (
    "CREATE INDEX IF NOT EXISTS person_search_name_rev_c_idx ON people_person "
    '((search_name_reversed COLLATE "C"), id)'
)
NEW = (
    "CREATE INDEX IF NOT EXISTS person_search_name_rev_c_idx ON people_person "
    '((search_name_reversed COLLATE "C"), id) INCLUDE (search_name)'
)


def _replace(schema_editor, sql):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS person_search_name_rev_c_idx")
    schema_editor.execute(sql)


def create(apps, schema_editor):
    _replace(schema_editor, NEW)


def drop(apps, schema_editor):
    _replace(schema_editor, OLD)


class Migration(migrations.Migration):
    dependencies = [("people", "0004_person_tags_tag_person_index")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
