"""Fill the duplicates queue: every pair of people with the same folded name and the same
birth date, email name (before the @) or national phone number (directory.duplicates,
set-based). Run it daily; a run adds the new pairs, updates their reasons and takes out the
pairs no rule finds any more. Pairs marked "Not a duplicate" are never added. The device rule
(a similar name on the same device) is not in the queue: the person page's panel asks it.
"""

from django.core.management.base import BaseCommand

from directory.duplicates import refresh_pairs
from people.history import Actor, record_audit
from people.models import Source


class Command(BaseCommand):
    help = "Find pairs of people who may be the same person (the duplicates queue)."

    def handle(self, *args, **options):
        result = refresh_pairs()
        record_audit(
            action="duplicate pairs found",
            target=f"{result.total} pairs",
            actor=Actor.system("manage.py find_duplicates", source=Source.COMMAND),
            added=result.added,
            changed=result.changed,
            removed=result.removed,
        )
        self.stdout.write(
            f"{result.total} pairs: {result.added} new, {result.changed} changed, "
            f"{result.removed} taken out."
        )
