"""Standard person attributes: each limit and format of DOMAIN.md, through the services."""

import datetime as dt

import pytest
from django.utils import timezone

from core.errors import DomainError, ErrorCode
from people import services
from people.models import Person, PersonType

pytestmark = pytest.mark.django_db

TEXT_LIMITS = [
    ("firstName", "first_name", 255),
    ("lastName", "last_name", 255),
    ("middleName", "middle_name", 50),
    ("address", "address", 256),
    ("city", "city", 50),
    ("country", "country", 50),
    ("externalId", "external_id", 256),
]


def create(system_actor, **fields) -> Person:
    return services.person_create(actor=system_actor, fields=fields)


def rejected(system_actor, **fields) -> DomainError:
    with pytest.raises(DomainError) as caught:
        create(system_actor, **fields)
    assert Person.objects.count() == 0, "a rejected create must store nothing"
    return caught.value


@pytest.mark.parametrize(("name", "model_field", "limit"), TEXT_LIMITS)
def test_a_text_attribute_at_its_limit_is_stored_whole(system_actor, name, model_field, limit):
    person = create(system_actor, **{name: "x" * limit})
    person.refresh_from_db()
    assert getattr(person, model_field) == "x" * limit


@pytest.mark.parametrize(("name", "model_field", "limit"), TEXT_LIMITS)
def test_a_text_attribute_one_over_its_limit_is_rejected_naming_the_field(
    system_actor, name, model_field, limit
):
    error = rejected(system_actor, **{name: "x" * (limit + 1)})
    assert error.field == name
    assert str(limit) in error.message


@pytest.mark.parametrize(("name", "model_field", "limit"), TEXT_LIMITS)
def test_the_database_column_has_the_same_limit(name, model_field, limit):
    assert Person._meta.get_field(model_field).max_length == limit


@pytest.mark.parametrize("name", ["firstName", "city", "middleName"])
def test_a_text_attribute_of_the_wrong_type_is_a_format_error(system_actor, name):
    error = rejected(system_actor, **{name: 42})
    assert (error.code, error.field) == (ErrorCode.REQUEST_FORMAT_INVALID, name)


def test_a_profile_picture_url_of_2083_characters_is_accepted(system_actor):
    url = "https://cdn.example.com/" + "p" * (2083 - len("https://cdn.example.com/"))
    assert len(url) == 2083
    person = create(system_actor, profilePicture=url)
    person.refresh_from_db()
    assert person.profile_picture == url


def test_a_profile_picture_url_over_2083_characters_is_rejected(system_actor):
    url = "https://cdn.example.com/" + "p" * 2083
    assert rejected(system_actor, profilePicture=url).field == "profilePicture"


@pytest.mark.parametrize("value", ["not a url", "ftp://example.com/a.png", "javascript:alert(1)"])
def test_a_profile_picture_that_is_not_an_http_url_is_rejected(system_actor, value):
    assert rejected(system_actor, profilePicture=value).field == "profilePicture"


@pytest.mark.parametrize(
    ("given", "stored"),
    [("en", "en"), ("EN", "en"), ("en-GB", "en-GB"), ("en_gb", "en-GB"), ("hr-HR", "hr-HR")],
)
def test_preferred_language_is_a_language_code_or_language_region(system_actor, given, stored):
    person = create(system_actor, preferredLanguage=given)
    person.refresh_from_db()
    assert person.preferred_language == stored


@pytest.mark.parametrize("given", ["english", "e", "en-GBR", "eng", "en-", "12", "en-G1"])
def test_preferred_language_in_any_other_form_is_rejected(system_actor, given):
    assert rejected(system_actor, preferredLanguage=given).field == "preferredLanguage"


@pytest.mark.parametrize(("given", "stored"), [("MALE", "MALE"), ("female", "FEMALE"), ("", "")])
def test_gender_is_male_female_or_empty(system_actor, given, stored):
    person = create(system_actor, gender=given)
    person.refresh_from_db()
    assert person.gender == stored


@pytest.mark.parametrize("given", ["OTHER", "M", "unknown"])
def test_any_other_gender_is_rejected(system_actor, given):
    assert rejected(system_actor, gender=given).field == "gender"


