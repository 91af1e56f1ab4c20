"""ApiKey moves from the portal app to core: the table is renamed and its content type (and so
its permissions and admin log entries) follows; no row is copied."""

from django.db import migrations, models


def move_content_type(apps, schema_editor, source="portal", target="core"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label=target, model="apikey").exists():
        ContentType.objects.filter(app_label=source, model="apikey").update(app_label=target)


def restore_content_type(apps, schema_editor):
    move_content_type(apps, schema_editor, source="core", target="portal")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("portal", "0002_roles"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ApiKey",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("name", models.CharField(max_length=128)),
                        (
                            "role",
                            models.CharField(
                                choices=[("read", "Read"), ("manage", "Manage")],
                                default="read",
                                max_length=8,
                            ),
                        ),
                        ("prefix", models.CharField(editable=False, max_length=12)),
                        ("key_hash", models.CharField(editable=False, max_length=64, unique=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("last_used_at", models.DateTimeField(blank=True, editable=False, null=True)),
                        ("revoked_at", models.DateTimeField(blank=True, null=True)),
                    ],
                    options={"verbose_name": "API key", "ordering": ["name"]},
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    "ALTER TABLE portal_apikey RENAME TO core_apikey",
                    "ALTER TABLE core_apikey RENAME TO portal_apikey",
                ),
            ],
        ),
        migrations.RunPython(move_content_type, restore_content_type),
    ]
