from django.db import migrations, models


class Migration(migrations.Migration):
    """preferredLanguage is a language code or language-region, at most 5 characters
    (DOMAIN.md), as the form, the API and the domain rule already read it."""

    dependencies = [
        ("people", "0002_postgresql_statistics_and_triggers"),
    ]

    operations = [
        migrations.AlterField(
            model_name="person",
            name="preferred_language",
            field=models.CharField(blank=True, default="", max_length=5),
        ),
    ]
