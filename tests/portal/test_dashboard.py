"""The dashboard's figures: what they count, the searches they link to, their text
alternatives, and the fixed number of statements that reads them."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from installations.models import Installation
from people.models import Person
from portal import dashboard
from portal.dashboard import DAYS, read_dashboard
from tests.factories import ApplicationFactory, InstallationFactory, PersonFactory

pytestmark = pytest.mark.django_db


def created(model, rows, *, days_ago: int) -> None:
    """Move rows' created_at ``days_ago`` days back (auto_now_add stamps them now)."""
    moment = timezone.now() - datetime.timedelta(days=days_ago)
    model.objects.filter(pk__in=[row.pk for row in rows]).update(created_at=moment)


def counts_of(series) -> dict[datetime.date, int]:
    return {day.day: day.count.value for day in series.days if day.count.value}


def test_people_and_installations_are_counted_on_the_day_they_were_created():
    today = timezone.localdate()
    created(Person, PersonFactory.create_batch(3), days_ago=0)
    created(Person, PersonFactory.create_batch(2), days_ago=4)
    created(Person, PersonFactory.create_batch(1), days_ago=DAYS)  # a day too old
    # Each installation brings its own anonymous person, created today.
    created(Installation, InstallationFactory.create_batch(2), days_ago=1)

    figures = read_dashboard("/")

    assert len(figures.people_per_day.days) == DAYS
    assert figures.people_per_day.days[-1].day == today
    assert counts_of(figures.people_per_day) == {
        today: 3 + 2,
        today - datetime.timedelta(days=4): 2,
    }
    assert figures.people_per_day.total == 7
    assert figures.people_per_day.busiest.day == today
    assert counts_of(figures.installations_per_day) == {today - datetime.timedelta(days=1): 2}
    # The tallest column fills the chart; the others in proportion.
    heights = {day.day: day.height for day in figures.people_per_day.days if day.height}
    assert heights == {today: 96, today - datetime.timedelta(days=4): round(96 * 2 / 5, 2)}


def test_a_day_stops_counting_at_its_cap_and_says_so(monkeypatch, editor_client):
    monkeypatch.setattr(dashboard, "DAY_CAP", 2)
    PersonFactory.create_batch(3)
    figures = read_dashboard("/")
    today = figures.people_per_day.days[-1]
    assert (today.count.value, today.count.more) == (2, True)
    assert figures.people_per_day.more is True
    html = editor_client.get(reverse("dashboard")).content.decode()
    day = f"{today.day:%Y-%m-%d}"
    search = f"/?created_from={day}&amp;created_to={day}"
    assert (
        f'<a href="{search}"><time datetime="{day}">{day}</time></a></td><td class="num">2+</td>'
        in html
    )


def test_each_day_of_the_installations_chart_links_to_the_people_with_a_device_of_that_day(
    editor_client,
):
    InstallationFactory.create_batch(2)
    figures = read_dashboard("/")
    today = figures.installations_per_day.days[-1]
    assert today.count.value == 2
    day = f"{today.day:%Y-%m-%d}"
    assert today.url == f"/?installed_from={day}&installed_to={day}"
    assert all(not d.url for d in figures.installations_per_day.days if not d.count.value)
    html = editor_client.get(reverse("dashboard")).content.decode()
    assert f'<a href="/?installed_from={day}&amp;installed_to={day}">' in html


def test_installations_are_counted_by_platform_and_application_with_links_to_the_search(
    editor_client,
):
    shop = ApplicationFactory(name="Shop", code="shop & co")
    wallet = ApplicationFactory(name="Wallet", code="wallet")
    InstallationFactory.create_batch(2, application=shop, os="iOS")
    InstallationFactory(application=wallet, os="Android", registration_enabled=False)
    figures = read_dashboard("/")
    assert [(bar.label, bar.count.value, bar.url, bar.length) for bar in figures.applications] == [
        ("Shop", 2, "/?app=shop+%26+co", 100),
        ("Wallet", 1, "/?app=wallet", 50),
    ]
    assert {bar.label: bar.count.value for bar in figures.platforms} == {
        "Android": 1,
        "iOS": 2,
        "Huawei": 0,
    }
    assert (figures.push.on, figures.push.off, figures.push.percent) == (2, 1, 67)
    assert figures.push.sampled is False

    html = editor_client.get(reverse("dashboard")).content.decode()
    assert '<a href="/?app=shop+%26+co">Shop</a></td><td class="num">2</td>' in html
    assert '<a href="/?platform=iOS">iOS</a></td><td class="num">2</td>' in html
    assert '<a href="/?push=yes">Push on</a>: 2 (67%)' in html
    assert '<a href="/?push=no">Push off</a>: 1' in html
    # Each link is a search the search page understands and that finds those people.
    for url, expected in [("/?app=shop+%26+co", 2), ("/?platform=Android", 1), ("/?push=no", 1)]:
        results = editor_client.get(url, HTTP_HX_REQUEST="true").content.decode()
        assert results.count('class="row-link"') == expected, url


