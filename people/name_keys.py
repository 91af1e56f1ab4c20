"""The one folding rule for names that are unique regardless of case: tags and custom
attribute definitions (DOMAIN.md, "Custom attributes").

``name_key`` is Unicode NFKC, then full case folding (``str.casefold``). It is computed in
Python only and stored in each row's ``name_key`` column, which carries the unique
constraint and answers every look-up by name (API, UI, admin, services, search). The
database's ``lower()`` is never used for these names: it disagrees with Python's ``lower()``
on Greek final sigma (``ς``) and Turkish dotted ``İ``, so a name could be stored that no
look-up reaches, or two writers could each miss the other's row and collide in the index.
"""

from __future__ import annotations

import unicodedata

from django.db import models

# casefold() and NFKC can make a key longer than its name ("ß" -> "ss", "ﬃ" -> "ffi"); a name
# of at most 256 characters whose key is longer than this is refused (people.services).
MAX_NAME_KEY_LENGTH = 768


def name_key(name: str) -> str:
    """The folded form two names share when they are "the same name"."""
    # NFKC again after casefold: folding can leave a string that is not normalized.
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name.strip()).casefold())


class NameKeyField(models.CharField):
    """The ``name_key`` of another field of the row, kept whenever the row is saved.

    Like ``auto_now``, the value is computed in ``pre_save`` (Django calls it on save() and
    bulk_create()), so every writer stores it, whatever created the row. QuerySet.update()
    of the name is not used for these models (a tag is never renamed; a definition is
    renamed through people.services, which saves the row).
    """

    def __init__(self, *args, source: str = "name", **kwargs) -> None:
        self.source = source
        kwargs.setdefault("max_length", MAX_NAME_KEY_LENGTH)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.source != "name":
            kwargs["source"] = self.source
        if kwargs.get("max_length") == MAX_NAME_KEY_LENGTH:
            del kwargs["max_length"]
        if kwargs.get("editable") is False:
            del kwargs["editable"]
        return name, path, args, kwargs

    def pre_save(self, model_instance, add):
        value = name_key(getattr(model_instance, self.source) or "")
        setattr(model_instance, self.attname, value)
        return value
