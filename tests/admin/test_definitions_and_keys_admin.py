import re

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from core import roles
from core.models import ApiKey, hash_key
from people import event_definitions, services
from people.history import Actor
from people.models import (
    AttributeDefinition,
    CustomEventDefinition,
    DataType,
    Event,
    EventKind,
    Tag,
)
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def test_a_definition_created_in_admin_is_validated_by_the_domain(admin_client):
    url = reverse("admin:people_attributedefinition_add")
    refused = admin_client.post(url, {"name": "Bad{name}", "data_type": "STRING"})
    assert refused.status_code == 200
    assert "must not contain" in " ".join(refused.context["adminform"].form.errors["name"])
    AttributeDefinition.objects.create(name="Age", data_type=DataType.INTEGER)
    duplicate = admin_client.post(url, {"name": "AGE", "data_type": "STRING"})
    assert "exists already" in " ".join(duplicate.context["adminform"].form.errors["name"])
    schema = admin_client.post(url, {"name": "Orders", "data_type": "LIST_OF_OBJECTS"})
    assert "object_schema" in schema.context["adminform"].form.errors
    created = admin_client.post(
        url,
        {
            "name": "Orders",
            "data_type": "LIST_OF_OBJECTS",
            "object_schema": '{"sku": "STRING", "price": "DECIMAL"}',
        },
    )
    assert created.status_code == 302
    assert AttributeDefinition.objects.get(name="Orders").object_schema == {
        "sku": "STRING",
        "price": "DECIMAL",
    }


def test_the_type_of_a_definition_cannot_change_after_creation(admin_client):
    definition = AttributeDefinition.objects.create(name="Age", data_type=DataType.INTEGER)
    url = reverse("admin:people_attributedefinition_change", args=[definition.pk])
    page = admin_client.get(url)
    assert "data_type" not in page.context["adminform"].form.fields
    response = admin_client.post(
        url, {"name": "Age in years", "data_type": "STRING", "description": "years"}
    )
    assert response.status_code == 302
    definition.refresh_from_db()
    assert (definition.name, definition.data_type) == ("Age in years", DataType.INTEGER)


def test_deleting_a_definition_in_use_is_refused_with_how_many_people_use_it(admin_client):
    definition = AttributeDefinition.objects.create(name="Age", data_type=DataType.INTEGER)
    for person in (PersonFactory(), PersonFactory(), PersonFactory()):
        services.person_set_custom_attributes(
            person=person, actor=Actor.system(), values={"Age": 30}
        )
    url = reverse("admin:people_attributedefinition_delete", args=[definition.pk])
    response = admin_client.post(url, {"post": "yes"})
    assert "is used by 3 people and cannot be deleted" in response.content.decode()
    assert AttributeDefinition.objects.filter(pk=definition.pk).exists()
    bulk = admin_client.post(
        reverse("admin:people_attributedefinition_changelist"),
        {"action": "delete_selected", "_selected_action": [definition.pk], "post": "yes"},
    )
    assert "is used by 3 people" in bulk.content.decode()
    assert AttributeDefinition.objects.filter(pk=definition.pk).exists()