def test_the_applications_with_the_most_installations_are_shown(monkeypatch, editor_client):
    monkeypatch.setattr(dashboard, "APPLICATIONS_SHOWN", 2)
    for name, installations in [("Cobalt", 1), ("Amber", 2), ("Birch", 3), ("Dune", 2)]:
        InstallationFactory.create_batch(installations, application=ApplicationFactory(name=name))
    ApplicationFactory(name="Aardvark")  # no installation: not drawn
    figures = read_dashboard("/")
    assert [(bar.label, bar.count.value) for bar in figures.applications] == [
        ("Birch", 3),
        ("Amber", 2),
    ]
    assert figures.more_applications is True
    html = editor_client.get(reverse("dashboard")).content.decode()
    assert "The 2 applications with the most installations; admin lists them all." in html


def test_past_the_cap_totals_say_more_and_installations_are_read_from_the_newest(
    monkeypatch, editor_client
):
    monkeypatch.setattr(dashboard, "COUNT_CAP", 2)
    oldest = InstallationFactory(registration_enabled=False, os="Huawei")
    created(Installation, [oldest], days_ago=3)
    created(Installation, [InstallationFactory(os="iOS")], days_ago=2)
    created(Installation, [InstallationFactory(os="iOS")], days_ago=1)
    figures = read_dashboard("/")
    assert (figures.installations.value, figures.installations.more) == (2, True)
    assert [(tile.label, tile.count.value, tile.count.more) for tile in figures.tiles][0] == (
        "People",
        2,
        True,
    )
    # The two newest installations have push on and run iOS; the oldest, off, on Huawei, is
    # past the sample: every figure of installations says it may have more.
    assert (figures.push.on, figures.push.off, figures.push.sampled) == (2, 0, True)
    assert {bar.label: (bar.count.value, bar.count.more) for bar in figures.platforms} == {
        "Android": (0, True),
        "iOS": (2, True),
        "Huawei": (0, True),
    }
    # Days up to the oldest one sampled may have more; the days after it are whole.
    today = timezone.localdate()
    by_day = {
        day.day: (day.count.value, day.count.more) for day in figures.installations_per_day.days
    }
    assert by_day[today - datetime.timedelta(days=3)] == (0, True)
    assert by_day[today - datetime.timedelta(days=2)] == (1, True)
    assert by_day[today - datetime.timedelta(days=1)] == (1, False)
    assert by_day[today] == (0, False)
    html = editor_client.get(reverse("dashboard")).content.decode()
    assert "Among the newest 2 installations." in html
    assert "2+ installations in all, counted among the newest 2;" in html
    assert '<span class="tile-value">2+</span>' in html


def test_each_chart_is_a_figure_with_a_caption_and_its_numbers_as_text(editor_client, profile):
    html = editor_client.get(reverse("dashboard")).content.decode()
    figures = re.findall(r"<figure\b.*?</figure>", html, flags=re.S)
    assert len(figures) == 5
    for figure in figures:
        assert "<figcaption>" in figure
        svg_tags = re.findall(r"<svg\b[^>]*>", figure)
        assert svg_tags
        for tag in svg_tags:
            # Every drawing is either named (role="img" and aria-label) or hidden because a
            # table beside it says the same.
            assert ('role="img"' in tag and "aria-label=" in tag) or 'aria-hidden="true"' in tag
        assert "<table" in figure or '<ul class="legend">' in figure
    assert 'aria-label="Columns, one a day: 1 people in 30 days, the most on' in html
    assert 'aria-label="Push on for 100% of installations: 2 on, 0 off"' in html


@pytest.mark.parametrize("applications", [1, 6])
def test_the_dashboard_is_read_in_a_fixed_number_of_statements(
    editor_client, django_assert_num_queries, applications
):
    for _ in range(applications):
        InstallationFactory.create_batch(2, application=ApplicationFactory())
    # Seven of the shell (the session, read and saved in a savepoint; the operator; their
    # permissions for the navigation), then three of the dashboard, whatever the data: the
    # capped counts in one UNION ALL statement, the newest installations grouped by platform,
    # application, push and day, and the names of the applications shown.
    with django_assert_num_queries(10):
        response = editor_client.get(reverse("dashboard"))
    assert response.status_code == 200
    assert response.content.decode().count('href="/?app=') == applications
