"""The Jinja2 environment of the hot partials (templates/jinja2/), Django's own Jinja2 backend.

The partials a page repeats are its costliest part to render: the rows of a search result
page (in Django's template language 25 rows took about five times as long as the page's
query); the search page's form and results (3.7 ms of an 11 ms page in Django's template
language, twice the page before its views, bulk and hygiene controls); and on the person
page its sections: the summary, the overview, the contacts, the tags, the custom attributes,
the history and the installation cards (in Django's template language they took most of the
page's time). The pages render them with ``people_ui.partial``; the person page's in-place
actions answer with the same templates. The markup is the same as Django's templates wrote
(the tests compare the person page's with the expected markup).
"""

from __future__ import annotations

import html

from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from jinja2 import Environment

from people import masking
from people.templatetags.people_ui import phone_for_reading, shown_value, to_json
from populations.templatetags.bulk_ui import bulk_actions_for, search_pairs


def _escaped(value) -> str:
    """``value`` as Django's ``conditional_escape`` writes it: html.escape of its text, or as
    it is if it is HTML already."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


def _local(value, format: str) -> str:
    """A moment in the current time zone, as strftime's ``format`` writes it ("iso": ISO 8601,
    as Django's ``date:'c'``)."""
    moment = timezone.localtime(value)
    return moment.isoformat() if format == "iso" else moment.strftime(format)


def environment(**options) -> Environment:
    # Every {{ value }} goes through _escaped, which escapes it as Django does (&quot; and
    # &#x27;, where Jinja2's own autoescape writes &#34; and &#39;): the same markup as the
    # Django templates of the other pages. That is the autoescape: Jinja2's own would escape
    # the escaped text again.
    options["finalize"] = _escaped
    options["autoescape"] = False
    env = Environment(**options)
    env.globals.update(
        {
            "url": lambda name, *args: reverse(name, args=args),
            "static": static,
            # The search page's bulk selection bar (populations).
            "bulk_actions_for": bulk_actions_for,
            "search_pairs": search_pairs,
        }
    )
    env.filters.update(
        {
            "localtime": timezone.localtime,
            "local": _local,
            "phone": lambda identity: phone_for_reading(identity.value, identity.national_number),
            "to_json": to_json,
            "shown_value": shown_value,
            # A role without the "see personal data" permission (people.masking).
            "mask_phone": masking.mask_phone,
            "mask_email": masking.mask_email,
            "mask_text": masking.mask_text,
        }
    )
    return env
