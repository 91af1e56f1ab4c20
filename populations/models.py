"""Saved views: a named query of the search page (directory.search.SearchQuery, with its sort
and page size), owned by an operator and shared with roles and chosen operators.

Who may open one and who may change it is decided in populations.saved_views; the name is
unique per owner in any casing (people.name_keys, the rule tags and definitions follow).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models

from people.name_keys import NameKeyField


class SavedView(models.Model):
    name = models.CharField(max_length=128)
    # people.name_keys.name_key(name), kept on every save: "the same name" for one owner.
    name_key = NameKeyField(source="name")
    description = models.CharField(max_length=500, blank=True, default="")
    # SearchQuery.to_dict(): the conditions, the sort and the page size.
    query = models.JSONField(default=dict, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    # The role groups (core.roles) whose operators may open it.
    shared_with_roles = models.ManyToManyField(Group, blank=True, related_name="saved_views")
    # Operators, besides the owner, who may open it.
    shared_with_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="views_shared_with_me"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name_key", "id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name_key"], name="saved_view_owner_name"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def api_id(self) -> str:
        """Its id in the API and in the Views menu (built-in views have "hygiene-<key>")."""
        return str(self.pk)
