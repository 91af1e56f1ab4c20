"""A person's identities with the columns a result row shows, in the index on person_id.

The lists read each listed person's phones and emails (search.LIST_IDENTITY_FIELDS) from
this index alone on PostgreSQL (an index-only scan), not from the index and then the table:
one page read less for each person of a page, which for the scattered people of a name range
is a read from the disk. It replaces the foreign key's own index on person_id. Elsewhere the
INCLUDE columns are left out (a plain index on person_id).
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0011_person_tag_ids_on_truncate"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="contactidentity",
            index=models.Index(
                fields=["person"],
                include=("id", "kind", "value", "national_number"),
                name="identity_person_list_idx",
            ),
        ),
        # The foreign key's own index goes by its name: AlterField(db_index=False) drops any
        # index on person_id alone that it takes for its own (installations 0002 has one).
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="contactidentity",
                    name="person",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="identities",
                        to="people.person",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS people_contactidentity_person_id_095cd937",
                    reverse_sql="CREATE INDEX people_contactidentity_person_id_095cd937 ON people_contactidentity (person_id)",
                ),
            ],
        ),
    ]
