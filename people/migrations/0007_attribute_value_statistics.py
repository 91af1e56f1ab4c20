"""How often a custom attribute has a value, for the planner (issue 7, docs/scaling.md).

value_bool and value_text hold the values of every attribute of their type, so PostgreSQL
multiplies "definition = Newsletter opt-in" by "value_bool = true" as if they were
independent and expected 24,000 people where there are 172,000. With that estimate it joined
every match of a tag filter and sorted them (46 ms); with these statistics it walks the
people newest first and probes, and stops after a page (5 ms).

PostgreSQL only (extended statistics); filled by the next ANALYZE (autovacuum, or the one
generate_people runs).
"""

from django.db import migrations

STATISTICS = [
    ("attr_definition_bool_stats", "definition_id, value_bool"),
    ("attr_definition_text_stats", "definition_id, value_text"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, columns in STATISTICS:
        schema_editor.execute(
            f"CREATE STATISTICS IF NOT EXISTS {name} (mcv) ON {columns} FROM people_attributevalue"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _ in STATISTICS:
        schema_editor.execute(f"DROP STATISTICS IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("people", "0006_name_prefix_indexes_for_the_api")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
