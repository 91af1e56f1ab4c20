"""Installations and people as the push API and the device API show them.

Two spellings of the same data: the vendor's contact information push API
(``registrationId``, ``systemData``, ``additionalData``; reference 003) and the mobile SDK's
(``pushRegId``, ``regEnabled``, ``customAttributes``; reference 000).
"""

from __future__ import annotations

from typing import Any

from installations.models import Application, Installation
from people import custom_attributes as attribute_types
from people.models import IdentityKind, Person
from people.profiles import Profile, profile_of_person, profiles

# The vendor's enums (PushApiInstanceSystemData in the vendor's OpenAPI document). Stored values
# are what devices sent; the vendor's spelling is chosen on the way out, and a value the vendor's
# enum has no name for is left out rather than sent in a shape its clients do not expect.
VENDOR_OS = {"android": "Android", "ios": "iOS"}
VENDOR_CLOUD_TYPE = {
    "gcm": "GCM",
    "fcm": "GCM",
    "firebase": "GCM",
    "apns": "APNS",
    "hms": "HMS",
    "web": "WEB",
}

# SDK field name -> the system data name the services take (DEVICE_SYSTEM_FIELDS).
DEVICE_SYSTEM_NAMES = {
    "regEnabled": "registrationEnabled",
    "notificationsEnabled": "notificationsEnabled",
    "geoEnabled": "geofencingSdk",
    "sdkVersion": "sdkVersion",
    "appVersion": "appVersion",
    "os": "os",
    "osVersion": "osVersion",
    "deviceManufacturer": "deviceManufacturer",
    "deviceModel": "deviceModel",
    "deviceSecure": "deviceSecure",
    "language": "osLanguage",
    "deviceTimezoneOffset": "deviceTimezoneOffset",
    "deviceName": "deviceName",
    "pushServiceType": "cloudType",
}
# Device-written fields of the SDK's installation that the vendor's push API has no name for
# (SDK name = the name the services take, DEVICE_SYSTEM_FIELDS): the module flags iOS adds
# to its system data, the app's applicationUserId and the push address. pushServiceToken is
# answered only when the device asks for it (``rt``) about itself.
DEVICE_ONLY_NAMES = {
    "inappchat": "inappchat",
    "inbox": "inbox",
    "webrtcui": "webrtcui",
    "applicationUserId": "applicationUserId",
    "pushServiceToken": "pushServiceToken",
}

# The SDKs' spelling of gender (Android UserMapper.genderFromBackend, iOS MMGender.make read
# only these); the people API and the database say MALE and FEMALE.
SDK_GENDER = {"MALE": "Male", "FEMALE": "Female"}


def push_instance(installation: Installation) -> dict[str, Any]:
    """A PushApiInstance: the installation in the vendor's push API."""
    system_data: dict[str, Any] = {}
    for name, field in Installation.SYSTEM_DATA_FIELDS.items():
        value = getattr(installation, field)
        if name == "os":
            value = VENDOR_OS.get(value.lower())
        elif name == "cloudType":
            value = VENDOR_CLOUD_TYPE.get(value.lower())
        if value is None or value == "":
            continue
        system_data[name] = value
    return {
        "registrationId": installation.push_registration_id,
        "applicationId": installation.application.code,
        "isPrimary": installation.is_primary,
        "systemData": system_data,
        "additionalData": dict(installation.additional_data or {}),
    }


def _custom_attributes(rows) -> dict[str, Any]:
    return {
        row.definition.name: attribute_types.serialize_value(
            row.definition, attribute_types.from_row(row.definition, row)
        )
        for row in rows
    }


def _identities(identities) -> tuple[list[str], list[str]]:
    phones, emails = [], []
    for identity in identities:
        (phones if identity.kind == IdentityKind.PHONE else emails).append(identity.value)
    return phones, emails


def _standard(person: Person) -> dict[str, Any]:
    values = {
        "firstName": person.first_name,
        "lastName": person.last_name,
        "middleName": person.middle_name,
        "gender": person.gender,
        "birthday": person.birth_date.isoformat() if person.birth_date else None,
    }
    return {name: value for name, value in values.items() if value not in (None, "")}


def personalization_response(person: Person, *, return_push: bool = False) -> dict[str, Any]:
    """A PushUserPersonalizationResponse: the person the installation now belongs to.

    Contacts in the vendor's plural lists; with ``returnPush`` also every push registration.
    The person is read again with all of it in one statement (people.profiles); if another
    request deleted it a moment ago, the answer is what the service returned.
    """
    found = profiles(Person.objects.filter(pk=person.pk))
    profile: Profile = found[0] if found else profile_of_person(person)
    person = profile.person
    phones, emails = _identities(profile.identities)
    body: dict[str, Any] = {}
    if person.external_id:
        body["externalId"] = person.external_id
    body.update(_standard(person))
    body["type"] = person.type
    body["tags"] = sorted((tag.name for tag in profile.tags), key=str.casefold)
    body["customAttributes"] = _custom_attributes(profile.attribute_values)
    contact: dict[str, Any] = {
        "phones": [{"number": number} for number in phones],
        "emails": [{"address": address} for address in emails],
    }
    if return_push:
        contact["push"] = [push_instance(installation) for installation in profile.installations]
    body["contactInformation"] = contact
    return body


def device_instance(
    installation: Installation, *, push_service_token: bool = False
) -> dict[str, Any]:
    """The installation as the mobile SDK reads it (Android AppInstance, iOS MMInstallation).

    ``push_service_token``: the device asked for its push address (iOS ``rt=1``) about its
    own installation; it is never answered otherwise.
    """
    body: dict[str, Any] = {
        "pushRegId": installation.push_registration_id,
        "applicationCode": installation.application.code,
        "isPrimary": installation.is_primary,
    }
    for sdk_name, system_name in DEVICE_SYSTEM_NAMES.items():
        field = Installation.SYSTEM_DATA_FIELDS[system_name]
        body[sdk_name] = getattr(installation, field)
    for sdk_name, field in Installation.SDK_MODULE_FIELDS.items():
        body[sdk_name] = getattr(installation, field)
    if installation.application_user_id:
        body["applicationUserId"] = installation.application_user_id
    if push_service_token and installation.push_service_token:
        body["pushServiceToken"] = installation.push_service_token
    body["customAttributes"] = dict(installation.additional_data or {})
    return body


def device_user(
    person: Person, *, return_push: bool = False, application: Application
) -> dict[str, Any]:
    """The person as the mobile SDK reads it (``externalUserId``, ``phones``, ``emails``).

    A device of ``application`` asked: with ``return_push``, only that application's
    installations of the person are listed. Another application's installations and codes
    are never shown to a device (DOMAIN.md); the profile itself is, as the vendor's SDK
    expects.
    """
    phones, emails = _identities(person.identities.all())
    body: dict[str, Any] = {}
    if person.external_id:
        body["externalUserId"] = person.external_id
    body.update(_standard(person))
    if "gender" in body:
        body["gender"] = SDK_GENDER.get(body["gender"], body["gender"])
    body["type"] = person.type
    body["phones"] = [{"number": number} for number in phones]
    body["emails"] = [{"address": address} for address in emails]
    body["tags"] = sorted((tag.name for tag in person.tags.all()), key=str.casefold)
    body["customAttributes"] = _custom_attributes(person.attribute_values.all())
    if return_push:
        # Both SDKs read the user's installations under "instances" (Android UserBody,
        # iOS MMUser(json:)).
        body["instances"] = [
            device_instance(installation)
            for installation in person.installations.filter(application=application).select_related(
                "application"
            )
        ]
    return body
