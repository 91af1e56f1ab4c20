"""The externalId and the name dictionary's word keep their unique index only
(core/pattern_indexes.py).

- ``external_id`` is looked up by equality (the search, the vendor's ``EXTERNAL_ID``); the
  API's ``externalId #startsWith`` compares it case-insensitively (UPPER), which the pattern
  index never served. It was 40 MB at 700,000 externalIds.
- ``people_nameterm.term`` compares in code point order (COLLATE "C", 0018): its primary key
  answers a prefix as a range already.
"""

from django.db import migrations

from core.pattern_indexes import drop_like_index


class Migration(migrations.Migration):
    dependencies = [("people", "0018_name_terms")]

    operations = [
        drop_like_index("people", "Person", "external_id"),
        drop_like_index("people", "NameTerm", "term"),
    ]
