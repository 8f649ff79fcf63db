"""Writes that take several steps: building a survey from the standard
template or an earlier survey, submitting a response exactly once, and the
invitation codes of fieldwork."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Now, TruncDate
from django.utils import timezone
from django.utils.text import slugify
from simple_history.utils import bulk_create_with_history

from surveys import security, standard_template
from surveys.models import (
    Answer,
    Choice,
    Invitation,
    Question,
    QuestionGroup,
    Response,
    Section,
    SubmissionNonce,
    Survey,
)


class SubmissionRefused(Exception):
    """The response was not saved; `reason` says why (a code for the view)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class AnswerData:
    """One answer to save. Frozen: the submission plan (forms.SubmissionPlan)
    hands the same object to every submission that picks the same choice."""

    question_id: int
    choice_id: int | None = None
    text: str | None = None
    district_id: int | None = None


@dataclass(slots=True)
class Submission:
    language: str
    answers: list[AnswerData] = field(default_factory=list)
    code: str = ""


def district_choices(municipality) -> list[dict]:
    choices = [
        {
            "key": slugify(d.name)[:60] or f"omrade-{d.pk}",
            "texts": {"sv": d.name, "en": d.name, "fi": d.name},
        }
        for d in municipality.districts.all()
    ]
    return [*choices, standard_template.NO_ANSWER]


@transaction.atomic
def survey_apply_template(*, survey: Survey) -> Survey:
    """Fill an empty survey with the standard template (blocks A–H)."""
    if survey.questions.exists() or survey.sections.exists():
        raise ValueError("The survey already has questions.")
    groups = {
        key: QuestionGroup.objects.create(survey=survey, key=key, texts=texts)
        for key, texts in standard_template.GROUPS.items()
    }
    choices: list[Choice] = []
    for s_pos, s in enumerate(standard_template.SECTIONS):
        section = Section.objects.create(
            survey=survey, key=s["key"], position=s_pos, texts=s["texts"]
        )
        for q_pos, q in enumerate(s["questions"]):
            question = Question.objects.create(
                survey=survey,
                section=section,
                group=groups.get(q["group"]) if q["group"] else None,
                key=q["key"],
                position=q_pos,
                kind=q["kind"],
                texts=q["texts"],
                required=q["required"],
            )
            options = q["choices"]
            if q["key"] == standard_template.DISTRICT_QUESTION:
                options = district_choices(survey.municipality)
            choices += [
                Choice(
                    question=question,
                    key=c["key"],
                    position=c_pos,
                    texts=c["texts"],
                    allows_text=c.get("allows_text", False),
                )
                for c_pos, c in enumerate(options)
            ]
    # Bulk insert with history rows, like every other change officials make.
    bulk_create_with_history(choices, Choice)
    return survey


@transaction.atomic
def survey_copy_questions(*, source: Survey, target: Survey) -> Survey:
    """Copy sections, groups, questions and choices with their keys kept, so
    the two surveys compare question by question."""
    if target.questions.exists() or target.sections.exists():
        raise ValueError("The survey already has questions.")
    sections = {
        s.pk: Section.objects.create(survey=target, key=s.key, position=s.position, texts=s.texts)
        for s in source.sections.all()
    }
    groups = {
        g.pk: QuestionGroup.objects.create(survey=target, key=g.key, texts=g.texts)
        for g in source.groups.all()
    }
    choices = []
    for q in source.questions.prefetch_related("choices"):
        new = Question.objects.create(
            survey=target,
            section=sections[q.section_id],
            group=groups.get(q.group_id),
            key=q.key,
            position=q.position,
            kind=q.kind,
            texts=q.texts,
            required=q.required,
            max_length=q.max_length,
        )
        choices += [
            Choice(
                question=new,
                key=c.key,
                position=c.position,
                texts=c.texts,
                allows_text=c.allows_text,
            )
            for c in q.choices.all()
        ]
    # Bulk insert with history rows, like every other change officials make.
    bulk_create_with_history(choices, Choice)
    if target.copied_from_id != source.pk:
        target.copied_from = source
        target.save(update_fields=["copied_from"])
    return target


