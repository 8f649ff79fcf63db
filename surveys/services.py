"""Writes that take several steps: building a survey from the standard
template or an earlier survey, submitting a response exactly once, and the
invitation codes of fieldwork."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models.functions import Now, TruncDate
from django.utils import timezone
from django.utils.text import slugify
from simple_history.utils import bulk_create_with_history

from surveys import anonymity, security, standard_template
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
    """One answer to save (a question kind makes it, surveys/kinds.py)."""

    question_id: int
    choice_id: int | None = None
    text: str | None = None
    district_id: int | None = None
    number: int | None = None


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
            number_min=q.number_min,
            number_max=q.number_max,
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
    (IntegrityError, migration 0009_answer_integrity_in_the_schema).
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
                number=a.number,
            )
            for a in submission.answers
        ]
    )
    anonymity.response_saved(response.pk)


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
