"""Contact identities: phone and email normalization, and one owner per identifier."""

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import DomainError, ErrorCode
from people import services
from people.changes import merge_changes
from people.identities import normalize_email, normalize_phone, parse_phone
from people.models import ContactIdentity, Person
from tests.factories import PersonFactory

INVALID = ErrorCode.PHONE_INVALID

# input -> E.164 digits without "+", or PHONE_INVALID (no PHONE_DEFAULT_REGION set)
PHONE_TABLE = [
    ("+385 1 6419 710", "38516419710"),
    ("+385-1-6419-710", "38516419710"),
    ("+385.1.6419.710", "38516419710"),
    ("(385) 1.6419.710", "38516419710"),
    ("+385 (1) 6419-710", "38516419710"),
    ("00385 1 6419 710", "38516419710"),
    ("0038516419710", "38516419710"),
    ("38516419710", "38516419710"),  # bare international digits, as the vendor's API sends
    ("  +38516419710  ", "38516419710"),
    ("+385/1/6419710", "38516419710"),
    ("+385 91 234 5678", "385912345678"),
    ("+1 (212) 555-0123", "12125550123"),
    ("1-212-555-0123", "12125550123"),
    ("+1.212.555.0123", "12125550123"),
    ("12125550123", "12125550123"),
    ("+44 20 7946 0958", "442079460958"),
    ("00 44 20 7946 0958", "442079460958"),
    ("+49 30 12345678", "493012345678"),
    ("016419710", INVALID),  # national form without a default region
    ("123", INVALID),  # too short
    ("+385", INVALID),  # a country code alone
    ("+3851641971099999", INVALID),  # too long
    ("+38516419710123456789012345678901234", INVALID),  # far too long
    ("abc", INVALID),  # letters
    ("3851641971O", INVALID),  # a letter O among the digits
    ("+385 1 6419 710 ext 5", INVALID),
    ("++38516419710", INVALID),
    ("", INVALID),
    ("   ", INVALID),
    ("+", INVALID),
    ("+000 000 0000", INVALID),
]


@pytest.mark.parametrize(("given_input", "expected"), PHONE_TABLE)
def test_phone_input_is_normalized_or_rejected(given_input, expected):
    if expected == INVALID:
        with pytest.raises(DomainError) as caught:
            normalize_phone(given_input)
        assert caught.value.code == ErrorCode.PHONE_INVALID
    else:
        assert normalize_phone(given_input) == expected


def test_the_phone_table_is_long_enough_and_mixes_valid_and_invalid_input():
    valid = [row for row in PHONE_TABLE if row[1] != INVALID]
    assert len(PHONE_TABLE) >= 20 and len(valid) >= 10 and len(PHONE_TABLE) - len(valid) >= 10


@pytest.mark.parametrize("given_input", [None, True, 3.5, ["+38516419710"], {"n": 1}])
def test_a_phone_that_is_not_text_is_invalid(given_input):
    with pytest.raises(DomainError) as caught:
        normalize_phone(given_input)
    assert caught.value.code == ErrorCode.PHONE_INVALID


@pytest.mark.parametrize(
    ("given_input", "expected"),
    [
        ("016419710", "38516419710"),
        ("01 6419 710", "38516419710"),
        ("(01) 6419-710", "38516419710"),
        ("091 234 5678", "385912345678"),
        ("+1 212 555 0123", "12125550123"),  # international input still wins
        ("38516419710", "38516419710"),
    ],
)
def test_national_input_is_read_with_the_default_region(settings, given_input, expected):
    settings.PHONE_DEFAULT_REGION = "HR"
    assert normalize_phone(given_input) == expected


def test_national_input_of_another_country_stays_invalid_with_a_default_region(settings):
    settings.PHONE_DEFAULT_REGION = "US"
    with pytest.raises(DomainError) as caught:
        normalize_phone("01 6419 710")
    assert caught.value.code == ErrorCode.PHONE_INVALID


def test_a_phone_keeps_its_national_number_for_search():
    phone = parse_phone("+385 1 6419 710")
    assert (phone.number, phone.national_number, phone.region) == ("38516419710", "16419710", "HR")


# Valid numbers of many countries, straight from the phonenumbers metadata.
VALID_NUMBERS = sorted(
    {
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164).lstrip("+")
        for region in ("HR", "US", "GB", "DE", "FR", "IN", "BR", "JP", "AU", "ZA", "RS", "SI")
        for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE)
        if (number := phonenumbers.example_number_for_type(region, kind)) is not None
    }
)


@st.composite
def decorated(draw) -> tuple[str, str]:
    """A valid number typed the way people type it: a prefix and separators anywhere."""
    digits = draw(st.sampled_from(VALID_NUMBERS))
    prefix = draw(st.sampled_from(["+", "00", "+ ", "00 ", "", " +"]))
    separators = st.sampled_from(["", "", " ", "-", ".", "(", ")", "/", "  "])
    body = "".join(char + draw(separators) for char in digits)
    return prefix + body, digits


@pytest.mark.slow
@given(decorated())
def test_any_decoration_of_a_valid_number_normalizes_to_the_same_digits(case):
    text, digits = case
    assert normalize_phone(text) == digits


@given(st.one_of(decorated().map(lambda case: case[0]), st.text(max_size=20)))
def test_normalizing_a_phone_twice_gives_the_same_digits(text):
    try:
        once = normalize_phone(text)
    except DomainError as error:
        assert error.code == ErrorCode.PHONE_INVALID
        return
    assert once.isdigit()
    assert normalize_phone(once) == once
    assert normalize_phone("+" + once) == once


# --- Email


