from django.core.management.base import BaseCommand

from surveys import services
from surveys.models import invitation_retention_days


class Command(BaseCommand):
    help = (
        "Delete invitation codes and submission nonces of surveys that closed more than N days "
        "ago (SURVEY_INVITATION_RETENTION_DAYS, default 30). Safe to run any number of times."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None)

    def handle(self, *args, days=None, **options):
        days = invitation_retention_days() if days is None else days
        codes, nonces = services.invitations_purge(days=days)
        self.stdout.write(
            f"Raderade {codes} inbjudningskoder och {nonces} engångsnycklar (äldre än {days} dagar efter stängning)."
        )
