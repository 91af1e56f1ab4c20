"""The text values' index ending in the person id, on the expression the queries compare.

Migration 0003 made attr_text_person_idx on ``substr(value_text, 1, 200)``; the ORM's
``Substr`` is ``SUBSTRING(value_text, 1, 200)``, another function to PostgreSQL, so no query
could use the index (idx_scan 0 on the 1M data set, 130 MB). It is made again on
``SUBSTRING``: a text attribute's value is then an index range in person order, and the probe
"has this person this value" an index-only scan.

PostgreSQL only (as 0003).
"""

from django.db import migrations

ON_SUBSTR = (
    "CREATE INDEX IF NOT EXISTS attr_text_person_idx ON people_attributevalue "
    "(definition_id, substr(value_text, 1, 200), person_id)"
)
ON_SUBSTRING = (
    "CREATE INDEX IF NOT EXISTS attr_text_person_idx ON people_attributevalue "
    "(definition_id, SUBSTRING(value_text, 1, 200), person_id)"
)


def recreate(sql: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute("DROP INDEX IF EXISTS attr_text_person_idx")
        schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("people", "0012_identity_person_list_index")]

    operations = [
        migrations.RunPython(recreate(ON_SUBSTRING), recreate(ON_SUBSTR), elidable=False),
    ]
