"""The people app's schema, as people/models.py declares it (migrations 0001 to 0022 in one).

A new database runs this; a database migrated through 0001 to 0022 has all of it already and
takes it as applied (``replaces``). What the replaced migrations did beyond the schema was for
rows stored before them, of which a new database has none: filling people_person.tag_ids and
the name dictionary from the rows already there (0010, 0018), giving tags and definitions their
name_key and merging tags that fold to one name (0020), rewriting stored emails and externalIds
in today's normal form (0021).

Besides the models: the pg_trgm extension that the trigram indexes need (first). What no model
option says follows in 0002.
"""

import django.contrib.postgres.indexes
import django.contrib.postgres.operations
import django.db.models.deletion
import django.db.models.functions.comparison
import django.db.models.functions.text
import people.db_fields
import people.name_keys
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    replaces = [
        ('people', '0001_initial'),
        ('people', '0002_search_indexes'),
        ('people', '0003_attribute_value_person_indexes'),
        ('people', '0004_person_tags_tag_person_index'),
        ('people', '0005_reversed_name_index_includes_name'),
        ('people', '0006_name_prefix_indexes_for_the_api'),
        ('people', '0007_attribute_value_statistics'),
        ('people', '0008_name_prefix_indexes_cover_id_and_name'),
        ('people', '0009_name_prefix_indexes_cover_created_at'),
        ('people', '0010_person_tag_ids'),
        ('people', '0011_person_tag_ids_on_truncate'),
        ('people', '0012_identity_person_list_index'),
        ('people', '0013_text_person_index_on_substring'),
        ('people', '0014_event_person_index_is_the_history_index'),
        ('people', '0015_text_upper_prefix_index'),
        ('people', '0016_trigram_indexes_for_substring_filters'),
        ('people', '0017_city_trigram_index'),
        ('people', '0018_name_terms'),
        ('people', '0019_drop_like_indexes'),
        ('people', '0020_name_keys'),
        ('people', '0021_renormalize_emails_and_external_ids'),
        ('people', '0022_custom_event_definitions'),
    ]

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        django.contrib.postgres.operations.TrigramExtension(),
        migrations.CreateModel(
            name='Person',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('type', models.CharField(choices=[('LEAD', 'Lead'), ('CUSTOMER', 'Customer')], default='CUSTOMER', max_length=8)),
                ('external_id', models.CharField(blank=True, max_length=256, null=True)),
                ('first_name', models.CharField(blank=True, default='', max_length=255)),
                ('last_name', models.CharField(blank=True, default='', max_length=255)),
                ('middle_name', models.CharField(blank=True, default='', max_length=50)),
                ('gender', models.CharField(blank=True, choices=[('MALE', 'Male'), ('FEMALE', 'Female')], default='', max_length=6)),
                ('birth_date', models.DateField(blank=True, null=True)),
                ('address', models.CharField(blank=True, default='', max_length=256)),
                ('city', models.CharField(blank=True, default='', max_length=50)),
                ('country', models.CharField(blank=True, default='', max_length=50)),
                ('preferred_language', models.CharField(blank=True, default='', max_length=16)),
                ('profile_picture', models.CharField(blank=True, default='', max_length=2083)),
                ('search_name', models.CharField(blank=True, default='', editable=False, max_length=520)),
                ('search_name_reversed', models.CharField(blank=True, default='', editable=False, max_length=520)),
                ('origin', models.CharField(choices=[('DEVICE', 'Device registration'), ('UI', 'Operator portal'), ('API', 'API'), ('ADMIN', 'Django admin'), ('SYSTEM', 'System')], default='SYSTEM', max_length=8)),
                ('tag_ids', people.db_fields.DatabaseKeptArrayField(base_field=models.BigIntegerField(), db_default=[], default=list, editable=False, size=None)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('modified_at', models.DateTimeField(auto_now=True, db_index=True)),
                ('version', models.PositiveIntegerField(default=1)),
            ],
            options={
                'ordering': ['-id'],
            },
        ),
        migrations.CreateModel(
            name='AttributeDefinition',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=256)),
                ('name_key', people.name_keys.NameKeyField()),
                ('data_type', models.CharField(choices=[('STRING', 'String'), ('INTEGER', 'Integer'), ('DECIMAL', 'Decimal'), ('BOOLEAN', 'Boolean'), ('DATE', 'Date'), ('DATE_TIME', 'Date and time'), ('LIST_OF_OBJECTS', 'List of objects')], max_length=16)),
                ('object_schema', models.JSONField(blank=True, null=True)),
                ('description', models.CharField(blank=True, default='', max_length=512)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
            ],
            options={
                'ordering': ['name'],
                'constraints': [models.UniqueConstraint(fields=('name_key',), name='definition_name_key_unique'), models.CheckConstraint(condition=models.Q(('data_type__in', ['STRING', 'INTEGER', 'DECIMAL', 'BOOLEAN', 'DATE', 'DATE_TIME', 'LIST_OF_OBJECTS'])), name='definition_type_valid')],
            },
        ),
        migrations.CreateModel(
            name='CustomEventDefinition',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('definition_id', models.CharField(max_length=36)),
                ('title', models.CharField(max_length=100)),
                ('description', models.CharField(blank=True, default='', max_length=2000)),
                ('fields', models.JSONField(blank=True, default=list)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('modified_at', models.DateTimeField(auto_now=True)),
            ],
            options={
                'ordering': ['definition_id'],
                'constraints': [models.UniqueConstraint(django.db.models.functions.text.Lower('definition_id'), name='event_definition_id_unique')],
            },
        ),
        migrations.CreateModel(
            name='NameTerm',
            fields=[
                ('term', people.db_fields.CodePointCharField(max_length=520, primary_key=True, serialize=False)),
            ],
            options={
                'indexes': [people.db_fields.PostgreSQLGinIndex(fields=['term'], name='name_term_trgm_idx', opclasses=['gin_trgm_ops'])],
            },
        ),
        migrations.CreateModel(
            name='Tag',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=256)),
                ('name_key', people.name_keys.NameKeyField()),
                ('created_at', models.DateTimeField(auto_now_add=True)),
            ],
            options={
                'ordering': ['name'],
                'constraints': [models.UniqueConstraint(fields=('name_key',), name='tag_name_key_unique')],
            },
        ),
        migrations.CreateModel(
            name='PersonTag',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('person', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to='people.person')),
                ('tag', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, to='people.tag')),
            ],
            options={
                'db_table': 'people_person_tags',
            },
        ),
        migrations.AddField(
            model_name='person',
            name='tags',
            field=models.ManyToManyField(blank=True, related_name='people', through='people.PersonTag', to='people.tag'),
        ),
        migrations.CreateModel(
            name='Event',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('INSTALL', 'Install'), ('UNINSTALL', 'Uninstall'), ('PERSONALIZE', 'Personalize'), ('DEPERSONALIZE', 'Depersonalize'), ('APP_LAUNCH', 'App Launch'), ('PERSON_CREATED', 'Person created'), ('ATTRIBUTES_CHANGED', 'Attributes changed'), ('TAGS_CHANGED', 'Tags changed'), ('CUSTOM_ATTRIBUTES_CHANGED', 'Custom attributes changed'), ('CONTACTS_CHANGED', 'Contacts changed'), ('PRIMARY_CHANGED', 'Primary device changed'), ('PUSH_CHANGED', 'Push changed'), ('INSTALLATION_CHANGED', 'Installation changed'), ('PERSON_UPDATED', 'Person updated'), ('CUSTOM_EVENT', 'Custom event')], max_length=32)),
                ('actor_kind', models.CharField(choices=[('OPERATOR', 'Operator'), ('API_KEY', 'API key'), ('DEVICE', 'Device'), ('SYSTEM', 'System')], max_length=8)),
                ('actor_label', models.CharField(max_length=255)),
                ('source', models.CharField(choices=[('UI', 'Operator portal'), ('API', 'API'), ('ADMIN', 'Django admin'), ('DEVICE', 'Device'), ('COMMAND', 'Management command'), ('SYSTEM', 'System')], max_length=8)),
                ('push_registration_id', models.CharField(blank=True, default='', max_length=255)),
                ('changes', models.JSONField(blank=True, default=dict)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('actor_user', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to=settings.AUTH_USER_MODEL)),
                ('person', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='events', to='people.person')),
            ],
            options={
                'ordering': ['-created_at', '-id'],
                'indexes': [models.Index(fields=['person', '-created_at', '-id'], name='event_person_time_idx')],
            },
        ),
        migrations.CreateModel(
            name='ContactIdentity',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('PHONE', 'Phone'), ('EMAIL', 'Email')], max_length=5)),
                ('value', models.CharField(max_length=320)),
                ('national_number', models.CharField(blank=True, default='', max_length=20)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('person', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='identities', to='people.person')),
            ],
            options={
                'verbose_name_plural': 'contact identities',
                'ordering': ['id'],
                'indexes': [models.Index(condition=models.Q(('kind', 'PHONE')), fields=['national_number'], name='identity_national_idx'), models.Index(fields=['person'], include=('id', 'kind', 'value', 'national_number'), name='identity_person_list_idx'), people.db_fields.PostgreSQLGinIndex(django.contrib.postgres.indexes.OpClass(django.db.models.functions.text.Upper('value'), name='gin_trgm_ops'), name='identity_value_trgm_idx')],
                'constraints': [models.UniqueConstraint(fields=('kind', 'value'), name='identity_unique_value'), models.CheckConstraint(condition=models.Q(('kind__in', ['PHONE', 'EMAIL'])), name='identity_kind_valid')],
            },
        ),
        migrations.CreateModel(
            name='AttributeValue',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('value_text', models.TextField(blank=True, null=True)),
                ('value_number', models.DecimalField(blank=True, decimal_places=20, max_digits=40, null=True)),
                ('value_bool', models.BooleanField(blank=True, null=True)),
                ('value_date', models.DateField(blank=True, null=True)),
                ('value_datetime', models.DateTimeField(blank=True, null=True)),
                ('value_json', models.JSONField(blank=True, null=True)),
                ('definition', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='values', to='people.attributedefinition')),
                ('person', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='attribute_values', to='people.person')),
            ],
            options={
                'indexes': [models.Index(fields=['definition', 'value_number'], name='attr_number_idx'), models.Index(fields=['definition', 'value_date'], name='attr_date_idx'), models.Index(fields=['definition', 'value_datetime'], name='attr_datetime_idx'), models.Index(fields=['definition', 'value_bool'], name='attr_bool_idx'), models.Index(models.F('definition'), django.db.models.functions.text.Substr('value_text', 1, 200), name='attr_text_idx'), people.db_fields.PostgreSQLIndex(models.F('definition'), django.db.models.functions.text.Substr('value_text', 1, 200), models.F('person'), name='attr_text_person_idx'), people.db_fields.PostgreSQLIndex(fields=['definition', 'value_number', 'person'], name='attr_number_person_idx'), people.db_fields.PostgreSQLIndex(fields=['definition', 'value_bool', 'person'], name='attr_bool_person_idx'), people.db_fields.PostgreSQLIndex(fields=['definition', 'value_date', 'person'], name='attr_date_person_idx'), people.db_fields.PostgreSQLIndex(models.F('definition'), django.contrib.postgres.indexes.OpClass(django.db.models.functions.text.Upper(django.db.models.functions.text.Substr('value_text', 1, 200)), name='text_pattern_ops'), models.F('person'), name='attr_text_upper_idx'), people.db_fields.PostgreSQLGinIndex(django.contrib.postgres.indexes.OpClass(django.db.models.functions.text.Upper('value_text'), name='gin_trgm_ops'), name='attr_text_trgm_idx')],
                'constraints': [models.UniqueConstraint(fields=('person', 'definition'), name='attribute_value_unique')],
            },
        ),
        migrations.AddIndex(
            model_name='persontag',
            index=models.Index(fields=['tag', 'person'], name='person_tags_tag_person_idx'),
        ),
        migrations.AddConstraint(
            model_name='persontag',
            constraint=models.UniqueConstraint(fields=('person', 'tag'), name='people_person_tags_person_id_tag_id_eeb66cb0_uniq'),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='persontag',
            trigger=pgtrigger.compiler.Trigger(name='person_tags_added', sql=pgtrigger.compiler.UpsertTriggerSql(func='\n    UPDATE people_person AS p\n    SET tag_ids = ARRAY(SELECT DISTINCT t FROM unnest(p.tag_ids || added.ids) AS t ORDER BY t)\n    FROM (SELECT person_id, array_agg(tag_id) AS ids FROM added_links GROUP BY person_id)\n        AS added\n    WHERE p.id = added.person_id AND NOT p.tag_ids @> added.ids;\nRETURN NULL;', hash='777fe55f371f00c9dd3dc0f7eab55264abab449c', level='STATEMENT', operation='INSERT', pgid='pgtrigger_person_tags_added_c554e', referencing='REFERENCING NEW TABLE AS added_links ', table='people_person_tags', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='persontag',
            trigger=pgtrigger.compiler.Trigger(name='person_tags_removed', sql=pgtrigger.compiler.UpsertTriggerSql(func='\n    UPDATE people_person AS p\n    SET tag_ids = ARRAY(\n        SELECT t FROM unnest(p.tag_ids) AS t WHERE t <> ALL (removed.ids) ORDER BY t\n    )\n    FROM (SELECT person_id, array_agg(tag_id) AS ids FROM removed_links GROUP BY person_id)\n        AS removed\n    WHERE p.id = removed.person_id AND p.tag_ids && removed.ids;\nRETURN NULL;', hash='e779c9c6071a3dc378bd0aff9fdfdf90a0d4ec23', level='STATEMENT', operation='DELETE', pgid='pgtrigger_person_tags_removed_6cdc9', referencing='REFERENCING OLD TABLE AS removed_links ', table='people_person_tags', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='persontag',
            trigger=pgtrigger.compiler.Trigger(name='person_tags_changed', sql=pgtrigger.compiler.UpsertTriggerSql(func='\n    UPDATE people_person AS p\n    SET tag_ids = ARRAY(\n        SELECT t FROM unnest(p.tag_ids) AS t WHERE t <> ALL (removed.ids) ORDER BY t\n    )\n    FROM (SELECT person_id, array_agg(tag_id) AS ids FROM removed_links GROUP BY person_id)\n        AS removed\n    WHERE p.id = removed.person_id AND p.tag_ids && removed.ids;\n\n    UPDATE people_person AS p\n    SET tag_ids = ARRAY(SELECT DISTINCT t FROM unnest(p.tag_ids || added.ids) AS t ORDER BY t)\n    FROM (SELECT person_id, array_agg(tag_id) AS ids FROM added_links GROUP BY person_id)\n        AS added\n    WHERE p.id = added.person_id AND NOT p.tag_ids @> added.ids;\nRETURN NULL;', hash='00edabc6ca6c75b5cf55981242e405f45815e3c2', level='STATEMENT', operation='UPDATE', pgid='pgtrigger_person_tags_changed_d0838', referencing='REFERENCING OLD TABLE AS removed_links  NEW TABLE AS added_links ', table='people_person_tags', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='persontag',
            trigger=pgtrigger.compiler.Trigger(name='person_tags_truncated', sql=pgtrigger.compiler.UpsertTriggerSql(func="UPDATE people_person SET tag_ids = '{}' WHERE tag_ids <> '{}'; RETURN NULL;", hash='6fd68829098d9dafdc33284790d00d13949e23b5', level='STATEMENT', operation='TRUNCATE', pgid='pgtrigger_person_tags_truncated_d19d0', table='people_person_tags', when='AFTER')),
        ),
        migrations.AddIndex(
            model_name='person',
            index=models.Index(fields=['search_name'], name='person_search_name_idx', opclasses=['varchar_pattern_ops']),
        ),
        migrations.AddIndex(
            model_name='person',
            index=models.Index(fields=['search_name_reversed'], name='person_search_name_rev_idx', opclasses=['varchar_pattern_ops']),
        ),
        migrations.AddIndex(
            model_name='person',
            index=models.Index(fields=['type', 'id'], name='person_type_idx'),
        ),
        migrations.AddIndex(
            model_name='person',
            index=models.Index(fields=['created_at', 'id'], include=('tag_ids',), name='person_created_idx'),
        ),
        migrations.AddIndex(
            model_name='person',
            index=people.db_fields.PostgreSQLIndex(django.db.models.functions.comparison.Collate('search_name', 'C'), models.F('id'), include=('tag_ids',), name='person_search_name_c_idx'),
        ),
        migrations.AddIndex(
            model_name='person',
            index=people.db_fields.PostgreSQLIndex(django.db.models.functions.comparison.Collate('search_name_reversed', 'C'), models.F('id'), include=('search_name', 'tag_ids'), name='person_search_name_rev_c_idx'),
        ),
        migrations.AddIndex(
            model_name='person',
            index=people.db_fields.PostgreSQLIndex(django.contrib.postgres.indexes.OpClass(django.db.models.functions.text.Upper('first_name'), name='text_pattern_ops'), include=('id', 'first_name', 'created_at', 'tag_ids'), name='person_first_name_upper_idx'),
        ),
        migrations.AddIndex(
            model_name='person',
            index=people.db_fields.PostgreSQLIndex(django.contrib.postgres.indexes.OpClass(django.db.models.functions.text.Upper('last_name'), name='text_pattern_ops'), include=('id', 'last_name', 'created_at', 'tag_ids'), name='person_last_name_upper_idx'),
        ),
        migrations.AddIndex(
            model_name='person',
            index=people.db_fields.PostgreSQLGinIndex(django.contrib.postgres.indexes.OpClass(django.db.models.functions.text.Upper('first_name'), name='gin_trgm_ops'), name='person_first_name_trgm_idx'),
        ),
        migrations.AddIndex(
            model_name='person',
            index=people.db_fields.PostgreSQLGinIndex(django.contrib.postgres.indexes.OpClass(django.db.models.functions.text.Upper('last_name'), name='gin_trgm_ops'), name='person_last_name_trgm_idx'),
        ),
        migrations.AddIndex(
            model_name='person',
            index=people.db_fields.PostgreSQLGinIndex(django.contrib.postgres.indexes.OpClass(django.db.models.functions.text.Upper('city'), name='gin_trgm_ops'), name='person_city_trgm_idx'),
        ),
        migrations.AddConstraint(
            model_name='person',
            constraint=models.UniqueConstraint(fields=('external_id',), name='people_person_external_id_key'),
        ),
        migrations.AddConstraint(
            model_name='person',
            constraint=models.CheckConstraint(condition=models.Q(('type__in', ['LEAD', 'CUSTOMER'])), name='person_type_valid'),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='person',
            trigger=pgtrigger.compiler.Trigger(name='person_name_terms_created', sql=pgtrigger.compiler.UpsertTriggerSql(condition="WHEN (NEW.search_name <> '')", func="\n                        INSERT INTO people_nameterm (term)\n                        SELECT DISTINCT word\n                        FROM unnest(string_to_array(NEW.search_name, ' ')) AS word\n                        WHERE word <> '' ORDER BY word\n                        ON CONFLICT DO NOTHING;\n                        RETURN NULL;\n                    ", hash='83350e74371015b2a56b4ffdd24db5edfae35774', operation='INSERT', pgid='pgtrigger_person_name_terms_created_7762a', table='people_person', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='person',
            trigger=pgtrigger.compiler.Trigger(name='person_name_terms_renamed', sql=pgtrigger.compiler.UpsertTriggerSql(condition="WHEN (NEW.search_name <> '' AND NEW.search_name IS DISTINCT FROM OLD.search_name)", func="\n                        INSERT INTO people_nameterm (term)\n                        SELECT DISTINCT word\n                        FROM unnest(string_to_array(NEW.search_name, ' ')) AS word\n                        WHERE word <> '' ORDER BY word\n                        ON CONFLICT DO NOTHING;\n                        RETURN NULL;\n                    ", hash='19c65b7dc8608b40d5844112e889344fd91393ef', operation='UPDATE OF "search_name"', pgid='pgtrigger_person_name_terms_renamed_8f52f', table='people_person', when='AFTER')),
        ),
    ]