def test_deleting_an_unused_definition_works(admin_client):
    definition = AttributeDefinition.objects.create(name="Unused", data_type=DataType.STRING)
    url = reverse("admin:people_attributedefinition_delete", args=[definition.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert not AttributeDefinition.objects.filter(pk=definition.pk).exists()


def test_deleting_a_tag_in_admin_records_the_removal_in_each_persons_history(
    admin_client, administrator
):
    person = PersonFactory()
    services.person_add_tags(person=person, actor=Actor.system(), names=["VIP"])
    tag = Tag.objects.get(name="VIP")
    url = reverse("admin:people_tag_delete", args=[tag.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert not Tag.objects.exists()
    event = Event.objects.filter(person=person, kind=EventKind.TAGS_CHANGED).latest("id")
    assert event.actor_user == administrator
    assert event.changes == {"tags": {"added": [], "removed": ["VIP"]}}


def test_a_new_api_key_is_shown_once_and_stored_hashed(admin_client):
    response = admin_client.post(
        reverse("admin:core_apikey_add"), {"name": "CRM sync", "role": "manage"}, follow=True
    )
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    raw = re.search(r"<code>([^<]+)</code>", shown[0]).group(1)
    key = ApiKey.objects.get(name="CRM sync")
    assert key.key_hash == hash_key(raw)
    assert raw not in (key.key_hash, key.prefix)
    assert ApiKey.authenticate(raw) == key
    change_page = admin_client.get(reverse("admin:core_apikey_change", args=[key.pk]))
    listing = admin_client.get(reverse("admin:core_apikey_changelist"))
    assert raw not in change_page.content.decode()
    assert raw not in listing.content.decode()


def test_revoking_a_key_in_admin_stops_it_from_authenticating(admin_client):
    key, raw = ApiKey.issue(name="Old job", role="read")
    admin_client.post(
        reverse("admin:core_apikey_changelist"),
        {"action": "revoke", "_selected_action": [key.pk]},
    )
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert ApiKey.authenticate(raw) is None


def test_an_operator_created_in_admin_gets_exactly_the_chosen_role(admin_client):
    response = admin_client.post(
        reverse("admin:auth_user_add"),
        {
            "username": "new.editor",
            "role": "editor",
            "usable_password": "true",
            "password1": "a-long-enough-passphrase",
            "password2": "a-long-enough-passphrase",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="new.editor")
    assert roles.role_of(user) == roles.EDITOR
    assert not user.is_staff
    assert user.has_perm("people.change_person") and not user.has_perm("people.delete_person")


def test_changing_an_operators_role_in_admin_replaces_the_old_one(admin_client, viewer):
    url = reverse("admin:auth_user_change", args=[viewer.pk])
    response = admin_client.post(
        url,
        {
            "username": viewer.username,
            "role": "administrator",
            "is_active": "on",
            "first_name": "",
            "last_name": "",
            "email": "",
        },
    )
    assert response.status_code == 302
    viewer = User.objects.get(pk=viewer.pk)
    assert list(viewer.groups.values_list("name", flat=True)) == [roles.ADMINISTRATOR]
    assert viewer.is_staff and roles.can_use_admin(viewer)


def test_the_operator_list_shows_each_role(admin_client, viewer, editor):
    page = admin_client.get(reverse("admin:auth_user_changelist")).content.decode()
    assert roles.VIEWER in page and roles.EDITOR in page and roles.ADMINISTRATOR in page


@pytest.mark.parametrize("role", ["viewer", "editor", "administrator"])
def test_create_operator_creates_an_account_with_the_role(role):
    call_command("create_operator", f"op.{role}", "--role", role, "--password", "s3cret-enough!")
    user = User.objects.get(username=f"op.{role}")
    assert roles.role_of(user) == roles.ROLES[role]
    assert user.check_password("s3cret-enough!")
    assert user.is_staff == (role == "administrator")


def test_create_operator_refuses_an_existing_name_and_a_weak_password(viewer):
    with pytest.raises(CommandError, match="exists already"):
        call_command("create_operator", viewer.username, "--role", "editor", "--password", "x" * 20)
    with pytest.raises(CommandError, match="Password refused"):
        call_command("create_operator", "weak", "--role", "editor", "--password", "123")
    assert not User.objects.filter(username="weak").exists()


def test_create_operator_asks_for_the_password_twice(monkeypatch):
    answers = iter(["typed-passphrase-1", "typed-passphrase-1"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    call_command("create_operator", "asked", "--role", "viewer")
    assert User.objects.get(username="asked").check_password("typed-passphrase-1")


def event_definition(**values):
    return event_definitions.event_definition_create(actor=Actor.system("setup"), **values)


def test_an_event_definition_is_checked_at_its_fields_before_anything_is_written(admin_client):
    event_definition(definition_id="opened", title="Opened")
    url = reverse("admin:people_customeventdefinition_add")
    taken = admin_client.post(url, {"definition_id": "OPENED", "title": "Again", "fields": "[]"})
    assert taken.status_code == 200
    errors = taken.context["adminform"].form.errors
    assert errors["definition_id"] == ["Event definition 'OPENED' exists already. (CONFLICT)"]
    bad_id = admin_client.post(url, {"definition_id": "not-ok", "title": "X", "fields": "[]"})
    assert "letters or digits" in " ".join(bad_id.context["adminform"].form.errors["definition_id"])
    fields = '[{"name": "sku", "type": "String"}, {"name": "SKU", "type": "String"}]'
    bad_fields = admin_client.post(url, {"definition_id": "bought", "title": "B", "fields": fields})
    assert "must be unique" in " ".join(bad_fields.context["adminform"].form.errors["fields"])
    assert list(CustomEventDefinition.objects.values_list("definition_id", flat=True)) == ["opened"]


def test_a_refusal_of_the_service_itself_is_a_message_and_nothing_is_saved(admin_client):
    """Taking a field away is refused by event_definition_update: the admin's transaction
    rolls back, the page comes back with the refusal as an error message."""
    definition = event_definition(
        definition_id="bought", title="Bought", fields=[{"name": "sku", "type": "String"}]
    )
    url = reverse("admin:people_customeventdefinition_change", args=[definition.pk])
    response = admin_client.post(url, {"title": "Renamed", "description": "", "fields": "[]"})
    assert response.status_code == 302
    assert response.url == url
    shown = [str(m) for m in admin_client.get(url).context["messages"]]
    assert shown == ["Field 'sku' cannot be removed. (BAD_REQUEST)"]
    definition.refresh_from_db()
    assert (definition.title, definition.fields) == ("Bought", [{"name": "sku", "type": "String"}])
