"""Survey results, computed in the database.

Every function here runs a fixed number of aggregate queries (COUNT …
GROUP BY, filtered aggregates), whatever the number of responses; nothing
loads responses into Python to count them.

Answers are found through their question, never through their response:
an answer's question always belongs to its response's survey (the only
writers, `services.response_submit` and `generate`, take question ids from
the survey's own structure), and the (question, response, choice) index
then reads this survey's answers alone, where a join to the responses scans
the answers of every survey in the installation. The counts read that index
and nothing else (PostgreSQL: index-only scans); a breakdown merges two
questions' answers, both already ordered by response in the index, instead
of looking up each respondent's background answer one by one.

Small-cell suppression: `surveys.disclosure` holds the portal's one rule
(`suppress` for tables, `share_hidden` for shares) and says what it covers.
A breakdown is suppressed with the question's overall row as its margin, so
it hides what the overall results hide and never reveals one of their
hidden cells. The respondents who did not answer the background question
form a group of their own ("not stated"), so that the column sums hold.

NTU headline (`ntu_headline`): share of respondents who feel fairly or very
unsafe out alone late in their residential area, *or* who do not go out
alone late because they feel unsafe (question key `trygghet_ute_kvall`,
choices ganska_otrygg, mycket_otrygg, gar_inte_ut_otrygghet), among all who
answered the question except "Vet ej" (those who do not go out for other
reasons stay in the base, as in Brå's NTU).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, Q, Subquery

from surveys import disclosure, kinds
from surveys.models import Answer, Choice, Question, Response, Survey

MIN_CELL = disclosure.MIN_CELL
suppress = disclosure.suppress  # the shared rule, under its earlier name here

NTU_QUESTION = "trygghet_ute_kvall"
NTU_UNSAFE = ("ganska_otrygg", "mycket_otrygg", "gar_inte_ut_otrygghet")
NTU_EXCLUDED = ("vet_ej",)


# --- the public building blocks (used by the follow-up app) ---------------


def share(survey: Survey, question_key: str, choice_keys, *, exclude_keys=()) -> tuple[int, int]:
    """(k, n) for one question of one survey, in one query.

    n = respondents who answered `question_key` with a choice not in
    `exclude_keys`; k = those of them who chose one of `choice_keys`.
    Example: share(survey, "trygghet_ute_kvall", ["mycket_trygg", "ganska_trygg"])

    The question and its choices are named by id (subqueries PostgreSQL runs
    first), so the answers are read through the (question, response, choice)
    index: joined by key instead, the planner may scan every survey's answers.
    """
    question = Subquery(
        Question.objects.filter(survey=survey, key=question_key).order_by().values("pk")[:1]
    )

    def choices(keys):
        return Choice.objects.filter(question_id=question, key__in=list(keys)).values("pk")

    answers = Answer.objects.filter(question_id=question)
    if exclude_keys:
        answers = answers.exclude(choice_id__in=choices(exclude_keys))
    row = answers.aggregate(
        k=Count("response_id", distinct=True, filter=Q(choice_id__in=choices(choice_keys))),
        n=Count("response_id", distinct=True),
    )
    return row["k"], row["n"]


def share_per_survey(
    surveys, question_key: str, choice_keys, *, exclude_keys=()
) -> dict[int, tuple[int, int]]:
    """share() for several surveys at once, in one query (GROUP BY survey):
    {survey id: (k, n)}; a survey without answers to the question is absent."""
    ids = [s.pk if hasattr(s, "pk") else s for s in surveys]
    qs = Answer.objects.filter(question__survey_id__in=ids, question__key=question_key)
    if exclude_keys:
        qs = qs.exclude(choice__key__in=list(exclude_keys))
    rows = (
        qs.values("question__survey_id")
        .annotate(
            k=Count("response_id", distinct=True, filter=Q(choice__key__in=list(choice_keys))),
            n=Count("response_id", distinct=True),
        )
        .order_by()
    )
    return {row["question__survey_id"]: (row["k"], row["n"]) for row in rows}


# Each respondent's answer to a background question `{by}`, one per
# respondent (MIN: should the data ever hold two, the respondent still
# counts once, in one group), joined to the answers to a question
# `{question}`. Both are read from the (question, response, choice) index
# in response order, so PostgreSQL merges them without sorting.
_WITH_BACKGROUND = """
    WITH background AS (
        SELECT response_id, MIN(choice_id) AS bg FROM surveys_answer
        WHERE question_id = {by} GROUP BY response_id
    ),
    answers AS (
        SELECT a.response_id, a.choice_id, background.bg FROM surveys_answer a
        LEFT JOIN background ON background.response_id = a.response_id
        WHERE a.question_id = {question}
    )
"""
_QUESTION_BY_KEY = "(SELECT id FROM surveys_question WHERE survey_id = %(survey)s AND key = {})"
_SHARE_BY_SELECT = """
    SELECT c.key,
        COUNT(DISTINCT CASE WHEN answers.choice_id IN ({chosen}) THEN response_id END),
        COUNT(DISTINCT response_id)
    FROM answers LEFT JOIN surveys_choice c ON c.id = answers.bg
    WHERE answers.choice_id IS NULL OR answers.choice_id NOT IN ({excluded})
    GROUP BY c.key
