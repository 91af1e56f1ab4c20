"""Saved views: who may open one, who may change it, and the writes (save, rename, share,
delete). The pages (populations.views.saved), the API (populations.api.views_api) and admin
call these.

- The owner opens and changes a view; an Administrator opens and changes every view.
- An operator opens a view shared with their role or with them by name.
- An API key (not an operator) opens the views shared with any role, and the built-in ones
  (populations.builtin_views): a view shared with roles is meant for the team, one kept
  private or shared with chosen operators only is not for automation.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group, User
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet

from core import roles
from core.errors import DomainError, ErrorCode
from directory.search import DEFAULT_PAGE_SIZE, SearchQuery
from people.name_keys import name_key
from populations.models import SavedView

NAME_MAX_LENGTH = SavedView._meta.get_field("name").max_length
DESCRIPTION_MAX_LENGTH = SavedView._meta.get_field("description").max_length


def is_operator(user: object) -> bool:
    """A signed-in operator account (not an API key's principal)."""
    return isinstance(user, User) and user.is_authenticated


def is_administrator(user: AbstractBaseUser | AnonymousUser) -> bool:
    return roles.role_of(user) == roles.ADMINISTRATOR


def visible_views(user: object) -> QuerySet[SavedView]:
    """The views ``user`` may open (see the module's rules): EXISTS probes of the sharing
    tables, so no DISTINCT over joins."""
    views = SavedView.objects.select_related("owner")
    through_roles = SavedView.shared_with_roles.through.objects.filter(savedview_id=OuterRef("pk"))
    if not is_operator(user):
        return views.filter(Exists(through_roles))
    if is_administrator(user):
        return views
    through_users = SavedView.shared_with_users.through.objects.filter(
        savedview_id=OuterRef("pk"), user_id=user.pk
    )
    role_groups = user.groups.values("pk")
    return views.filter(
        Q(owner=user)
        | Q(Exists(through_users))
        | Q(Exists(through_roles.filter(group_id__in=role_groups)))
    )


@dataclass
class ViewsMenu:
    """What the Views menu lists besides the built-in views: the operator's own views and
    those others shared with them (an Administrator: every other view)."""

    mine: list[SavedView]
    shared: list[SavedView]


def views_menu(user: User) -> ViewsMenu:
    """The operator's views and those shared with them, by name: one statement."""
    views = list(visible_views(user))
    return ViewsMenu(
        mine=[view for view in views if view.owner_id == user.pk],
        shared=[view for view in views if view.owner_id != user.pk],
    )


def can_manage(user: object, view: SavedView) -> bool:
    """Rename, change, share or delete ``view``: its owner, or an Administrator."""
    return is_operator(user) and (view.owner_id == user.pk or is_administrator(user))


def _name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise DomainError(ErrorCode.BAD_REQUEST, "A view needs a name.", "name")
    if len(name) > NAME_MAX_LENGTH:
        raise DomainError(
            ErrorCode.BAD_REQUEST,
            f"A view's name has at most {NAME_MAX_LENGTH} characters.",
            "name",
        )
    return name


def _description(text: str) -> str:
    text = (text or "").strip()
    if len(text) > DESCRIPTION_MAX_LENGTH:
        raise DomainError(
            ErrorCode.BAD_REQUEST,
            f"A description has at most {DESCRIPTION_MAX_LENGTH} characters.",
            "description",
        )
    return text


def _name_taken(name: str) -> DomainError:
    return DomainError(
        ErrorCode.CONFLICT, f"You have a view named “{name}” already (in some casing).", "name"
    )


def _save_named(view: SavedView) -> None:
    """Save under the owner's unique name: the check names the field; the constraint
    (saved_view_owner_name) settles two saves of one name at once."""
    taken = SavedView.objects.filter(owner_id=view.owner_id, name_key=name_key(view.name))
    if view.pk is not None:
        taken = taken.exclude(pk=view.pk)
    if taken.exists():
        raise _name_taken(view.name)
    try:
        with transaction.atomic():
            view.save()
    except IntegrityError:
        raise _name_taken(view.name) from None


def _refuse_unless_manager(user: object, view: SavedView) -> None:
    if not can_manage(user, view):
        raise DomainError(
            ErrorCode.FORBIDDEN, "Only the view's owner or an Administrator may change it."
        )


def _stored(query: SearchQuery) -> dict:
    """What a view keeps of ``query``: not its page's position, nor the default page size
    (the search page's form always sends one)."""
    query.after = None
    if query.page_size == DEFAULT_PAGE_SIZE:
        query.page_size = None
    return query.to_dict()


@transaction.atomic
def saved_view_create(
    *, owner: User, name: str, query: SearchQuery, description: str = ""
) -> SavedView:
    """A new private view of ``query`` (its conditions, sort and page size; not its page's
    position)."""
    view = SavedView(
        owner=owner,
        name=_name(name),
        description=_description(description),
        query=_stored(query),
    )
    _save_named(view)
    return view


@transaction.atomic
def saved_view_update(
    *,
    view: SavedView,
    user: User,
    name: str | None = None,
    description: str | None = None,
    query: SearchQuery | None = None,
) -> SavedView:
    """Rename it, describe it or give it another query; the owner or an Administrator."""
    _refuse_unless_manager(user, view)
    # Locked: two edits of one view would each write the fields the other did not.
    view = SavedView.objects.select_for_update().get(pk=view.pk)
    if name is not None:
        view.name = _name(name)
    if description is not None:
        view.description = _description(description)
    if query is not None:
        view.query = _stored(query)
    _save_named(view)
    return view


@transaction.atomic
def saved_view_share(
    *, view: SavedView, user: User, roles_shared: list[str], users: list[User]
) -> SavedView:
    """Share it with exactly these roles (core.roles names) and operators, no one else."""
    _refuse_unless_manager(user, view)
    view = SavedView.objects.select_for_update().get(pk=view.pk)
    try:
        names = {roles.role_from_name(role) for role in roles_shared}
    except ValueError as error:
        raise DomainError(ErrorCode.BAD_REQUEST, str(error), "roles") from None
    view.shared_with_roles.set(Group.objects.filter(name__in=names))
    view.shared_with_users.set([u for u in users if u.pk != view.owner_id])
    view.save(update_fields=["updated_at"])
    return view


@transaction.atomic
def saved_view_delete(*, view: SavedView, user: User) -> None:
    _refuse_unless_manager(user, view)
    view.delete()


def query_of(view: SavedView) -> SearchQuery:
    return SearchQuery.from_dict(view.query)
