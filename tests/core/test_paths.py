"""{% path %} and portal.paths.path: the URL reverse() gives, from a pattern reversed once."""

import pytest
from django.template import engines
from django.urls import NoReverseMatch, URLPattern, get_resolver, reverse, set_script_prefix

from portal import paths


def named_routes() -> list[tuple[str, int]]:
    """(name, number of arguments) of every named route of the portal's own apps."""
    found = []

    def walk(patterns, namespace):
        for entry in patterns:
            if isinstance(entry, URLPattern):
                if entry.name:
                    found.append((f"{namespace}{entry.name}", len(entry.pattern.converters)))
            elif entry.namespace != "admin":
                walk(
                    entry.url_patterns,
                    f"{namespace}{entry.namespace}:" if entry.namespace else namespace,
                )

    walk(get_resolver().url_patterns, "")
    return found


def test_every_route_with_numbers_gives_what_reverse_gives():
    checked = 0
    for name, count in named_routes():
        args = [12345, 678, 9][:count]
        try:
            expected = reverse(name, args=args)
        except NoReverseMatch:
            continue  # a route whose arguments are not numbers
        assert paths.path(name, *args) == expected, name
        checked += 1
    assert checked >= 20


def test_other_arguments_go_through_reverse():
    assert paths.path("people:detail", "42") == reverse("people:detail", args=["42"])
    with pytest.raises(NoReverseMatch):
        paths.path("people:detail", -1)
    with pytest.raises(NoReverseMatch):
        paths.path("people:detail", "x")
    with pytest.raises(NoReverseMatch):
        paths.path("no-such-route")


def test_the_script_prefix_is_part_of_the_url():
    plain = paths.path("people:detail", 7)
    set_script_prefix("/portal/")
    try:
        assert (
            paths.path("people:detail", 7)
            == "/portal" + plain
            == reverse("people:detail", args=[7])
        )
    finally:
        set_script_prefix("/")
    assert paths.path("people:detail", 7) == plain


def test_the_tag_renders_the_url_and_sets_a_variable():
    template = engines["django"].from_string(
        "{% path 'people:detail' pk %}|{% path 'people:attribute_set' pk 3 as url %}{{ url }}"
    )
    assert template.render({"pk": 5}) == (
        reverse("people:detail", args=[5]) + "|" + reverse("people:attribute_set", args=[5, 3])
    )
