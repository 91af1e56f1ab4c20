"""Search indexes that only PostgreSQL has (issue 7, docs/scaling.md).

- person_search_name_c_idx / person_search_name_rev_c_idx: (name COLLATE "C", id). A name
  search is a range on the folded name in code point order, and its page is ordered by
  (name, id): the first rows of this index, with no sort of every match.

They are expressions with a collation, which Django's Meta.indexes cannot say portably, so
they are created here with SQL when the database is PostgreSQL; SQLite compares text in code
point order already and uses the indexes of Meta.indexes.
"""

from django.db import migrations

INDEXES = [
    (
        "person_search_name_c_idx",
        "CREATE INDEX IF NOT EXISTS person_search_name_c_idx ON people_person "
        '((search_name COLLATE "C"), id)',
    ),
    (
        "person_search_name_rev_c_idx",
        "CREATE INDEX IF NOT EXISTS person_search_name_rev_c_idx ON people_person "
        '((search_name_reversed COLLATE "C"), id)',
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
    dependencies = [("people", "0001_initial")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
