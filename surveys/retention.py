"""Retention (gallring) of survey data, per municipality
(portal.Municipality): invitation codes and submission nonces are deleted
`invitation_retention_days` after a survey closes; free text is deleted
`free_text_retention_days` after closing, and only when a retention
decision is recorded (survey answers are public records).

What "free text" means here, and why results stay the same:
- an answer of a text-only kind (surveys/kinds.py) is a row holding
  nothing but the text: the row is deleted (no result counts them);
- the text of an "Annat, nämligen …" choice and the description of a place
  are blanked (set to NULL): the row keeps the choice or the district, so
  every count, breakdown and the NTU headline stay exactly as they were.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from portal.audit import Action, AuditEvent, log_event
from portal.models import Municipality
from surveys import kinds
from surveys.models import Answer, Invitation, SubmissionNonce, Survey


@dataclass
class RetentionResult:
    """What retention removed (or, in a dry run, would remove) from one survey."""

    survey: Survey
    invitations: int = 0
    nonces: int = 0
    free_texts_deleted: int = 0
    texts_blanked: int = 0

    @property
    def total(self) -> int:
        return self.invitations + self.nonces + self.free_texts_deleted + self.texts_blanked

    def as_details(self) -> dict:
        return {
            "invitations": self.invitations,
            "nonces": self.nonces,
            "free_texts_deleted": self.free_texts_deleted,
            "texts_blanked": self.texts_blanked,
        }


def retention_cutoffs(municipality, now):
    """(invitation cutoff, free-text cutoff or None): surveys that closed
    before a cutoff are due for that part of retention."""
    codes = now - timedelta(days=municipality.invitation_retention_days)
    texts = None
    if municipality.free_text_retention_days is not None and municipality.retention_decision:
        texts = now - timedelta(days=municipality.free_text_retention_days)
    return codes, texts


def _text_only_kinds() -> list[str]:
    return [value for value, kind in kinds.KINDS.items() if kind.text_only]


def _free_text_answers(survey: Survey):
    return Answer.objects.filter(question__survey=survey, question__kind__in=_text_only_kinds())


def _texts_to_blank(survey: Survey):
    return Answer.objects.filter(question__survey=survey, text__isnull=False).exclude(
        question__kind__in=_text_only_kinds()
    )


@transaction.atomic
def survey_apply_retention(
    *,
    survey: Survey,
    now=None,
    dry_run: bool = False,
) -> RetentionResult:
    """Apply the municipality's retention to one survey, in one transaction:
    bulk DELETE/UPDATE statements, never row by row. `dry_run` only counts.
    Records an audit event when something was removed."""
    now = now or timezone.now()
    result = RetentionResult(survey=survey)
    codes_cutoff, texts_cutoff = retention_cutoffs(survey.municipality, now)
    if not dry_run:
        # Two runs at once (cron overlapping a manual run) take turns here.
        list(Survey.objects.select_for_update().filter(pk=survey.pk).values_list("pk"))
    if survey.closes_at < codes_cutoff:
        invitations = Invitation.objects.filter(survey=survey)
        nonces = SubmissionNonce.objects.filter(survey=survey)
        if dry_run:
            result.invitations, result.nonces = invitations.count(), nonces.count()
        else:
            result.invitations, _ = invitations.delete()
            result.nonces, _ = nonces.delete()
    if texts_cutoff is not None and survey.closes_at < texts_cutoff:
        if dry_run:
            result.free_texts_deleted = _free_text_answers(survey).count()
            result.texts_blanked = _texts_to_blank(survey).count()
        else:
            result.free_texts_deleted, _ = _free_text_answers(survey).delete()
            result.texts_blanked = _texts_to_blank(survey).update(text=None)
    if result.total and not dry_run:
        log_event(
            actor=None,
            action=Action.RETENTION,
            obj=survey,
            **result.as_details(),
            retention_decision=survey.municipality.retention_decision,
        )
    return result


def retention_due(*, now, municipalities=None):
    """The closed surveys that still hold something retention removes, in
    two queries whatever the number of municipalities and surveys: the
    municipalities, then the surveys (with EXISTS tests)."""
    municipalities = list(
        municipalities if municipalities is not None else Municipality.objects.all()
    )
    codes_q, texts_q = Q(pk__in=[]), Q(pk__in=[])
    for m in municipalities:
        codes_cutoff, texts_cutoff = retention_cutoffs(m, now)
        codes_q |= Q(municipality_id=m.pk, closes_at__lt=codes_cutoff)
        if texts_cutoff is not None:
            texts_q |= Q(municipality_id=m.pk, closes_at__lt=texts_cutoff)
    has_codes = Exists(Invitation.objects.filter(survey=OuterRef("pk"))) | Exists(
        SubmissionNonce.objects.filter(survey=OuterRef("pk"))
    )
    text_only = _text_only_kinds()
    has_texts = Exists(
        Answer.objects.filter(question__survey=OuterRef("pk"), question__kind__in=text_only)
    ) | Exists(
        Answer.objects.filter(question__survey=OuterRef("pk"), text__isnull=False).exclude(
            question__kind__in=text_only
        )
    )
    by_pk = {m.pk: m for m in municipalities}
    surveys = list(
        Survey.objects.filter((codes_q & has_codes) | (texts_q & has_texts)).order_by(
            "municipality__name", "closes_at", "pk"
        )
    )
    for survey in surveys:
        survey.municipality = by_pk[survey.municipality_id]
    return surveys


def retention_apply(
    *, now=None, dry_run: bool = False, municipalities=None
) -> list[RetentionResult]:
    """Apply retention to every survey that is due, one transaction per
    survey. Safe to run any number of times: a second run finds nothing."""
    now = now or timezone.now()
    return [
        survey_apply_retention(survey=survey, now=now, dry_run=dry_run)
        for survey in retention_due(now=now, municipalities=municipalities)
    ]


def retention_free_text_event(survey: Survey):
    """The latest retention that removed free text from `survey` (an
    AuditEvent), or None: the results page says the texts were removed
    and under which decision. One query."""
    return (
        AuditEvent.objects.for_object(survey)
        .filter(action=Action.RETENTION)
        .filter(Q(details__free_texts_deleted__gt=0) | Q(details__texts_blanked__gt=0))
        .first()
    )
