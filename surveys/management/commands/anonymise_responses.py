"""The anonymity batch (surveys/anonymity.py): responses saved since the last
run, their day's responses, their answers and their surveys' used invitation
codes rewritten in random order, then VACUUM. Run it every 5 minutes (cron or
a systemd timer, see the README); safe to run any number of times and two at
once (the second does nothing)."""

from django.core.management.base import BaseCommand

from surveys import anonymity


class Command(BaseCommand):
    help = (
        "Skriv om nya svar och använda inbjudningskoder i slumpvis ordning, så att inget i "
        "databasen kopplar ett svar till koden (kör var 5:e minut)."
    )

    def handle(self, *args, **options):
        result = anonymity.responses_shuffle()
        if not result.ran:
            self.stdout.write("En annan körning pågår; den tar hand om de nya svaren.")
        elif not result.pending:
            self.stdout.write("Inga nya svar att skriva om.")
        else:
            self.stdout.write(
                f"{result.pending} nya svar: {result.responses} svar, {result.answers} "
                f"svarsrader och {result.codes} använda koder omskrivna i slumpvis ordning."
            )
