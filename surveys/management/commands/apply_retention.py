"""Retention (gallring) of survey data, per municipality; run it from cron,
e.g. once a night. Safe to run any number of times: a second run removes
nothing. See docs/enkat.md, "Gallring"."""

from itertools import groupby

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from portal.models import Municipality
from surveys import retention


def municipality_rule(municipality) -> str:
    rule = f"inbjudningskoder sparas {municipality.invitation_retention_days} dagar efter stängning"
    if municipality.free_text_retention_days is None or not municipality.retention_decision:
        return rule + "; fritext sparas tills ett gallringsbeslut finns"
    return (
        rule + f"; fritext sparas {municipality.free_text_retention_days} dagar enligt "
        f"gallringsbeslut {municipality.retention_decision}"
    )


def survey_line(result: retention.RetentionResult) -> str:
    survey = result.survey
    closed = timezone.localtime(survey.closes_at).date().isoformat()
    parts = [
        f"{result.invitations} inbjudningskoder",
        f"{result.nonces} engångsnycklar",
        f"{result.free_texts_deleted} fritextsvar",
        f"{result.texts_blanked} fritexter i ”Annat”-svar och platser",
    ]
    return f"  {survey.title} (stängd {closed}): " + ", ".join(parts)


def write_summary(command, results, *, dry_run) -> None:
    verb = "skulle gallras" if dry_run else "gallrade"
    if dry_run:
        command.stdout.write("Provkörning (--dry-run): ingenting ändras.")
    if not results:
        command.stdout.write("Inget att gallra.")
        return
    for municipality, items in groupby(results, key=lambda r: r.survey.municipality):
        items = list(items)
        rule = municipality_rule(municipality)
        command.stdout.write(f"{municipality.name} ({rule}), {verb}:")
        for result in items:
            command.stdout.write(survey_line(result))
    total = retention.RetentionResult(survey=None)
    for r in results:
        total.invitations += r.invitations
        total.nonces += r.nonces
        total.free_texts_deleted += r.free_texts_deleted
        total.texts_blanked += r.texts_blanked
    command.stdout.write(
        f"Totalt {verb}: {total.invitations} inbjudningskoder och {total.nonces} engångsnycklar"
        f", {total.free_texts_deleted} fritextsvar och {total.texts_blanked} fritexter i "
        f"”Annat”-svar och platser i {len(results)} enkäter."
    )


class Command(BaseCommand):
    help = (
        "Retention (gallring): per municipality, delete invitation codes and submission nonces, "
        "and free-text answers when a retention decision is recorded, of surveys closed long "
        "enough ago. Results are unchanged. Safe to run any number of times."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Only report what would be removed."
        )
        parser.add_argument(
            "--municipality", metavar="SLUG", help="Only this municipality (its address)."
        )

    def handle(self, *args, dry_run=False, municipality=None, **options):
        municipalities = None
        if municipality:
            municipalities = list(Municipality.objects.filter(slug=municipality))
            if not municipalities:
                raise CommandError(f"Ingen kommun har adressen ”{municipality}”.")
        results = retention.retention_apply(dry_run=dry_run, municipalities=municipalities)
        write_summary(self, results, dry_run=dry_run)
