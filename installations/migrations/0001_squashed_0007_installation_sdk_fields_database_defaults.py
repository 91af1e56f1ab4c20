"""The installations app's schema, as installations/models.py declares it (migrations 0001 to
0007 in one).

A new database runs this; a database migrated through 0001 to 0007 has all of it already and
takes it as applied (``replaces``). The replaced migrations changed only the schema.
"""

import django.db.models.deletion
import installations.models
from django.db import migrations, models


class Migration(migrations.Migration):

    replaces = [
        ('installations', '0001_initial'),
        ('installations', '0002_installation_person_list_index'),
        ('installations', '0003_drop_push_registration_id_like_index'),
        ('installations', '0004_application_jwt'),
        ('installations', '0005_installation_sdk_fields'),
        ('installations', '0006_installation_last_seen'),
        ('installations', '0007_installation_sdk_fields_database_defaults'),
    ]

    initial = True

    dependencies = [
        ('people', '0001_squashed_0022_custom_event_definitions'),
    ]

    operations = [
        migrations.CreateModel(
            name='Application',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code', models.CharField(default=installations.models.generate_application_code, max_length=64, unique=True)),
                ('name', models.CharField(max_length=128)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('jwt_key_id', models.CharField(blank=True, default='', max_length=128)),
                ('jwt_secret', models.CharField(blank=True, default='', max_length=256)),
                ('jwt_required', models.BooleanField(default=False)),
            ],
            options={
                'ordering': ['name'],
                'constraints': [models.CheckConstraint(condition=models.Q(('jwt_secret', ''), models.Q(('jwt_key_id', ''), _negated=True), _connector='OR'), name='application_jwt_secret_has_key_id'), models.CheckConstraint(condition=models.Q(('jwt_required', False), models.Q(('jwt_secret', ''), _negated=True), _connector='OR'), name='application_jwt_required_has_secret')],
            },
        ),
        migrations.CreateModel(
            name='Installation',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('push_registration_id', models.CharField(max_length=255)),
                ('is_primary', models.BooleanField(default=False)),
                ('registration_enabled', models.BooleanField(default=True)),
                ('notifications_enabled', models.BooleanField(default=True)),
                ('geofencing_sdk', models.BooleanField(default=False)),
                ('sdk_version', models.CharField(blank=True, default='', max_length=64)),
                ('app_version', models.CharField(blank=True, default='', max_length=64)),
                ('os', models.CharField(blank=True, default='', max_length=32)),
                ('os_version', models.CharField(blank=True, default='', max_length=64)),
                ('device_manufacturer', models.CharField(blank=True, default='', max_length=128)),
                ('device_model', models.CharField(blank=True, default='', max_length=128)),
                ('device_secure', models.BooleanField(default=False)),
                ('os_language', models.CharField(blank=True, default='', max_length=35)),
                ('device_timezone_offset', models.CharField(blank=True, default='', max_length=16)),
                ('device_name', models.CharField(blank=True, default='', max_length=255)),
                ('cloud_type', models.CharField(blank=True, default='', max_length=16)),
                ('inapp_chat', models.BooleanField(db_default=False, default=False)),
                ('inbox', models.BooleanField(db_default=False, default=False)),
                ('webrtc_ui', models.BooleanField(db_default=False, default=False)),
                ('application_user_id', models.CharField(blank=True, db_default='', default='', max_length=255)),
                ('push_service_token', models.CharField(blank=True, db_default='', default='', max_length=1024)),
                ('additional_data', models.JSONField(blank=True, default=dict)),
                ('last_seen_at', models.DateTimeField(blank=True, null=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('modified_at', models.DateTimeField(auto_now=True)),
                ('application', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='installations', to='installations.application')),
                ('person', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='installations', to='people.person')),
            ],
            options={
                'ordering': ['-is_primary', 'id'],
                'indexes': [models.Index(fields=['person', 'os'], include=('id', 'application', 'push_registration_id', 'is_primary', 'registration_enabled'), name='installation_person_list_idx'), models.Index(fields=['application', 'person'], name='installation_app_person_idx'), models.Index(fields=['last_seen_at'], name='installation_last_seen_idx')],
                'constraints': [models.UniqueConstraint(fields=('push_registration_id',), name='installations_installation_push_registration_id_key'), models.UniqueConstraint(condition=models.Q(('is_primary', True)), fields=('person',), name='one_primary_installation_per_person')],
            },
        ),
    ]
