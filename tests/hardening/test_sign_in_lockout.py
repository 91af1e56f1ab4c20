import logging

import pytest
from django.urls import reverse

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