"""
_SHARE_BY_SQL = (
    _WITH_BACKGROUND.format(
        by=_QUESTION_BY_KEY.format("%(by)s"), question=_QUESTION_BY_KEY.format("%(question)s")
    )
    + _SHARE_BY_SELECT
)
_CHOICES_BY_KEY = "SELECT id FROM surveys_choice WHERE question_id = {question} AND key IN ({keys})"


def share_by(
    survey: Survey, question_key: str, choice_keys, by_key: str, *, exclude_keys=()
) -> dict[str | None, tuple[int, int]]:
    """share() broken down by the answer to a background question (e.g.
    "kon", "alder", "omrade"), in one query: {background choice key or None
    (not stated): (k, n)}. Not suppressed: use `suppress` before showing it."""
    params = {"survey": survey.pk, "question": question_key, "by": by_key}
    question = _QUESTION_BY_KEY.format("%(question)s")
    sql = _SHARE_BY_SQL.format(
        chosen=_CHOICES_BY_KEY.format(
            question=question, keys=_named(params, "chosen", choice_keys)
        ),
        excluded=_CHOICES_BY_KEY.format(
            question=question, keys=_named(params, "excluded", exclude_keys)
        ),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {key: (k, n) for key, k, n in cursor.fetchall()}


def _named(params: dict, prefix: str, values) -> str:
    """Placeholders for the values of an IN (…), added to `params`; NULL
    for none (no row is IN (NULL))."""
    names = [f"{prefix}{i}" for i in range(len(values))]
    params.update(zip(names, values, strict=True))
    return ", ".join(f"%({name})s" for name in names) or "NULL"


def ntu_headline(survey: Survey) -> tuple[int, int]:
    """The NTU headline indicator as (k, n); see the module docstring."""
    return share(survey, NTU_QUESTION, NTU_UNSAFE, exclude_keys=NTU_EXCLUDED)


def ntu_hidden(k: int, n: int, overall_results: list[QuestionResult]) -> bool:
    """Whether the public results page must hide the NTU headline (k, n),
    given the page's overall results (`overall(public=True)`)."""
    result = next((r for r in overall_results if r.question.key == NTU_QUESTION), None)
    if result is None:
        return disclosure.share_hidden(k, n)
    return disclosure.share_hidden_beside(
        k,
        n,
        row={c.choice.key: (c.count, c.hidden or result.hidden_n) for c in result.choices},
        answered=(result.n, result.hidden_n),
        chosen=NTU_UNSAFE,
        excluded=NTU_EXCLUDED,
        additive=result.question.kind == Question.Kind.SINGLE,
    )


# --- overall results -------------------------------------------------------


@dataclass
class ChoiceResult:
    choice: Choice
    count: int
    share: float | None
    hidden: bool = False


@dataclass
class QuestionResult:
    question: Question
    n: int
    choices: list[ChoiceResult] = field(default_factory=list)
    hidden_n: bool = False
    median: float | None = None


def questions_of(survey: Survey) -> list[Question]:
    return list(survey.questions.in_form_order())


def response_count(survey: Survey) -> int:
    return Response.objects.filter(survey=survey).count()


# Respondents per question: the (question, response) groups, which the
# (question, response, choice) index yields in order (PostgreSQL: an
# index-only scan feeding a Group node, where COUNT(DISTINCT response_id)
# sorts each question's answers again: 4.2 s instead of 10.9 s over the
# 39 million answers of a million responses; SELECT DISTINCT took 5.9 s).
_ANSWERED_SQL = """
    SELECT question_id, COUNT(*) FROM (
        SELECT question_id, response_id FROM surveys_answer WHERE question_id IN ({})
        GROUP BY question_id, response_id
    ) answered
    GROUP BY question_id
"""


def overall(survey: Survey, *, public: bool = False, questions=None) -> list[QuestionResult]:
    """Each counted question's result, as its kind computes it from the
    counts of its answers (free text is never counted). Four queries for
    choice questions (questions, choices, counts, respondents per question),
    one more for each other counted field. `public=True` hides counts under
    5 (with complementary suppression within the question)."""
    questions = questions if questions is not None else questions_of(survey)
    counted = [q for q in questions if kinds.of(q).tally_field]
    by_field: dict[str, list[int]] = {}
    for q in counted:
        by_field.setdefault(kinds.of(q).tally_field, []).append(q.pk)
    counts: dict[int, dict] = {}
    for name, ids in by_field.items():
        for question_id, value, n in (
            Answer.objects.filter(question_id__in=ids, **{f"{name}__isnull": False})
            .values_list("question_id", name)
            .annotate(n=Count("*"))  # not Count("id"): the index holds no id
            .order_by()
        ):
            counts.setdefault(question_id, {})[value] = n
    params = {}
    with connection.cursor() as cursor:
        cursor.execute(_ANSWERED_SQL.format(_named(params, "q", [q.pk for q in counted])), params)
        answered = dict(cursor.fetchall())
    results = []
    for q in counted:
        result = kinds.of(q).result(q, counts.get(q.pk, {}), answered.get(q.pk, 0), public=public)
        if result is not None:
            results.append(result)
    return results


