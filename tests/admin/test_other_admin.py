import pytest
from django.urls import reverse

from core.admin import CappedCountPaginator
from people.models import ContactIdentity, Event, EventKind, Source, Tag
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def test_a_phone_added_on_its_own_admin_page_is_normalized_and_recorded(
    admin_client, administrator
):
    person = PersonFactory()
    response = admin_client.post(
        reverse("admin:people_contactidentity_add"),
        {"person": person.pk, "kind": "PHONE", "value": "00385 91 234 5678"},
    )
    assert response.status_code == 302
    identity = ContactIdentity.objects.get(person=person)
    assert (identity.value, identity.national_number) == ("385912345678", "912345678")
    event = Event.objects.get(person=person, kind=EventKind.CONTACTS_CHANGED)
    assert (event.source, event.actor_user) == (Source.ADMIN, administrator)


def test_a_phone_of_another_person_is_refused_on_the_identity_page(admin_client, ana):
    person = PersonFactory()
    response = admin_client.post(
        reverse("admin:people_contactidentity_add"),
        {"person": person.pk, "kind": "PHONE", "value": "+385 1 6419 710"},
    )
    assert response.status_code == 200
    assert "USER_MERGE_INTERRUPTED" in " ".join(response.context["adminform"].form.errors["value"])
    assert not ContactIdentity.objects.filter(person=person).exists()


def test_the_identity_search_finds_a_phone_typed_in_another_format(admin_client, ana):
    response = admin_client.get(
        reverse("admin:people_contactidentity_changelist"), {"q": "+385 (1) 6419-710"}
    )
    assert [i.value for i in response.context["cl"].result_list] == ["38516419710"]


def test_a_tag_created_in_admin_collapses_with_an_existing_name_in_another_case(admin_client):
    Tag.objects.create(name="VIP")
    url = reverse("admin:people_tag_add")
    refused = admin_client.post(url, {"name": "vip"})
    assert refused.status_code == 200
    assert "exists already" in " ".join(refused.context["adminform"].form.errors["name"])
    assert admin_client.post(url, {"name": "Gold"}).status_code == 302
    assert sorted(Tag.objects.values_list("name", flat=True)) == ["Gold", "VIP"]


def test_history_events_are_read_only_even_for_administrators(admin_client, ana):
    event = Event.objects.filter(person=ana).first()
    change = reverse("admin:people_event_change", args=[event.pk])
    assert admin_client.get(change).status_code == 200
    assert admin_client.post(change, {"kind": "INSTALL"}).status_code == 403
    delete = reverse("admin:people_event_delete", args=[event.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert admin_client.get(reverse("admin:people_event_add")).status_code == 403
    event.refresh_from_db()
    assert event.kind == EventKind.PERSON_CREATED


def test_the_person_list_counts_at_most_the_cap_instead_of_the_whole_table(
    admin_client, monkeypatch
):
    for _ in range(5):
        PersonFactory()
    monkeypatch.setattr(CappedCountPaginator, "CAP", 3)
    response = admin_client.get(reverse("admin:people_person_changelist"))
    assert response.context["cl"].result_count == 3


def test_a_phone_the_person_has_already_typed_as_stored_changes_nothing(admin_client, ana):
    events = Event.objects.filter(person=ana).count()
    response = admin_client.post(
        reverse("admin:people_contactidentity_add"),
        {"person": ana.pk, "kind": "PHONE", "value": "38516419710"},
    )
    assert response.status_code == 302
    assert ContactIdentity.objects.filter(person=ana, kind="PHONE").count() == 1
    assert Event.objects.filter(person=ana).count() == events
