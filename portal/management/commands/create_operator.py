"""python manage.py create_operator USERNAME --role viewer|editor|administrator [--password P]"""

from __future__ import annotations

import getpass

from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from core import roles
from people.history import Actor, record_audit
from people.models import Source


class Command(BaseCommand):
    help = "Create an operator account with a role (Viewer, Editor or Administrator)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--role",
            required=True,
            choices=sorted(roles.ROLES),
            type=str.lower,
            help="viewer reads; editor also edits people and installations; "
            "administrator also deletes people and uses Django admin.",
        )
        parser.add_argument(
            "--password", help="The password; asked for (twice) on the terminal when omitted."
        )
        parser.add_argument("--email", default="")

    def handle(self, *args, username: str, role: str, password: str | None, email: str, **options):
        username = username.strip()
        if not username:
            raise CommandError("USERNAME cannot be empty.")
        if User.objects.filter(username=username).exists():
            raise CommandError(f"An operator named {username!r} exists already.")
        if password is None:
            password = self._ask_password()
        candidate = User(username=username, email=email)
        try:
            validate_password(password, candidate)
        except ValidationError as error:
            raise CommandError("Password refused: " + " ".join(error.messages)) from None
        user = roles.operator_create(username=username, role=role, password=password, email=email)
        record_audit(
            action="operator created",
            target=f"operator {user.pk} {user.username!r} ({roles.role_of(user)})",
            actor=Actor.system("manage.py create_operator", source=Source.COMMAND),
        )
        self.stdout.write(
            self.style.SUCCESS(f"Created operator {user.username} with role {roles.role_of(user)}.")
        )

    def _ask_password(self) -> str:
        try:
            first = getpass.getpass("Password: ")
            second = getpass.getpass("Password (again): ")
        except (EOFError, KeyboardInterrupt):
            raise CommandError("No password given (use --password).") from None
        if first != second:
            raise CommandError("The two passwords differ.")
        if not first:
            raise CommandError("The password cannot be empty.")
        return first