def response_submit(*, survey: Survey, token: security.Token, submission: Submission) -> bool:
    """Save one response with all its answers, exactly once.

    Returns True when saved, False when this form (its nonce) was already
    received – the caller shows the confirmation again and nothing new is
    stored. Raises SubmissionRefused when nothing was saved for a reason the
    resident must hear (survey closed, code unknown or used). Whether the
    survey is open (and still in the caller's mode, open or by invitation)
    is decided by the database's copy of the survey and its clock at the
    moment of saving, not by the caller's (possibly older) one. An answer
    that names another survey's question, another question's choice or
    another municipality's district is refused by the schema itself
    (IntegrityError, migration 0007_answer_integrity_in_the_schema).
    """
    try:
        with transaction.atomic():
            _save(survey, token, submission)
    except IntegrityError:
        # The nonce's unique constraint: the same form was sent twice.
        # Anything else is a real error and must not pass as a duplicate.
        if SubmissionNonce.objects.filter(survey_id=survey.pk, digest=token.nonce_digest).exists():
            return False
        raise
    return True


def _save(survey: Survey, token: security.Token, submission: Submission) -> None:
    # The database's clock decides, the statement's own moment: one clock
    # for every app server.
    now = Now()
    is_open = Survey.objects.filter(
        pk=survey.pk, mode=survey.mode, opens_at__lte=now, closes_at__gt=now
    ).exists()
    if not is_open:
        raise SubmissionRefused("closed")
    SubmissionNonce.objects.create(survey_id=survey.pk, digest=token.nonce_digest)
    if survey.mode == Survey.Mode.INVITATION:
        used = Invitation.objects.filter(
            survey_id=survey.pk, code_hash=security.code_hash(submission.code), used=False
        ).update(used=True)
        if used != 1:
            raise SubmissionRefused("code")
    response = Response.objects.create(
        survey_id=survey.pk,
        # The date in the portal's time zone, by the database's clock.
        date=TruncDate(Now(), tzinfo=timezone.get_current_timezone()),
        language=submission.language,
        channel=Response.Channel.WEB,
    )
    Answer.objects.bulk_create(
        [
            Answer(
                response=response,
                question_id=a.question_id,
                choice_id=a.choice_id,
                text=a.text,
                district_id=a.district_id,
            )
            for a in submission.answers
        ]
    )


@transaction.atomic
def invitations_generate(*, survey: Survey, count: int) -> list[str]:
    """Create `count` new one-time codes; only their HMACs are stored, so the
    returned list is the only time the codes exist in clear text."""
    if not 1 <= count <= 20000:
        raise ValueError("count must be between 1 and 20 000")
    codes: list[str] = []
    hashes: set[str] = set()
    while len(codes) < count:
        code = security.code_generate()
        digest = security.code_hash(code)
        if digest not in hashes:
            hashes.add(digest)
            codes.append(code)
    Invitation.objects.bulk_create([Invitation(survey=survey, code_hash=h) for h in hashes])
    return codes


def invitations_purge(*, days: int | None = None, now=None) -> tuple[int, int]:
    """Delete invitation codes and submission nonces of surveys that closed
    more than `days` days ago, or, when `days` is None, each municipality's
    own `invitation_retention_days`. Free-text answers are left alone (see
    `retention_apply`). Safe to run any number of times.
    Returns (codes deleted, nonces deleted)."""
    results = retention_apply(now=now, invitation_days=days, free_texts=False)
    return sum(r.invitations for r in results), sum(r.nonces for r in results)


# --- retention (gallring) ------------------------------------------------------
#
# Per municipality (portal.Municipality): invitation codes and submission
# nonces are deleted `invitation_retention_days` after a survey closes; free
# text is deleted `free_text_retention_days` after closing, and only when a
# retention decision is recorded (survey answers are public records).
#
# What "free text" means here, and why results stay the same:
# - an answer to a free-text question is a row holding nothing but the text:
#   the row is deleted (no result counts answers to free-text questions);
# - the text of an "Annat, nämligen …" choice and the description of a place
#   are blanked (set to NULL): the row keeps the choice or the district, so
#   every count, breakdown and the NTU headline stay exactly as they were.


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


def retention_cutoffs(municipality, now, *, invitation_days: int | None = None):
    """(invitation cutoff, free-text cutoff or None): surveys that closed
    before a cutoff are due for that part of retention."""
    days = municipality.invitation_retention_days if invitation_days is None else invitation_days
    codes = now - timedelta(days=days)
    texts = None
    if municipality.free_text_retention_days is not None and municipality.retention_decision:
        texts = now - timedelta(days=municipality.free_text_retention_days)
    return codes, texts


