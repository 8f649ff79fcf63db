"""The invitation-code part of retention only (kept for existing cron
entries); `apply_retention` does this and the free text too."""

from django.core.management.base import BaseCommand, CommandError

from surveys import services
from surveys.management.commands.apply_retention import write_summary


class Command(BaseCommand):
    help = (
        "Delete invitation codes and submission nonces of surveys that closed more than each "
        "municipality's retention days ago (or --days for all). Safe to run any number of "
        "times. apply_retention does this and deletes free text under a retention decision."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days", type=int, default=None, help="Override every municipality's setting."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Only report what would be removed."
        )

    def handle(self, *args, days=None, dry_run=False, **options):
        if days is not None and days < 0:
            raise CommandError("--days måste vara 0 eller fler.")
        results = services.retention_apply(dry_run=dry_run, invitation_days=days, free_texts=False)
        write_summary(self, results, dry_run=dry_run, invitation_days=days, free_texts=False)
