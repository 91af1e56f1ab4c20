"""On PostgreSQL, what no model option says; and the models' triggers on a database migrated
before 0001 was a squash. Every statement may run again: a database migrated through the old
0001 to 0022 has the statistics already.

- Extended statistics: how often a custom attribute has a value. value_bool and value_text
  hold the values of every attribute of their type; without these the planner multiplies
  "definition = X" by "value = Y" as if they were independent.
- 1,000 statistics entries per trigram index expression (ANALYZE): with the default 100 the
  planner took a substring of 8,000 emails for one of 200.
- No varchar_pattern_ops twin of the name dictionary's primary key (Django adds one to a text
  primary key): its words compare in code point order (COLLATE "C"), so the key's own index
  answers a prefix as a range.
- The triggers: such a database has those of people/models.py under the names the old
  migrations gave them (person_tags_added, person_name_terms_created, ...), with functions of
  their own. They go, and the models' are installed, as on a new database (where 0001 made
  them: installing one again replaces it with itself).
"""

from django.db import migrations

from core.pattern_indexes import drop_like_index

STATISTICS = [("attr_definition_bool_stats", "value_bool"), ("attr_definition_text_stats", "value_text")]
TRIGRAM_INDEXES = [
    "identity_value_trgm_idx",
    "person_first_name_trgm_idx",
    "person_last_name_trgm_idx",
    "person_city_trgm_idx",
    "attr_text_trgm_idx",
]
# (name, table, function) of the triggers as the old migrations 0010, 0011 and 0018 made them.
OLD_TRIGGERS = [
    ("person_tags_added", "people_person_tags", "people_person_tag_ids_added"),
    ("person_tags_removed", "people_person_tags", "people_person_tag_ids_removed"),
    ("person_tags_changed", "people_person_tags", "people_person_tag_ids_changed"),
    ("person_tags_truncated", "people_person_tags", "people_person_tag_ids_truncated"),
    ("person_name_terms_created", "people_person", "people_name_terms_add"),
    ("person_name_terms_renamed", "people_person", "people_name_terms_add"),
]


def statistics(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, column in STATISTICS:
        schema_editor.execute(
            f"CREATE STATISTICS IF NOT EXISTS {name} (mcv) ON definition_id, {column}"
            " FROM people_attributevalue"
        )
    for name in TRIGRAM_INDEXES:
        schema_editor.execute(f"ALTER INDEX {name} ALTER COLUMN 1 SET STATISTICS 1000")


def no_statistics(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in TRIGRAM_INDEXES:
        schema_editor.execute(f"ALTER INDEX {name} ALTER COLUMN 1 SET STATISTICS -1")
    for name, _ in STATISTICS:
        schema_editor.execute(f"DROP STATISTICS IF EXISTS {name}")


def models_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for trigger, table, _ in OLD_TRIGGERS:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
    for function in dict.fromkeys(function for *_, function in OLD_TRIGGERS):
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {function}()")
    for model_name in ("Person", "PersonTag"):
        for trigger in apps.get_model("people", model_name)._meta.triggers:
            schema_editor.execute(trigger.install_sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("people", "0001_squashed_0022_custom_event_definitions")]

    operations = [
        migrations.RunPython(statistics, no_statistics, elidable=False),
        drop_like_index("people", "NameTerm", "term"),
        migrations.RunPython(models_triggers, migrations.RunPython.noop, elidable=False),
    ]
