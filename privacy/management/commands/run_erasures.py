"""Run the erasures whose cooling-off is over (run it daily, e.g. from cron)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from people.history import Actor
from people.models import Source
from privacy.services import run_due_erasures


class Command(BaseCommand):
    help = "Erase the people whose erasure request is past its cooling-off period."

    def handle(self, *args, **options):
        done = run_due_erasures(actor=Actor.system("manage.py run_erasures", Source.COMMAND))
        for erasure in done:
            counts = ", ".join(f"{name} {count}" for name, count in erasure.erased.items())
            self.stdout.write(f"Erased person {erasure.person_id} (erasure {erasure.pk}): {counts}")
        self.stdout.write(f"{len(done)} erasure(s) run.")
