"""Take out of the name dictionary the words nobody's name has any more.

The search's similar-name fallback corrects typed names against the words of people's names
(people.name_terms). The database adds the words of every name written, but a word stays
when the last person with it is deleted or renamed: this command takes such words out (one
pass over the names, about 0.3 s for a million people, during which a name being written
waits for it). Run it after deletions, or daily.
"""

from django.core.management.base import BaseCommand, CommandError

from people import name_terms


class Command(BaseCommand):
    help = "Take out of the name dictionary the words nobody's name has any more."

    def handle(self, *args, **options):
        if not name_terms.available():
            self.stdout.write("This database keeps no name dictionary (PostgreSQL with pg_trgm).")
            return
        try:
            removed = name_terms.prune()
        except name_terms.DictionaryBusy as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Took out {removed} word{'s' if removed != 1 else ''}.")
