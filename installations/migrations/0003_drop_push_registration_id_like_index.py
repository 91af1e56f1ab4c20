"""The push registration id keeps its unique index only (core/pattern_indexes.py).

Every lookup of a push registration id is by equality (the search, the API, the vendor's
identifier ``PUSH``), which the unique index answers; Django's second, ``varchar_pattern_ops``
index on it was 111 MB at 1.5 million installations, written by every registration.
"""

from django.db import migrations

from core.pattern_indexes import drop_like_index


class Migration(migrations.Migration):
    dependencies = [("installations", "0002_installation_person_list_index")]

    operations = [drop_like_index("installations", "Installation", "push_registration_id")]
