"""``manage.py create_api_key NAME --role read|manage [--masked]``: issue an API key and print
it once."""

from django.core.management.base import BaseCommand, CommandError

from core.models import ApiKey, ApiKeyRole
from people.history import Actor, record_audit
from people.models import Source


class Command(BaseCommand):
    help = "Create an API key for automation and print it (it is stored hashed, shown once)."

    def add_arguments(self, parser):
        parser.add_argument("name", help="who or what uses the key, e.g. 'crm-sync'")
        parser.add_argument(
            "--role",
            choices=ApiKeyRole.values,
            default=ApiKeyRole.READ,
            help="read: may only read; manage: may also write (default: read)",
        )
        parser.add_argument(
            "--masked",
            action="store_true",
            help="a read key that reads phones, emails and externalIds masked",
        )

    def handle(self, *args, name: str, role: str, masked: bool = False, **options):
        name = name.strip()
        if not name:
            raise CommandError("The key needs a name.")
        if len(name) > ApiKey._meta.get_field("name").max_length:
            raise CommandError("The name is too long (at most 128 characters).")
        if masked and role != ApiKeyRole.READ:
            raise CommandError("--masked is for read keys: a manage key writes, so reads whole.")
        key, raw = ApiKey.issue(name=name, role=role, personal_data=not masked)
        record_audit(
            action="API key issued",
            target=f"API key {key.pk} {key.name!r} ({key.role}, {key.prefix}…)",
            actor=Actor.system("manage.py create_api_key", source=Source.COMMAND),
        )
        self.stdout.write(raw)
        self.stderr.write(
            f"API key {key.name!r} ({key.role}) created. Send it as 'Authorization: App <key>'. "
            "It is not stored and cannot be shown again."
        )
