"""``manage.py dispatch_jobs``: send again the messages of jobs that wait for the queue.

Jobs started while Redis was down wait (PENDING, "Waiting for the queue"); a worker that starts
sends them, and so does a job page that polls. This command does it from cron or by hand, for
a deployment whose workers run on and whose pages nobody watches.
"""

from django.core.management.base import BaseCommand

from jobs.engine import retry_dispatch


class Command(BaseCommand):
    help = "Send again the planning or the chunks of jobs whose messages never reached the queue."

    def handle(self, *args, **options):
        sent = retry_dispatch()
        self.stdout.write(f"{sent} job(s) sent again.")
