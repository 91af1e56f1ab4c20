import pytest
from django.contrib.auth.models import Group, User

from installations.models import Application
from people.history import Actor
from portal import roles
from tests.factories import ApplicationFactory


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


@pytest.fixture(autouse=True)
def _forget_tag_sizes():
    """Each test starts with no remembered tag sizes (people.search._tags_over): its own tags
    may have the ids of an earlier test's."""
    from people.search import forget_tag_sizes

    forget_tag_sizes()
