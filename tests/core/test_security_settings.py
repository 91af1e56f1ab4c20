import io
import logging
import os
import subprocess
import sys

import pytest
from django.contrib.auth.models import User
from django.test import override_settings
from django.urls import reverse

from portal.logging import mask

pytestmark = pytest.mark.django_db


def _check_deploy(tmp_path, **extra: str) -> subprocess.CompletedProcess:
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "SECRET_KEY": "k" * 20 + "Zq8%hT2!vL0@pW5#nR7$xC3^bM9&dF4*" + "y" * 20,
        "ALLOWED_HOSTS": "portal.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
        "REDIS_URL": "redis://127.0.0.1:6379/15",
        **extra,
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = _check_deploy(tmp_path, SUPPRESSION_KEY="s" * 20 + "Hq3!vL9@zP4#" + "t" * 20)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_warns_without_a_suppression_key(tmp_path):
    """Without its own key, the erased identifiers' hashes depend on SECRET_KEY."""
    result = _check_deploy(tmp_path)
    assert result.returncode == 1
    assert "privacy.W001" in result.stdout + result.stderr


def test_production_settings_refuse_to_start_without_a_secret_key(tmp_path):
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_settings_refuse_to_start_without_a_shared_cache(tmp_path):
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "SECRET_KEY": "k" * 50,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "REDIS_URL must be set when DEBUG is off" in result.stderr
    # A single process may say so and count in its own memory.
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        env={**env, "LOCAL_MEMORY_CACHE": "1"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


@override_settings(SECURE_HSTS_SECONDS=31536000, SECURE_SSL_REDIRECT=True)
def test_responses_carry_hsts_nosniff_and_frame_denial(client):
    response = client.get(reverse("login"), secure=True)
    assert response.status_code == 200
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"


@override_settings(SECURE_SSL_REDIRECT=True)
def test_plain_http_is_redirected_to_https(client):
    response = client.get(reverse("login"))
    assert response.status_code == 301
    assert response["Location"].startswith("https://")


@override_settings(SESSION_COOKIE_SECURE=True)
def test_session_cookie_is_secure_http_only_and_same_site_lax(client, editor):
    response = client.post(
        reverse("login"),
        {"username": editor.username, "password": "correct-horse-battery"},
        secure=True,
    )
    assert response.status_code == 302
    cookie = response.cookies["sessionid"]
    assert cookie["secure"] is True
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


def test_sign_in_rotates_the_session_key(client, editor):
    client.get(reverse("login"))
    client.session.save()
    before = client.session.session_key
    client.post(
        reverse("login"), {"username": editor.username, "password": "correct-horse-battery"}
    )
    assert client.session.session_key != before


def test_sign_out_invalidates_the_session_on_the_server(client, editor):
    client.post(
        reverse("login"), {"username": editor.username, "password": "correct-horse-battery"}
    )
    old_cookie = client.cookies["sessionid"].value
    client.post(reverse("logout"))
    client.cookies["sessionid"] = old_cookie
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_deactivating_an_operator_ends_their_sessions(client, editor):
    client.force_login(editor)
    assert client.get(reverse("home")).status_code == 200
    User.objects.filter(pk=editor.pk).update(is_active=False)
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def _age_session(client, *, started_ago: int, last_seen_ago: int) -> None:
    import time

    from portal.middleware import SESSION_LAST_SEEN, SESSION_STARTED

    session = client.session
    now = int(time.time())
    session[SESSION_STARTED] = now - started_ago
    session[SESSION_LAST_SEEN] = now - last_seen_ago
    session.save()


@override_settings(SESSION_IDLE_TIMEOUT=600, SESSION_ABSOLUTE_LIFETIME=3600)
def test_a_session_expires_after_inactivity(client, editor):
    client.force_login(editor)
    client.get(reverse("home"))
    _age_session(client, started_ago=700, last_seen_ago=601)
    response = client.get(reverse("home"))
    assert response.status_code == 302


@override_settings(SESSION_IDLE_TIMEOUT=600, SESSION_ABSOLUTE_LIFETIME=3600)
def test_an_active_session_still_expires_after_its_absolute_lifetime(client, editor):
    client.force_login(editor)
    client.get(reverse("home"))
    _age_session(client, started_ago=3601, last_seen_ago=5)
    response = client.get(reverse("home"))
    assert response.status_code == 302


@override_settings(SESSION_IDLE_TIMEOUT=600, SESSION_ABSOLUTE_LIFETIME=3600)
def test_an_active_session_within_both_limits_stays(client, editor):
    client.force_login(editor)
    client.get(reverse("home"))
    _age_session(client, started_ago=3000, last_seen_ago=500)
    assert client.get(reverse("home")).status_code == 200


def test_log_masking_leaves_timestamps_readable():
    line = "attempt at 2026-11-24 03:38:34.077205+00:00 from 203.0.113.7"
    assert mask(line) == line


@pytest.mark.parametrize(
    ("message", "leak"),
    [
        ("personalize for ana.horvat@example.com failed", "ana.horvat@example.com"),
        ("phone +385 1 6419-710 rejected", "6419-710"),
        ("phone 38516419710 rejected", "38516419710"),
        ("Authorization: App 4sR9x-Lk2mP0qW7eT3yU", "4sR9x-Lk2mP0qW7eT3yU"),
    ],
)
def test_logs_carry_no_phone_email_or_key_in_plain_text(message, leak):
    assert leak not in mask(message)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    from portal.logging import PersonalDataFilter

    handler.addFilter(PersonalDataFilter())
    logger = logging.getLogger("tests.personal-data")
    logger.addHandler(handler)
    try:
        logger.warning("event: %s", message)
    finally:
        logger.removeHandler(handler)
    assert leak not in stream.getvalue()
    assert "event:" in stream.getvalue()
