"""Results are SQL aggregations with a fixed number of queries; small
cells are hidden and cannot be recovered from what is shown beside them."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st

from portal import content_version
from surveys import results
from surveys.generate import generate_responses
from surveys.models import Answer, Choice, Question, Response

pytestmark = pytest.mark.django_db


def _respond(survey, answers: dict[str, str], n=1, text=None):
    """n responses with the given {question key: choice key} answers."""
    _respond_many(survey, {q: [c] for q, c in answers.items()}, n=n, text=text)


def _respond_many(survey, answers: dict[str, list[str]], n=1, text=None):
    """n responses, each ticking every listed choice of each question (and
    writing `text` as its suggestion, when given)."""
    choices = {
        (c.question.key, c.key): c
        for c in Choice.objects.filter(question__survey=survey).select_related("question")
    }
    for _ in range(n):
        r = Response.objects.create(survey=survey, date="2026-11-20")
        Answer.objects.bulk_create(
            [
                Answer(response=r, question=choices[(q, c)].question, choice=choices[(q, c)])
                for q, keys in answers.items()
                for c in keys
            ]
        )
        if text:
            Answer.objects.create(
                response=r, question=Question.objects.get(survey=survey, key="forslag"), text=text
            )


# --- suppression ------------------------------------------------------------


def test_it_hides_cells_under_5_and_their_complement():
    hidden = results.suppress([[20, 3, 30], [12, 15, 9]])
    assert hidden[0][1]  # 3 < 5
    # The row total is shown, so one more cell of the first row is hidden.
    assert sum(hidden[0][:3]) + hidden[0][3] >= 2
    # The column of the 3 has another hidden cell too.
    assert hidden[1][1]


def test_a_group_under_5_is_hidden_entirely():
    hidden = results.suppress([[2, 1], [30, 40], [25, 20]])
    assert all(hidden[0])


@settings(deadline=None, max_examples=200)
@given(
    st.lists(
        st.lists(st.integers(min_value=0, max_value=40), min_size=2, max_size=5),
        min_size=1,
        max_size=6,
    ).filter(lambda rows: len({len(r) for r in rows}) == 1)
)
def test_no_hidden_cell_can_be_recovered_from_a_row_or_column(rows):
    hidden = results.suppress(rows)
    table = [[*r, sum(r)] for r in rows]
    for i, row in enumerate(table):
        for j, value in enumerate(row):
            if value < results.MIN_CELL:
                assert hidden[i][j]
    lines = [list(r) for r in hidden]
    if len(hidden) > 1:
        lines += [list(c) for c in zip(*hidden, strict=True)]
    for line in lines:
        assert sum(line) != 1


# --- aggregation ------------------------------------------------------------


def test_share_and_ntu_headline(survey):
    _respond(survey, {"trygghet_ute_kvall": "mycket_trygg", "kon": "man"}, n=6)
    _respond(survey, {"trygghet_ute_kvall": "ganska_otrygg", "kon": "kvinna"}, n=3)
    _respond(survey, {"trygghet_ute_kvall": "gar_inte_ut_otrygghet", "kon": "kvinna"}, n=2)
    _respond(survey, {"trygghet_ute_kvall": "gar_inte_ut_andra_skal", "kon": "man"}, n=1)
    _respond(survey, {"trygghet_ute_kvall": "vet_ej", "kon": "man"}, n=4)
    # Unsafe or staying in because of unsafety; "Vet ej" outside the base.
    assert results.ntu_headline(survey) == (5, 12)
    assert results.share(survey, "trygghet_ute_kvall", ["mycket_trygg", "ganska_trygg"]) == (6, 16)
    by_gender = results.share_by(
        survey, "trygghet_ute_kvall", results.NTU_UNSAFE, "kon", exclude_keys=results.NTU_EXCLUDED
    )
    assert by_gender == {"kvinna": (5, 5), "man": (0, 7)}


def test_results_run_a_fixed_number_of_queries_whatever_the_number_of_responses(survey):
    def run():
        with CaptureQueriesContext(connection) as ctx:
            questions = results.questions_of(survey)
            results.overall(survey, public=True, questions=questions)
            results.ntu_headline(survey)
            by = {q.key: q for q in questions}
            results.breakdown(survey, by["trygghet_ute_kvall"], by["kon"])
            results.daily_counts(survey)
            results.compare(survey, survey, questions=questions)
        return len(ctx.captured_queries)

    generate_responses(survey, 5, seed=1)
    few = run()
    generate_responses(survey, 200, seed=2)
    assert run() == few == 11


def test_breakdown_hides_small_groups(survey):
    _respond(survey, {"trygghet_ute_kvall": "mycket_trygg", "kon": "man"}, n=12)
    _respond(survey, {"trygghet_ute_kvall": "ganska_trygg", "kon": "man"}, n=8)
    _respond(survey, {"trygghet_ute_kvall": "mycket_trygg", "kon": "kvinna"}, n=9)
    _respond(survey, {"trygghet_ute_kvall": "mycket_otrygg", "kon": "kvinna"}, n=2)
    _respond(survey, {"trygghet_ute_kvall": "mycket_trygg", "kon": "annat"}, n=1)
    q = Question.objects.get(survey=survey, key="trygghet_ute_kvall")
    by = Question.objects.get(survey=survey, key="kon")
    b = results.breakdown(survey, q, by)
    rows = {row["label"]: row for row in b.rows()}
    assert rows["Annat"]["n"] is None and all(c is None for c in rows["Annat"]["cells"])
    keys = [c.key for c in b.choices]
    assert rows["Kvinna"]["cells"][keys.index("mycket_otrygg")] is None
    assert rows["Man"]["cells"][keys.index("mycket_trygg")] == 12


def test_a_respondent_who_ticks_several_choices_counts_once_in_each_total(survey):
    why = "otrygg_plats_varfor"  # multiple choice
    _respond_many(survey, {why: ["dalig_belysning", "odsligt"], "kon": ["man"]}, n=6)
    _respond_many(survey, {why: ["dalig_belysning"], "kon": ["kvinna"]}, n=5)
    _respond_many(survey, {why: ["odsligt"]}, n=5)  # background not stated
    q = Question.objects.get(survey=survey, key=why)
    by = Question.objects.get(survey=survey, key="kon")
    keys = [c.key for c in q.choices.all()]
    groups = {c.key: c.pk for c in by.choices.all()}

    b = results.breakdown(survey, q, by)
    rows = dict(zip([g for g, _ in b.groups], zip(b.cells, b.totals, strict=True), strict=True))
    man, woman, not_stated = rows[groups["man"]], rows[groups["kvinna"]], rows[None]
    assert man[1] == 6 and man[0][keys.index("dalig_belysning")] == 6
    assert man[0][keys.index("odsligt")] == 6
    assert woman == ([5 if k == "dalig_belysning" else 0 for k in keys], 5)
    assert not_stated[1] == 5 and not_stated[0][keys.index("odsligt")] == 5

    overall = {r.question.key: r for r in results.overall(survey)}[why]
    assert overall.n == 16
    assert {c.choice.key: c.count for c in overall.choices if c.count} == {
        "dalig_belysning": 11,
        "odsligt": 11,
    }
    assert results.share_by(survey, why, ["odsligt"], "kon") == {
        "man": (6, 6),
        "kvinna": (0, 5),
        None: (5, 5),
    }
    assert results.share_by(survey, why, ["odsligt"], "kon", exclude_keys=["odsligt"]) == {
        "man": (0, 6),
        "kvinna": (0, 5),
    }


def test_a_respondent_with_two_background_answers_is_counted_in_one_group(survey):
    """The form never sends two answers to a single-choice question; should
    the data ever hold them, the group totals still add up to the
    respondents (the suppression's column sums rely on it)."""
    _respond_many(survey, {"trygghet_ute_kvall": ["mycket_trygg"], "kon": ["man", "kvinna"]})
    _respond_many(survey, {"trygghet_ute_kvall": ["mycket_trygg"], "kon": ["man"]}, n=2)
    q = Question.objects.get(survey=survey, key="trygghet_ute_kvall")
    by = Question.objects.get(survey=survey, key="kon")
    b = results.breakdown(survey, q, by)
    assert sum(b.totals) == 3
    assert sum(sum(row) for row in b.cells) == 3
    by_gender = results.share_by(survey, "trygghet_ute_kvall", ["mycket_trygg"], "kon")
    assert sum(n for _, n in by_gender.values()) == 3


def test_the_public_results_page_hides_small_cells_and_free_text(client, survey):
    survey.results_published = True
    survey.save()
    _respond(
        survey,
        {"trygghet_ute_kvall": "mycket_trygg", "kon": "man"},
        n=20,
        text="Hemlig fritext om grannen",
    )
    _respond(survey, {"trygghet_ute_kvall": "mycket_otrygg", "kon": "kvinna"}, n=2)
    page = client.get(survey.get_results_url()).content.decode()
    assert "Hemlig fritext" not in page
    assert "dolt" in page
    assert "genererade" not in page
    assert "<svg" in page and "<table" in page


def test_results_are_a_404_until_published(
    client, survey, login, kommun_editor, other_kommun_editor
):
    assert client.get(survey.get_results_url()).status_code == 404
    assert login(other_kommun_editor).get(survey.get_results_url()).status_code == 404
    preview = login(kommun_editor).get(survey.get_results_url())
    assert preview.status_code == 200
    assert "inte publicerade ännu" in preview.content.decode()


def test_the_public_results_page_runs_a_fixed_number_of_queries(
    client, survey, django_assert_num_queries
):
    survey.results_published = True
    survey.save()
    generate_responses(survey, 5, seed=1)
    with CaptureQueriesContext(connection) as few:
        client.get(survey.get_results_url())
    generate_responses(survey, 100, seed=3)
    content_version.changed()  # generated in bulk, outside the services
    with django_assert_num_queries(len(few.captured_queries)):
        client.get(survey.get_results_url())


def test_a_surveys_results_count_its_own_responses_only(survey, closed_survey):
    """Results find answers through the survey's questions; with two
    surveys of the same template side by side, each counts exactly the
    answers of its own responses."""
    from django.db.models import Count

    generate_responses(survey, 40, seed=21)
    generate_responses(closed_survey, 70, seed=22)
    for s in (survey, closed_survey):
        expected = {
            (r["question_id"], r["choice_id"]): r["n"]
            for r in Answer.objects.filter(response__survey=s, choice__isnull=False)
            .values("question_id", "choice_id")
            .annotate(n=Count("id"))
        }
        got = {
            (q.question.pk, c.choice.pk): c.count
            for q in results.overall(s)
            for c in q.choices
            if c.count
        }
        assert got == expected
        respondents = {q.question.key: q.n for q in results.overall(s)}
        assert respondents["trygghet_ute_kvall"] == Response.objects.filter(survey=s).count()
    k, n = results.ntu_headline(closed_survey)
    assert 0 <= k <= n
    assert 0 < n <= 70
    assert results.share_per_survey([survey, closed_survey], "kon", ["kvinna"]).keys() == {
        survey.pk,
        closed_survey.pk,
    }