def _free_text_answers(survey: Survey):
    return Answer.objects.filter(question__survey=survey, question__kind=Question.Kind.TEXT)


def _texts_to_blank(survey: Survey):
    return Answer.objects.filter(question__survey=survey, text__isnull=False).exclude(
        question__kind=Question.Kind.TEXT
    )


@transaction.atomic
def survey_apply_retention(
    *,
    survey: Survey,
    now=None,
    dry_run: bool = False,
    invitation_days: int | None = None,
    free_texts: bool = True,
) -> RetentionResult:
    """Apply the municipality's retention to one survey, in one transaction:
    bulk DELETE/UPDATE statements, never row by row. `dry_run` only counts.
    Records an audit event when something was removed."""
    now = now or timezone.now()
    result = RetentionResult(survey=survey)
    codes_cutoff, texts_cutoff = retention_cutoffs(
        survey.municipality, now, invitation_days=invitation_days
    )
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
    if free_texts and texts_cutoff is not None and survey.closes_at < texts_cutoff:
        if dry_run:
            result.free_texts_deleted = _free_text_answers(survey).count()
            result.texts_blanked = _texts_to_blank(survey).count()
        else:
            result.free_texts_deleted, _ = _free_text_answers(survey).delete()
            result.texts_blanked = _texts_to_blank(survey).update(text=None)
    if result.total and not dry_run:
        from portal.audit import Action, log_event

        log_event(
            actor=None,
            action=Action.RETENTION,
            obj=survey,
            **result.as_details(),
            retention_decision=survey.municipality.retention_decision,
        )
    return result


def retention_due(
    *, now, invitation_days: int | None = None, free_texts: bool = True, municipalities=None
):
    """The closed surveys that still hold something retention removes, in
    two queries whatever the number of municipalities and surveys: the
    municipalities, then the surveys (with EXISTS tests)."""
    from portal.models import Municipality

    municipalities = list(
        municipalities if municipalities is not None else Municipality.objects.all()
    )
    codes_q, texts_q = Q(pk__in=[]), Q(pk__in=[])
    for m in municipalities:
        codes_cutoff, texts_cutoff = retention_cutoffs(m, now, invitation_days=invitation_days)
        codes_q |= Q(municipality_id=m.pk, closes_at__lt=codes_cutoff)
        if free_texts and texts_cutoff is not None:
            texts_q |= Q(municipality_id=m.pk, closes_at__lt=texts_cutoff)
    has_codes = Exists(Invitation.objects.filter(survey=OuterRef("pk"))) | Exists(
        SubmissionNonce.objects.filter(survey=OuterRef("pk"))
    )
    has_texts = Exists(
        Answer.objects.filter(question__survey=OuterRef("pk"), question__kind=Question.Kind.TEXT)
    ) | Exists(
        Answer.objects.filter(question__survey=OuterRef("pk"), text__isnull=False).exclude(
            question__kind=Question.Kind.TEXT
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
    *,
    now=None,
    dry_run: bool = False,
    invitation_days: int | None = None,
    free_texts: bool = True,
    municipalities=None,
) -> list[RetentionResult]:
    """Apply retention to every survey that is due, one transaction per
    survey. Safe to run any number of times: a second run finds nothing.
    `invitation_days` overrides every municipality's setting for codes
    (the `purge_invitations --days` option); `free_texts=False` leaves free
    text alone."""
    now = now or timezone.now()
    return [
        survey_apply_retention(
            survey=survey,
            now=now,
            dry_run=dry_run,
            invitation_days=invitation_days,
            free_texts=free_texts,
        )
        for survey in retention_due(
            now=now,
            invitation_days=invitation_days,
            free_texts=free_texts,
            municipalities=municipalities,
        )
    ]


def retention_free_text_event(survey: Survey):
    """The latest retention that removed free text from `survey` (an
    AuditEvent), or None: the results page says the texts were removed
    and under which decision. One query."""
    from portal.audit import Action, AuditEvent

    return (
        AuditEvent.objects.for_object(survey)
        .filter(action=Action.RETENTION)
        .filter(Q(details__free_texts_deleted__gt=0) | Q(details__texts_blanked__gt=0))
        .first()
    )
