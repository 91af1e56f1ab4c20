"""Create a push application and print its code (the AppCode of the push API, and what its
devices send as ``Authorization: App <code>``).

    python manage.py create_application NAME [--code CODE]
"""

from django.core.management.base import BaseCommand, CommandError

from core.errors import DomainError
from installations.applications import application_create
from people.history import Actor
from people.models import Source


class Command(BaseCommand):
    help = "Create a push application; prints its code (generated when --code is not given)."

    def add_arguments(self, parser):
        parser.add_argument("name", help="the application's name, e.g. 'Shop (Android)'")
        parser.add_argument("--code", help="the application code (default: 32 random hex digits)")

    def handle(self, *args, name: str, code: str | None, **options):
        try:
            application = application_create(
                name=name,
                code=code,
                actor=Actor.system("manage.py create_application", source=Source.COMMAND),
            )
        except DomainError as error:
            raise CommandError(f"{error.field or 'application'}: {error.message}") from None
        self.stdout.write(application.code)
        self.stderr.write(f"Created application {application.name!r} (code on standard output).")
