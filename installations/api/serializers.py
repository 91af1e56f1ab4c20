"""Serializers that describe the push and device API in the OpenAPI schema (field names are
the vendor's and the SDK's), and read the personalize query flags.

The views render with installations.api.representations and validate through the services;
these classes say what those produce and accept, so that /api/schema/ describes the
endpoints as they behave.
"""

from __future__ import annotations

from rest_framework import serializers

from installations.api.push_errors import PUSH_ERROR_CODES_TEXT


class AnyValueField(serializers.JSONField):
    """A free-form value (string, number, boolean, date, ...)."""


def free_form_map(help_text: str, **kwargs) -> serializers.DictField:
    return serializers.DictField(child=AnyValueField(), help_text=help_text, **kwargs)


# --- errors -----------------------------------------------------------------------------------


class PushErrorSerializer(serializers.Serializer):
    """The vendor's PushApiErrorResponse: every 400 of the push API."""

    errorCode = serializers.IntegerField(help_text=PUSH_ERROR_CODES_TEXT)
    errorMessage = serializers.CharField(help_text="The field and the rule it broke")

    class Meta:
        ref_name = "PushApiErrorResponse"


# --- the vendor's push API --------------------------------------------------------------------


class PushSystemDataSerializer(serializers.Serializer):
    """System data as answered: a field without a value (or, for os and cloudType, one the
    vendor's enums do not name) is left out, so none is required."""

    cloudType = serializers.ChoiceField(choices=["GCM", "APNS", "HMS", "WEB"], required=False)
    registrationEnabled = serializers.BooleanField(
        required=False, help_text="Push on or off for this installation (writable)"
    )
    notificationsEnabled = serializers.BooleanField(required=False)
    geofencingSdk = serializers.BooleanField(required=False)
    sdkVersion = serializers.CharField(required=False)
    appVersion = serializers.CharField(required=False)
    os = serializers.ChoiceField(choices=["Android", "iOS"], required=False)
    osVersion = serializers.CharField(required=False)
    deviceManufacturer = serializers.CharField(required=False)
    deviceModel = serializers.CharField(required=False)
    deviceSecure = serializers.BooleanField(required=False)
    osLanguage = serializers.CharField(required=False)
    deviceTimezoneOffset = serializers.CharField(required=False)
    deviceName = serializers.CharField(required=False)


class PushSystemDataUpdateSerializer(serializers.Serializer):
    """The one writable field of system data; any other is refused by name."""

    registrationEnabled = serializers.BooleanField(
        required=False, help_text="Push on or off for this installation"
    )


class PushInstanceSerializer(serializers.Serializer):
    registrationId = serializers.CharField(read_only=True)
    applicationId = serializers.CharField(read_only=True)
    isPrimary = serializers.BooleanField()
    systemData = PushSystemDataSerializer()
    additionalData = free_form_map("Custom attributes of the installation")


class PushInstanceUpdateSerializer(serializers.Serializer):
    """Only these are writable; any other field of the instance is refused by name."""

    isPrimary = serializers.BooleanField(required=False)
    systemData = PushSystemDataUpdateSerializer(required=False)
    additionalData = free_form_map("Names to set; a null value removes that name", required=False)


class PushIdentitySerializer(serializers.Serializer):
    externalId = serializers.CharField(required=False)
    phoneNumber = serializers.CharField(required=False, help_text="E.164, e.g. 79810000000")
    email = serializers.EmailField(required=False)


class PersonalizeAttributesSerializer(serializers.Serializer):
    firstName = serializers.CharField(required=False)
    lastName = serializers.CharField(required=False)
    middleName = serializers.CharField(required=False)
    birthday = serializers.DateField(required=False)
    gender = serializers.ChoiceField(choices=["MALE", "FEMALE"], required=False)
    customAttributes = free_form_map("Custom attribute values", required=False)
    tags = serializers.ListField(child=serializers.CharField(), required=False)


class PushPersonalizeRequestSerializer(serializers.Serializer):
    identity = PushIdentitySerializer()
    attributes = PersonalizeAttributesSerializer(required=False)


class PhoneSerializer(serializers.Serializer):
    number = serializers.CharField()


class EmailSerializer(serializers.Serializer):
    address = serializers.CharField()


class PushContactInformationSerializer(serializers.Serializer):
    phones = PhoneSerializer(many=True)
    emails = EmailSerializer(many=True)
    push = PushInstanceSerializer(many=True, required=False, help_text="With returnPush=true")


class PersonalizationResponseSerializer(serializers.Serializer):
    externalId = serializers.CharField(required=False)
    firstName = serializers.CharField(required=False)
    lastName = serializers.CharField(required=False)
    middleName = serializers.CharField(required=False)
    birthday = serializers.DateField(required=False)
    gender = serializers.ChoiceField(choices=["MALE", "FEMALE"], required=False)
    type = serializers.ChoiceField(choices=["LEAD", "CUSTOMER"])
    tags = serializers.ListField(child=serializers.CharField())
    customAttributes = free_form_map("Custom attribute values")
    contactInformation = PushContactInformationSerializer()