def test_birth_date_is_stored_as_a_date(system_actor):
    person = create(system_actor, birthDate="1968-02-10")
    person.refresh_from_db()
    assert person.birth_date == dt.date(1968, 2, 10)


def test_the_sdk_name_birthday_means_birth_date(system_actor):
    person = create(system_actor, birthday="1990-07-01")
    assert person.birth_date == dt.date(1990, 7, 1)


def test_birth_date_today_is_accepted(system_actor):
    today = timezone.localdate()
    assert create(system_actor, birthDate=today.isoformat()).birth_date == today


def test_birth_date_in_the_future_is_rejected(system_actor):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    error = rejected(system_actor, birthDate=tomorrow.isoformat())
    assert error.field == "birthDate"
    assert "future" in error.message


@pytest.mark.parametrize("given", ["10.02.1968", "1968-2-10", "19680210", "1968-02-30", "soon"])
def test_birth_date_not_in_yyyy_mm_dd_is_rejected(system_actor, given):
    assert rejected(system_actor, birthDate=given).field == "birthDate"


def test_a_person_created_without_a_type_is_a_customer(system_actor):
    assert create(system_actor, firstName="Ana").type == PersonType.CUSTOMER


@pytest.mark.parametrize(("given", "stored"), [("LEAD", "LEAD"), ("customer", "CUSTOMER")])
def test_type_is_lead_or_customer(system_actor, given, stored):
    assert create(system_actor, type=given).type == stored


@pytest.mark.parametrize("given", ["VIP", "", None])
def test_any_other_type_is_rejected(system_actor, given):
    assert rejected(system_actor, type=given).field == "type"


def test_the_database_refuses_a_type_other_than_lead_or_customer():
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Person.objects.create(type="VIP")


@pytest.mark.parametrize("given", ["null", "NULL", "Null", "nUlL", " null ", "", None])
def test_the_external_id_null_in_any_casing_means_no_value(system_actor, given):
    person = create(system_actor, externalId=given)
    person.refresh_from_db()
    assert person.external_id is None


def test_two_people_may_both_have_no_external_id(system_actor):
    create(system_actor, externalId="null")
    create(system_actor, externalId="NULL")
    assert Person.objects.filter(external_id__isnull=True).count() == 2


def test_editing_the_external_id_to_null_removes_it(system_actor):
    person = create(system_actor, externalId="crm-1")
    services.person_set_fields(person=person, actor=system_actor, fields={"externalId": "NULL"})
    assert Person.objects.get(pk=person.pk).external_id is None
    assert person.events.first().changes == {"externalId": {"before": "crm-1", "after": None}}


def test_an_external_id_that_merely_contains_null_is_kept(system_actor):
    assert create(system_actor, externalId="nullable-7").external_id == "nullable-7"


def test_an_unknown_attribute_is_rejected_by_name(system_actor):
    assert rejected(system_actor, favouriteColour="blue").field == "favouriteColour"


def test_editing_a_field_records_its_before_and_after(system_actor):
    person = create(system_actor, firstName="Ana", city="Zagreb")
    services.person_set_fields(
        person=person, actor=system_actor, fields={"firstName": "Ivana", "city": "Zagreb"}
    )
    event = person.events.first()
    assert event.kind == "ATTRIBUTES_CHANGED"
    assert event.changes == {"firstName": {"before": "Ana", "after": "Ivana"}}


def test_an_edit_that_breaks_a_limit_changes_nothing(system_actor):
    person = create(system_actor, firstName="Ana")
    with pytest.raises(DomainError):
        services.person_set_fields(
            person=person, actor=system_actor, fields={"lastName": "Horvat", "city": "c" * 51}
        )
    person.refresh_from_db()
    assert (person.last_name, person.city, person.version) == ("", "", 1)
    assert person.events.count() == 1


@pytest.mark.parametrize("name", ["firstName", "city", "address", "externalId"])
def test_text_with_a_nul_character_is_rejected_naming_the_field(system_actor, name):
    # PostgreSQL cannot store NUL in text: without this rule the write was a 500.
    error = rejected(system_actor, **{name: "Ana\x00"})
    assert (error.code, error.field) == (ErrorCode.BAD_REQUEST, name)
    assert "NUL" in error.message
