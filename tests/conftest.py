import functools

import pytest
from django.contrib.auth.models import Group, User

from core import roles
from core.models import ApiKeyRole
from installations.models import Application
from people.history import Actor
from tests.factories import ApplicationFactory
from tests.profiles import Profile, make_profile
from tests.vendor_api import key_client


def make_operator(username: str, role: str) -> User:
    user = User.objects.create_user(username=username, password="correct-horse-battery")
    user.groups.add(Group.objects.get(name=role))
    if role == roles.ADMINISTRATOR:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    return user


@pytest.fixture
def viewer(db) -> User:
    return make_operator("vera.viewer", roles.VIEWER)


@pytest.fixture
def editor(db) -> User:
    return make_operator("eddie.editor", roles.EDITOR)


@pytest.fixture
def administrator(db) -> User:
    return make_operator("ada.admin", roles.ADMINISTRATOR)


@pytest.fixture
def system_actor() -> Actor:
    return Actor.system("tests")


@pytest.fixture
def operator_actor(editor) -> Actor:
    return Actor.operator(editor)


@pytest.fixture
def application(db) -> Application:
    return ApplicationFactory(name="Shop", code="shop-app-code")


@pytest.fixture
def manage_client(db):
    return key_client(ApiKeyRole.MANAGE)


@pytest.fixture
def read_client(db):
    return key_client(ApiKeyRole.READ, name="reporting")


@pytest.fixture
def profile(db, system_actor) -> Profile:
    return make_profile(system_actor)


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


@pytest.fixture
def viewer_client(client, viewer):
    client.force_login(viewer)
    return client


@pytest.fixture
def admin_client_(client, administrator):
    client.force_login(administrator)
    return client


@pytest.fixture(autouse=True)
def _forget_tag_sizes():
    """Each test starts with no remembered tag sizes (directory.search.filters): its own tags
    may have the ids of an earlier test's."""
    from directory.search import forget_tag_sizes

    forget_tag_sizes()


@pytest.fixture(autouse=True)
def _forget_request_counts():
    """Each test starts with no request counted by the rate limits: the run's keys in the
    shared cache (Redis, under the run's own prefix) are deleted after every test."""
    yield
    forget_cache_keys()


def forget_cache_keys() -> None:
    from django.conf import settings
    from django.core.cache import cache

    options = settings.CACHES["default"]
    if options["BACKEND"] != "django.core.cache.backends.redis.RedisCache":
        cache.clear()
        return
    client = _redis_client(options["LOCATION"])
    keys = list(client.scan_iter(match=f"{options['KEY_PREFIX']}:*", count=1000))
    if keys:
        client.delete(*keys)


@functools.cache
def _redis_client(url: str):
    import redis

    return redis.Redis.from_url(url)