class PersonalizeFlagsSerializer(serializers.Serializer):
    """The personalize query flags of the vendor's API (also taken by the device API)."""

    forceDepersonalize = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Move an installation that is personalized with another person",
    )
    keepAsLead = serializers.BooleanField(
        required=False, default=False, help_text="Do not promote the person to customer"
    )
    returnPush = serializers.BooleanField(
        required=False, default=False, help_text="Include the person's push registrations"
    )
    setDeviceAsPrimary = serializers.BooleanField(
        required=False, default=False, help_text="Make this the person's primary device"
    )


# --- the device API (the mobile SDK's names) ---------------------------------------------------


class DeviceInstanceSerializer(serializers.Serializer):
    pushRegId = serializers.CharField(
        required=False, help_text="Generated on registration when absent"
    )
    applicationCode = serializers.CharField(read_only=True)
    isPrimary = serializers.BooleanField(required=False)
    regEnabled = serializers.BooleanField(required=False)
    notificationsEnabled = serializers.BooleanField(required=False)
    geoEnabled = serializers.BooleanField(required=False)
    sdkVersion = serializers.CharField(required=False, allow_blank=True)
    appVersion = serializers.CharField(required=False, allow_blank=True)
    os = serializers.CharField(required=False, allow_blank=True)
    osVersion = serializers.CharField(required=False, allow_blank=True)
    deviceManufacturer = serializers.CharField(required=False, allow_blank=True)
    deviceModel = serializers.CharField(required=False, allow_blank=True)
    deviceSecure = serializers.BooleanField(required=False)
    language = serializers.CharField(required=False, allow_blank=True)
    deviceTimezoneOffset = serializers.CharField(required=False, allow_blank=True)
    deviceName = serializers.CharField(required=False, allow_blank=True)
    pushServiceType = serializers.CharField(required=False, allow_blank=True)
    pushServiceToken = serializers.CharField(
        required=False,
        help_text="The device's push address (FCM, HMS or APNs token); answered only with"
        " rt=true (or 1) to the device itself",
    )
    applicationUserId = serializers.CharField(
        required=False, allow_blank=True, help_text="The app's id of its user; answered when set"
    )
    inappchat = serializers.BooleanField(required=False, help_text="The In-app chat module is on")
    inbox = serializers.BooleanField(required=False, help_text="The Inbox module is on")
    webrtcui = serializers.BooleanField(required=False, help_text="The WebRTC UI module is on")
    customAttributes = free_form_map(
        "Installation custom attributes; a null value removes that name", required=False
    )


class DeviceInstanceQuerySerializer(serializers.Serializer):
    """The app instance query flags of the SDKs (true/false or 1/0)."""

    rt = serializers.BooleanField(
        required=False, default=False, help_text="Answer the push service token (iOS)"
    )
    ri = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Sent by Android on registration; the instance is always answered",
    )


class DeviceIdentitySerializer(serializers.Serializer):
    externalUserId = serializers.CharField(required=False)
    phones = PhoneSerializer(
        many=True, required=False, help_text="Objects {number}, as the SDKs send them, or strings"
    )
    emails = EmailSerializer(
        many=True, required=False, help_text="Objects {address}, as the SDKs send them, or strings"
    )


class DeviceAttributesSerializer(PersonalizeAttributesSerializer):
    gender = serializers.ChoiceField(
        choices=["Male", "Female"], required=False, help_text="The SDKs' spelling"
    )


class DevicePersonalizeRequestSerializer(serializers.Serializer):
    userIdentity = DeviceIdentitySerializer()
    userAttributes = DeviceAttributesSerializer(required=False)


class DeviceUserSerializer(serializers.Serializer):
    externalUserId = serializers.CharField(required=False)
    firstName = serializers.CharField(required=False)
    lastName = serializers.CharField(required=False)
    middleName = serializers.CharField(required=False)
    birthday = serializers.DateField(required=False)
    gender = serializers.ChoiceField(
        choices=["Male", "Female"], required=False, help_text="The SDKs' spelling"
    )
    type = serializers.ChoiceField(choices=["LEAD", "CUSTOMER"])
    phones = PhoneSerializer(many=True)
    emails = EmailSerializer(many=True)
    tags = serializers.ListField(child=serializers.CharField())
    customAttributes = free_form_map("Custom attribute values")
    instances = DeviceInstanceSerializer(
        many=True,
        required=False,
        help_text="The calling application's installations of the user (returnPush=true on"
        " personalize, ri on get user), under the name both SDKs read",
    )
