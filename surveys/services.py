"""Writes that take several steps: building a survey from the standard
template or an earlier survey, submitting a response exactly once, and the
invitation codes of fieldwork."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, transaction
from django.utils import timezone
from django.utils.text import slugify
from simple_history.utils import bulk_create_with_history

from portal.db import prepared_cursor
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
    # The answer as an element of the save statement's JSON parameter,
    # encoded once per object instead of on every submission.
    json_text: str = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        fields = {
            "q": self.question_id,
            "c": self.choice_id,
            "t": self.text,
            "d": self.district_id,
            "n": self.number,
        }
        object.__setattr__(self, "json_text", json.dumps(fields))


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
    is decided by the database's copy of the survey at the moment of
    saving, not by the caller's (possibly older) one.
    """
    # The connection itself, not django.db.connection: every attribute read
    # through that proxy is a lookup in a context-local registry.
    db = connections[DEFAULT_DB_ALIAS]
    one_statement = False  # _save only: it notes the response for the anonymity batch
    save = _save_in_one_statement if one_statement else _save
    try:
        if one_statement and not db.in_atomic_block:
            # One statement is a transaction of its own: no BEGIN, no COMMIT.
            save(survey, token, submission)
        else:
            with transaction.atomic():
                save(survey, token, submission)
    except IntegrityError:
        # The nonce's unique constraint: the same form was sent twice.
        # Anything else is a real error and must not pass as a duplicate.
        if SubmissionNonce.objects.filter(survey_id=survey.pk, digest=token.nonce_digest).exists():
            return False
        raise
    return True


def _save(survey: Survey, token: security.Token, submission: Submission) -> None:
    if not Survey.objects.open_now().filter(pk=survey.pk, mode=survey.mode).exists():
        raise SubmissionRefused("closed")
    _check_answers(survey, submission.answers)
    SubmissionNonce.objects.create(survey_id=survey.pk, digest=token.nonce_digest)
    if survey.mode == Survey.Mode.INVITATION:
        used = Invitation.objects.filter(
            survey_id=survey.pk, code_hash=security.code_hash(submission.code), used=False
        ).update(used=True)
        if used != 1:
            raise SubmissionRefused("code")
    response = Response.objects.create(
        survey_id=survey.pk,
        date=timezone.localdate(),
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


def _check_answers(survey: Survey, answers: list[AnswerData]) -> None:
    """_save's version of the save statement's check, in one query: every
    question is the survey's and every choice its question's, or
    IntegrityError."""
    known = set(
        Question.objects.filter(survey_id=survey.pk, pk__in={a.question_id for a in answers})
        .values_list("pk", "choices__pk")
        .order_by()
    )
    questions = {q for q, _ in known}
    for a in answers:
        if a.question_id not in questions or (
            a.choice_id is not None and (a.question_id, a.choice_id) not in known
        ):
            raise IntegrityError("an answer names a question or choice that is not the survey's")


# The same writes as _save, as one statement: a burst of submissions costs
# the database one round trip each instead of five. Every part runs only if
# the survey is open now (and, by invitation, the code was unused and is now
# used); a nonce sent before raises the unique constraint's IntegrityError,
# which undoes the whole statement. An answer whose question is not this
# survey's gets no question (NULL), and when any chosen choice is not its
# question's, no answer gets one: the NOT NULL constraint's IntegrityError
# undoes the statement too (the check the answers' foreign keys made row by
# row, made here as a set). The choices are looked up in one scan of their
# primary key for all the ids at once; joined to the answers instead, the
# planner read every choice of every survey on each submission (0.16 ms of
# the database's 1.2 ms here, growing with the number of surveys). The KEY
# SHARE lock on the survey's row makes a deletion of a question or choice
# wait for this statement (migration 0004's triggers). The answers' JSON is
# read once (`given`) for both the check and the insert.
_SAVE_SQL = """
WITH open_survey AS (
    SELECT id FROM surveys_survey
    WHERE id = %(survey)s
        AND opens_at <= statement_timestamp() AND closes_at > statement_timestamp()
        AND mode = %(mode)s
    FOR KEY SHARE
),
{invitation}
gate AS (SELECT open_survey.id FROM open_survey {invitation_join}),
nonce AS (
    INSERT INTO surveys_submissionnonce (survey_id, digest)
    SELECT id, %(digest)s FROM gate
),
new_response AS (
    INSERT INTO surveys_response (survey_id, date, language, channel)
    SELECT id, (statement_timestamp() AT TIME ZONE %(time_zone)s)::date, %(language)s, %(channel)s FROM gate
    RETURNING id
),
given AS MATERIALIZED (
    SELECT * FROM jsonb_to_recordset(%(answers)s::jsonb) AS a(q bigint, c bigint, t text, d bigint, n integer)
),
chosen AS (
    SELECT array_agg(a.c) AS ids, array_agg(a.q) AS questions, count(*) AS n
    FROM given a
    WHERE a.c IS NOT NULL
),
chosen_valid AS (
    SELECT count(*) AS n FROM chosen JOIN surveys_choice c ON c.id = ANY(chosen.ids)
    WHERE c.question_id = chosen.questions[array_position(chosen.ids, c.id)]
),
answers AS (
    INSERT INTO surveys_answer (response_id, question_id, choice_id, text, district_id, number)
    SELECT new_response.id,
        CASE WHEN (SELECT n FROM chosen_valid) = (SELECT n FROM chosen) THEN q.id END,
        a.c, a.t, a.d, a.n
    FROM new_response
    CROSS JOIN given a
    LEFT JOIN surveys_question q ON q.id = a.q AND q.survey_id = %(survey)s
)
SELECT (SELECT count(*) FROM open_survey), (SELECT count(*) FROM new_response)
"""
_INVITATION_SQL = """
invitation AS (
    UPDATE surveys_invitation SET used = true
    WHERE survey_id = %(survey)s AND code_hash = %(code)s AND NOT used
        AND EXISTS (SELECT 1 FROM open_survey)
    RETURNING id
),
"""
_SAVE_OPEN = _SAVE_SQL.format(invitation="", invitation_join="")
_SAVE_INVITATION = _SAVE_SQL.format(
    invitation=_INVITATION_SQL, invitation_join="CROSS JOIN invitation"
)


def _save_in_one_statement(survey: Survey, token: security.Token, submission: Submission) -> None:
    invitation = survey.mode == Survey.Mode.INVITATION
    answers = submission.answers
    params = {
        "survey": survey.pk,
        "mode": survey.mode,
        "digest": token.nonce_digest,
        # The moment of saving and its date are the database's (the
        # statement's start): one clock decides whether the survey is open.
        "time_zone": settings.TIME_ZONE,
        "language": submission.language,
        "channel": Response.Channel.WEB.value,
        # One JSON text rather than four arrays: the driver quotes one string
        # instead of converting every value.
        "answers": f"[{', '.join([a.json_text for a in answers])}]",
        "code": security.code_hash(submission.code) if invitation else None,
    }
    with prepared_cursor(connections[DEFAULT_DB_ALIAS]) as cursor:
        cursor.execute(_SAVE_INVITATION if invitation else _SAVE_OPEN, params)
        is_open, saved = cursor.fetchone()
    if not is_open:
        raise SubmissionRefused("closed")
    if not saved:
        raise SubmissionRefused("code")


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
