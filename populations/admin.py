"""Saved views in Django admin: Administrators see, rename, share and delete any operator's
view; the name's rules are the service's (populations.saved_views)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth.models import Group

from core import roles
from core.admin import ServiceAdmin, ServiceModelForm
from directory.search import SearchQuery
from populations import saved_views
from populations.models import SavedView


class SavedViewForm(ServiceModelForm):
    class Meta:
        model = SavedView
        fields = ["name", "description", "owner", "query", "shared_with_roles", "shared_with_users"]

    domain_field_names = {"name": "name", "description": "description"}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "shared_with_roles" in self.fields:
            self.fields["shared_with_roles"].queryset = Group.objects.filter(
                name__in=list(roles.ROLE_PERMISSIONS)
            )

    def clean_query(self) -> dict:
        """The query must read back as a query (SearchQuery.from_dict)."""
        value = self.cleaned_data.get("query") or {}
        try:
            return SearchQuery.from_dict(value).to_dict()
        except (TypeError, ValueError) as error:
            raise forms.ValidationError(str(error)) from None


@admin.register(SavedView)
class SavedViewAdmin(ServiceAdmin):
    form = SavedViewForm
    list_display = ["name", "owner", "updated_at"]
    list_select_related = ["owner"]
    search_fields = ["name_key"]
    list_filter = ["shared_with_roles"]
    autocomplete_fields = ["owner"]
    filter_horizontal = ["shared_with_roles", "shared_with_users"]
    readonly_fields = ["created_at", "updated_at"]

    def save_model(self, request, obj: SavedView, form, change: bool) -> None:
        query = SearchQuery.from_dict(obj.query)
        if change:
            saved_views.saved_view_update(
                view=obj,
                user=request.user,
                name=obj.name,
                description=obj.description,
                query=query,
            )
        else:
            created = saved_views.saved_view_create(
                owner=obj.owner, name=obj.name, query=query, description=obj.description
            )
            obj.pk = created.pk

    def save_related(self, request, form, formsets, change: bool) -> None:
        """The sharing goes through the service (roles only, never the owner)."""
        data = form.cleaned_data
        saved_views.saved_view_share(
            view=form.instance,
            user=request.user,
            roles_shared=[group.name for group in data.get("shared_with_roles", [])],
            users=list(data.get("shared_with_users", [])),
        )

    def delete_model(self, request, obj: SavedView) -> None:
        saved_views.saved_view_delete(view=obj, user=request.user)