# --- breakdowns --------------------------------------------------------------


@dataclass
class Breakdown:
    question: Question
    by: Question
    groups: list[tuple[str, str]]  # (key, label)
    choices: list[Choice]
    cells: list[list[int]]
    totals: list[int]
    hidden: list[list[bool]]

    def rows(self, language="sv"):
        for i, (_key, label) in enumerate(self.groups):
            yield {
                "label": label,
                "n": None if self.hidden[i][-1] else self.totals[i],
                "cells": [
                    None if self.hidden[i][j] else self.cells[i][j]
                    for j in range(len(self.choices))
                ],
                "shares": [
                    None
                    if self.hidden[i][j] or not self.totals[i] or self.hidden[i][-1]
                    else self.cells[i][j] / self.totals[i]
                    for j in range(len(self.choices))
                ],
            }


NOT_STATED = ("", "Ej angivet")


_BREAKDOWN_SELECT = """
    SELECT bg, choice_id, COUNT(DISTINCT response_id) FROM answers
    WHERE choice_id IS NOT NULL GROUP BY bg, choice_id
    UNION ALL
    SELECT bg, NULL, COUNT(DISTINCT response_id) FROM answers GROUP BY bg
"""
_BREAKDOWN_SQL = _WITH_BACKGROUND.format(by="%(by)s", question="%(question)s") + _BREAKDOWN_SELECT


def breakdown(survey: Survey, question: Question, by: Question, language="sv") -> Breakdown:
    """Counts of `question`'s choices per answer to `by`, suppressed. One
    query (the questions and their choices are passed in, prefetched): the
    respondents per (group, choice), and per group (choice NULL: a
    respondent who ticked several choices counts once in the group's n)."""
    counts, n_by = {}, {}
    with connection.cursor() as cursor:
        cursor.execute(_BREAKDOWN_SQL, {"by": by.pk, "question": question.pk})
        for bg, choice_id, n in cursor.fetchall():
            if choice_id is None:
                n_by[bg] = n
            else:
                counts[bg, choice_id] = n
    choices = list(question.choices.all())
    groups = [(c.pk, c.text(language)) for c in by.choices.all()] + [(None, NOT_STATED[1])]
    cells = [[counts.get((g, c.pk), 0) for c in choices] for g, _ in groups]
    totals = [n_by.get(g, 0) for g, _ in groups]
    # Drop the "not stated" row when empty: it reveals nothing then.
    if totals[-1] == 0:
        groups, cells, totals = groups[:-1], cells[:-1], totals[:-1]
    hidden = []
    if cells:
        # The overall row, as overall(public=True) hides it, is the margin.
        (margin,) = suppress([[sum(c) for c in zip(*cells, strict=True)]], row_totals=[sum(totals)])
        hidden = suppress(cells, row_totals=totals, margin=margin)
    return Breakdown(question, by, groups, choices, cells, totals, hidden)


def daily_counts(survey: Survey) -> list[tuple]:
    """Responses per day: one query."""
    return list(
        Response.objects.filter(survey=survey)
        .values("date")
        .annotate(n=Count("id"))
        .order_by("date")
        .values_list("date", "n")
    )


def free_texts(survey: Survey) -> list[dict]:
    """Free-text answers (officials only, never public): one query."""
    return list(
        Answer.objects.filter(response__survey=survey)
        .exclude(text__isnull=True)
        .exclude(text="")
        .order_by("question__section__position", "question__position", "id")
        .values("question__key", "question__texts", "choice__texts", "district__name", "text")
    )


@dataclass
class Comparison:
    key: str
    question: Question
    rows: list[dict]


def compare(survey: Survey, earlier: Survey, *, questions=None) -> list[Comparison]:
    """Shares per choice key for the questions both surveys have (matched by
    key). Fixed number of queries: two count queries per survey."""
    questions = questions if questions is not None else questions_of(survey)

    def by_key(s: Survey):
        counts = {
            (r["question__key"], r["choice__key"]): r["n"]
            for r in Answer.objects.filter(question__survey=s, choice__isnull=False)
            .values("question__key", "choice__key")
            .annotate(n=Count("id"))
            .order_by()
        }
        answered = dict(
            Answer.objects.filter(question__survey=s)
            .values("question__key")
            .annotate(n=Count("response_id", distinct=True))
            .order_by()
            .values_list("question__key", "n")
        )
        return counts, answered

    now_counts, now_n = by_key(survey)
    then_counts, then_n = by_key(earlier)
    result = []
    for q in questions:
        if not q.has_choices or q.key not in then_n:
            continue
        rows = []
        for c in q.choices.all():
            a, b = now_counts.get((q.key, c.key), 0), then_counts.get((q.key, c.key), 0)
            rows.append(
                {
                    "choice": c,
                    "now": a / now_n[q.key] if now_n.get(q.key) else None,
                    "then": b / then_n[q.key] if then_n.get(q.key) else None,
                }
            )
        result.append(Comparison(q.key, q, rows))
    return result
