"""E-mail the responsible organisations' editors before an action report
falls due and when it is overdue. Safe to run twice (meant for cron, e.g.
daily): no mail is sent twice for the same action, due date and kind."""

from django.core.management.base import BaseCommand, CommandError

from followup.services import reminders_send


class Command(BaseCommand):
    help = "Send reminders for action reports that fall due soon or are overdue."

    def add_arguments(self, parser):
        parser.add_argument(
            "--days-before",
            type=int,
            default=14,
            help="Remind this many days before the due date (default 14).",
        )

    def handle(self, *args, days_before, **options):
        if days_before < 0 or days_before > 365:
            raise CommandError("--days-before must be between 0 and 365.")
        result = reminders_send(days_before=days_before)
        self.stdout.write(
            f"Påminnelser skickade: {result.sent}, redan skickade eller utan mottagare: "
            f"{result.skipped}, misslyckade: {result.failed}"
        )
        if result.failed:
            raise CommandError(
                f"{result.failed} påminnelser kunde inte skickas; körs igen nästa gång."
            )