@pytest.mark.parametrize(
    ("given_input", "expected"),
    [
        ("ana@example.com", "ana@example.com"),
        ("Ana.Horvat@Example.COM", "ana.horvat@example.com"),
        ("  john+news@example.co.uk ", "john+news@example.co.uk"),
        ("o'brien@example.ie", "o'brien@example.ie"),
    ],
)
def test_an_email_is_stored_lower_cased(given_input, expected):
    assert normalize_email(given_input) == expected


@pytest.mark.parametrize(
    "given_input",
    [
        "ana",
        "ana@",
        "@example.com",
        "ana@example",
        "ana horvat@example.com",
        "ana@@example.com",
        "ana@example..com",
        "",
        "a" * 250 + "@example.com",
        42,
        None,
    ],
)
def test_an_invalid_email_is_rejected(given_input):
    with pytest.raises(DomainError) as caught:
        normalize_email(given_input)
    assert caught.value.code == ErrorCode.EMAIL_INVALID


@given(st.emails())
def test_every_rfc_address_hypothesis_generates_is_accepted_in_lower_case(address):
    try:
        stored = normalize_email(address)
    except DomainError:
        # Django's validator is a strict subset of RFC 5322 (no IP literals with ports etc.);
        # whatever it rejects must be rejected as EMAIL_INVALID, never with another error.
        return
    assert stored == address.strip().lower()
    assert normalize_email(stored) == stored


# --- One owner per identifier


@pytest.fixture
def ana(db, system_actor) -> Person:
    return services.person_create(
        actor=system_actor,
        fields={"firstName": "Ana", "externalId": "crm-1"},
        phones=["+385 1 6419 710"],
        emails=["Ana@Example.com"],
    )


@pytest.mark.django_db
def test_phones_and_emails_are_stored_normalized(ana):
    stored = set(ana.identities.values_list("kind", "value", "national_number"))
    assert stored == {("PHONE", "38516419710", "16419710"), ("EMAIL", "ana@example.com", "")}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"fields": {"externalId": "crm-1"}}, "externalId"),
        ({"phones": ["00385 1 6419-710"]}, "contactInformation.phone"),
        ({"emails": ["ANA@example.COM"]}, "contactInformation.email"),
    ],
)
def test_an_identifier_of_another_person_is_never_merged(ana, system_actor, kwargs, field):
    other = PersonFactory()
    with pytest.raises(DomainError) as caught:
        services.person_update(person=other, actor=system_actor, changes=merge_changes(**kwargs))
    error = caught.value
    assert (error.code, error.field) == (ErrorCode.USER_MERGE_INTERRUPTED, field)
    assert error.details == {"personId": ana.pk}
    assert str(ana.pk) in error.message
    assert other.identities.count() == 0
    assert other.events.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "kwargs",
    [
        {"fields": {"externalId": "crm-1"}},
        {"phones": ["38516419710"]},
        {"emails": ["ana@EXAMPLE.com"]},
    ],
)
def test_creating_a_person_with_another_persons_identifier_stores_nothing(
    ana, system_actor, kwargs
):
    with pytest.raises(DomainError) as caught:
        services.person_create(actor=system_actor, **kwargs)
    assert caught.value.code == ErrorCode.USER_MERGE_INTERRUPTED
    assert caught.value.details == {"personId": ana.pk}
    assert Person.objects.count() == 1


@pytest.mark.django_db
def test_adding_an_identifier_a_person_has_already_in_another_form_changes_nothing(
    ana, system_actor
):
    services.person_update(
        person=ana,
        actor=system_actor,
        changes=merge_changes(phones=["0038516419710"], emails=["ANA@example.com"]),
    )
    assert ana.identities.count() == 2
    assert ana.events.count() == 1  # only the creation


@pytest.mark.django_db
def test_an_identifier_freed_by_one_person_can_be_taken_by_another(ana, system_actor):
    services.person_remove_email(person=ana, actor=system_actor, address="ANA@example.com")
    other = PersonFactory()
    services.person_add_email(person=other, actor=system_actor, address="ana@example.com")
    assert list(other.identities.values_list("value", flat=True)) == ["ana@example.com"]


@pytest.mark.django_db
def test_a_person_can_have_100_phones_and_100_emails_but_not_101(system_actor):
    phones = [f"+385 91 {i:07d}" for i in range(100)]
    emails = [f"person.{i}@example.com" for i in range(100)]
    person = services.person_create(actor=system_actor, phones=phones, emails=emails)
    assert person.identities.filter(kind="PHONE").count() == 100
    assert person.identities.filter(kind="EMAIL").count() == 100
    for kwargs, field in [
        ({"phones": ["+385 91 0000100"]}, "contactInformation.phone"),
        ({"emails": ["person.100@example.com"]}, "contactInformation.email"),
    ]:
        with pytest.raises(DomainError) as caught:
            services.person_update(
                person=person, actor=system_actor, changes=merge_changes(**kwargs)
            )
        assert caught.value.field == field
        assert "100" in caught.value.message
    assert ContactIdentity.objects.count() == 200


@pytest.mark.django_db
def test_101_phones_in_one_create_are_rejected_and_nothing_is_stored(system_actor):
    with pytest.raises(DomainError) as caught:
        services.person_create(actor=system_actor, phones=[f"+385 91 {i:07d}" for i in range(101)])
    assert caught.value.field == "contactInformation.phone"
    assert (Person.objects.count(), ContactIdentity.objects.count()) == (0, 0)


def test_an_ascii_domain_is_kept_as_written_even_where_idna_2008_is_stricter():
    # Django's validator accepts these; IDNA 2008 refuses hyphens in the third and fourth
    # places. An address valid yesterday stays valid, and only its case folds.
    assert normalize_email("Joe@AB--CD.example") == "joe@ab--cd.example"
    assert normalize_email("joe@xn--bcher-kva.de") == normalize_email("joe@bücher.de")
