"""A person's installations with the columns a result row shows, in the (person, os) index.

The lists read each listed person's devices (search.LIST_INSTALLATION_FIELDS) from this
index alone on PostgreSQL (an index-only scan), not from the index and then the table; the
platform filter probes it as it probed (person, os). It replaces that index and the foreign
key's own index on person_id (the same first column). Elsewhere the INCLUDE columns are left
out.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("installations", "0001_initial"),
        ("people", "0012_identity_person_list_index"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="installation",
            index=models.Index(
                fields=["person", "os"],
                include=(
                    "id",
                    "application",
                    "push_registration_id",
                    "is_primary",
                    "registration_enabled",
                ),
                name="installation_person_list_idx",
            ),
        ),
        migrations.RemoveIndex(
            model_name="installation",
            name="installation_person_os_idx",
        ),
        # The foreign key's own index goes by its name: AlterField(db_index=False) would also
        # drop every other single-column index on person_id that it takes for its own
        # (one_primary_installation_per_person, the partial unique index, among them).
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="installation",
                    name="person",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="installations",
                        to="people.person",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS installations_installation_person_id_6f49577a",
                    reverse_sql="CREATE INDEX installations_installation_person_id_6f49577a ON installations_installation (person_id)",
                ),
            ],
        ),
    ]
