"""The push API (vendor paths) and the device API; included at "" by portal/urls.py."""

from django.urls import path

from installations.api import device, device_user, push
from installations.api import schema as _schema  # noqa: F401 (registers the auth extension)

PUSH = "people/2/contactInformation/push/<str:pushRegId>"
APP_INSTANCE = "mobile/1/appinstance"

urlpatterns = [
    path(PUSH, push.PushRegistrationDetail.as_view(), name="api-push-registration"),
    path(
        f"{PUSH}/personalize",
        push.PushRegistrationPersonalize.as_view(),
        name="api-push-personalize",
    ),
    path(
        f"{PUSH}/depersonalize",
        push.PushRegistrationDepersonalize.as_view(),
        name="api-push-depersonalize",
    ),
    path(APP_INSTANCE, device.DeviceRegistration.as_view(), name="device-register"),
    path(
        f"{APP_INSTANCE}/<str:pushRegId>",
        device.DeviceInstallation.as_view(),
        name="device-installation",
    ),
    path(
        f"{APP_INSTANCE}/<str:pushRegId>/personalize",
        device.DevicePersonalize.as_view(),
        name="device-personalize",
    ),
    path(
        f"{APP_INSTANCE}/<str:pushRegId>/depersonalize",
        device.DeviceDepersonalize.as_view(),
        name="device-depersonalize",
    ),
    path(
        f"{APP_INSTANCE}/<str:pushRegId>/repersonalize",
        device_user.DeviceRepersonalize.as_view(),
        name="device-repersonalize",
    ),
    path(
        f"{APP_INSTANCE}/<str:pushRegId>/user", device_user.DeviceUser.as_view(), name="device-user"
    ),
    path(
        f"{APP_INSTANCE}/<str:pushRegId>/user/events/session",
        device_user.DeviceSessions.as_view(),
        name="device-user-sessions",
    ),
    path(
        f"{APP_INSTANCE}/<str:pushRegId>/user/events/custom",
        device_user.DeviceCustomEvents.as_view(),
        name="device-user-custom-events",
    ),
]
