from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from installations.models import Application


def run(*args: str) -> str:
    out = StringIO()
    call_command("create_application", *args, stdout=out, stderr=StringIO())
    return out.getvalue().strip()


@pytest.mark.django_db
def test_it_creates_an_application_and_prints_its_generated_code():
    code = run("Shop (Android)")
    application = Application.objects.get(code=code)
    assert application.name == "Shop (Android)"
    assert len(code) == 32


@pytest.mark.django_db
def test_it_takes_the_code_given():
    assert run("Wallet", "--code", "wallet-app") == "wallet-app"
    assert Application.objects.get(code="wallet-app").name == "Wallet"


@pytest.mark.django_db
def test_it_refuses_a_code_that_exists():
    run("Wallet", "--code", "wallet-app")
    with pytest.raises(CommandError, match="code"):
        run("Wallet again", "--code", "wallet-app")
    assert Application.objects.count() == 1


@pytest.mark.django_db
def test_it_refuses_an_empty_name():
    with pytest.raises(CommandError, match="name"):
        run("  ")
    assert not Application.objects.exists()
