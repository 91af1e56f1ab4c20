import logging
from collections import Counter

import pytest
from django.test import override_settings
from django.urls import reverse

from core import roles
from tests.conftest import make_operator

pytestmark = pytest.mark.django_db


def sign_in(client, username, password, address="203.0.113.7"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def test_five_failed_attempts_lock_the_account_from_that_address(client, editor, caplog):
    for _ in range(5):
        response = sign_in(client, editor.username, "wrong password")
    assert response.status_code == 429
    with caplog.at_level(logging.WARNING, logger="portal.security"):
        response = sign_in(client, editor.username, "correct-horse-battery")
    assert response.status_code == 429
    assert "temporarily locked" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_lockout_is_logged(client, editor, caplog):
    with caplog.at_level(logging.WARNING, logger="portal.security"):
        for _ in range(5):
            sign_in(client, editor.username, "wrong password")
    assert any("locked out" in r.getMessage() for r in caplog.records)


def test_four_failures_then_the_right_password_signs_in(client, editor):
    for _ in range(4):
        assert sign_in(client, editor.username, "wrong password").status_code == 200
    response = sign_in(client, editor.username, "correct-horse-battery")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(editor.pk)


def test_a_lockout_does_not_lock_the_same_account_from_another_address(client, editor):
    for _ in range(5):
        sign_in(client, editor.username, "wrong password", address="203.0.113.7")
    response = sign_in(client, editor.username, "correct-horse-battery", address="198.51.100.9")
    assert response.status_code == 302


def test_sixty_failures_over_fifteen_usernames_lock_the_address_and_only_it(client):
    operators = [make_operator(f"operator{n}", roles.VIEWER) for n in range(16)]
    statuses = Counter(
        sign_in(client, operators[n % 15].username, "wrong password").status_code for n in range(60)
    )
    # No account reached its own limit (4 failures each): the address did, at 20.
    assert statuses == {200: 19, 429: 41}
    response = sign_in(client, operators[15].username, "correct-horse-battery")
    assert response.status_code == 429
    assert "temporarily locked" in response.content.decode()
    assert "_auth_user_id" not in client.session
    response = sign_in(client, operators[15].username, "correct-horse-battery", "198.51.100.9")
    assert response.status_code == 302


def test_a_correct_sign_in_does_not_reset_the_address_count(client, editor):
    for n in range(10):
        sign_in(client, f"nobody{n}", "wrong password")
    assert sign_in(client, editor.username, "correct-horse-battery").status_code == 302
    client.logout()
    for n in range(10, 19):
        assert sign_in(client, f"nobody{n}", "wrong password").status_code == 200
    assert sign_in(client, "nobody19", "wrong password").status_code == 429
    assert sign_in(client, editor.username, "correct-horse-battery").status_code == 429


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_a_trusted_proxy_clients_are_told_apart_by_the_proxys_entry(client, editor):
    # Both come through the proxy (10.0.0.2); A writes addresses of its own before its real one.
    def through_proxy(forwarded_for, password):
        return client.post(
            reverse("login"),
            {"username": editor.username, "password": password},
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR=forwarded_for,
        )

    for n in range(5):
        response = through_proxy(f"192.0.2.{n}, 198.51.100.1", "wrong password")
    assert response.status_code == 429
    assert through_proxy("192.0.2.99, 198.51.100.1", "correct-horse-battery").status_code == 429
    assert through_proxy("198.51.100.2", "correct-horse-battery").status_code == 302


def test_a_forwarded_for_header_without_a_trusted_proxy_is_ignored(client, editor):
    for n in range(5):
        response = client.post(
            reverse("login"),
            {"username": editor.username, "password": "wrong password"},
            REMOTE_ADDR="203.0.113.7",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}",
        )
    assert response.status_code == 429
    response = client.post(
        reverse("login"),
        {"username": editor.username, "password": "correct-horse-battery"},
        REMOTE_ADDR="203.0.113.7",
        HTTP_X_FORWARDED_FOR="198.51.100.200",
    )
    assert response.status_code == 429
