"""The number kind: a whole number between a minimum and a maximum, from
the admin to the form, the saved answer, the results (ranges and median,
small cells hidden) and the exports."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from openpyxl import load_workbook

from surveys import exports, kinds, results, services
from surveys.models import Answer, Question, Response
from tests.surveys.conftest import valid_data
from tests.surveys.factories import SurveyFactory

pytestmark = pytest.mark.django_db

KEY = "antal_ganger"


@pytest.fixture
def number_question(survey):
    return Question.objects.create(
        survey=survey,
        section=survey.sections.first(),
        key=KEY,
        position=99,
        kind=Question.Kind.NUMBER,
        texts={"sv": "Hur många gånger har du gått ut sent den senaste månaden?"},
        number_min=0,
        number_max=30,
    )


def _answer_numbers(question, numbers):
    for number in numbers:
        response = Response.objects.create(survey=question.survey, date="2026-11-20")
        Answer.objects.create(response=response, question=question, number=number)


def _result(survey, *, public):
    return next(r for r in results.overall(survey, public=public) if r.question.key == KEY)


# --- the question in the admin -------------------------------------------


def test_a_number_question_needs_its_limits_in_order(survey):
    q = Question(survey=survey, section=survey.sections.first(), key="x", kind=Question.Kind.NUMBER)
    q.texts = {"sv": "Hur många?"}
    with pytest.raises(ValidationError) as missing:
        q.full_clean()
    assert set(missing.value.message_dict) >= {"number_min", "number_max"}
    q.number_min, q.number_max = 10, 2
    with pytest.raises(ValidationError) as reversed_limits:
        q.full_clean()
    assert list(reversed_limits.value.message_dict) == ["number_max"]
    q.number_min = q.number_max = 2
    q.full_clean()


def _add_question(survey, **fields) -> dict:
    return {
        "survey": survey.pk,
        "section": survey.sections.first().pk,
        "group": "",
        "position": 99,
        "key": KEY,
        "kind": "number",
        "texts": '{"sv": "Hur många gånger?"}',
        "max_length": 1000,
        "choices-TOTAL_FORMS": 0,
        "choices-INITIAL_FORMS": 0,
        "choices-MIN_NUM_FORMS": 0,
        "choices-MAX_NUM_FORMS": 1000,
        **fields,
    }


def test_an_official_adds_a_number_question_in_the_admin(login, kommun_editor, survey):
    client = login(kommun_editor)
    url = reverse("admin:surveys_question_add")
    page = client.get(url).content.decode()
    assert 'name="number_min"' in page and "heltal" in page

    refused = client.post(url, _add_question(survey))
    assert refused.status_code == 200
    assert "Ange det minsta tillåtna svaret." in refused.content.decode()
    refused = client.post(url, _add_question(survey, number_min=10, number_max=2))
    assert "Det största svaret får inte vara mindre än det minsta." in refused.content.decode()
    assert not Question.objects.filter(key=KEY).exists()

    response = client.post(url, _add_question(survey, number_min=0, number_max=30))
    assert response.status_code == 302, response.content.decode()[:2000]
    q = Question.objects.get(key=KEY)
    assert (q.kind, q.number_min, q.number_max) == ("number", 0, 30)


def test_a_copy_keeps_the_limits(survey, number_question):
    target = SurveyFactory(municipality=survey.municipality, slug="varen-2027")
    services.survey_copy_questions(source=survey, target=target)
    copy = target.questions.get(key=KEY)
    assert (copy.kind, copy.number_min, copy.number_max) == ("number", 0, 30)


# --- the form and the saved answer ------------------------------------------


def test_the_form_shows_a_number_input_with_its_limits(client, survey, number_question):
    page = client.get(survey.get_absolute_url()).content.decode()
    field = page[page.index(f'name="q_{KEY}"') - 200 :][:400]
    assert 'type="number"' in field and 'min="0"' in field and 'max="30"' in field


def test_a_number_is_saved_as_one_answer_row(client, survey, number_question):
    response = client.post(
        survey.get_absolute_url(), valid_data(client, survey, q_antal_ganger="7")
    )
    assert response.status_code == 302
    answer = Answer.objects.get(question=number_question)
    assert (answer.number, answer.choice_id, answer.text, answer.district_id) == (
        7,
        None,
        None,
        None,
    )


def test_an_unanswered_number_saves_no_row(client, survey, number_question):
    assert client.post(survey.get_absolute_url(), valid_data(client, survey)).status_code == 302
    assert not Answer.objects.filter(question=number_question).exists()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("3.5", "Svara med ett heltal, t.ex. 3."),
        ("tre", "Svara med ett heltal, t.ex. 3."),
        ("1e3", "Svara med ett heltal, t.ex. 3."),
        ("9" * 5000, "Svara med ett heltal, t.ex. 3."),
        ("-1", "Svara med ett tal från 0 till 30."),
        ("31", "Svara med ett tal från 0 till 30."),
    ],
)
def test_a_bad_number_gets_a_swedish_message_and_nothing_is_saved(
    client, survey, number_question, value, message
):
    response = client.post(
        survey.get_absolute_url(), valid_data(client, survey, q_antal_ganger=value)
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Response.objects.exists()


def test_a_required_number_must_be_given_and_messages_follow_the_language(
    client, survey, number_question
):
    number_question.required = True
    number_question.save()
    survey.languages = ["sv", "en"]
    survey.save()
    response = client.post(survey.get_absolute_url(), valid_data(client, survey))
    assert response.status_code == 400 and "Svara på frågan." in response.content.decode()
    data = valid_data(client, survey, q_antal_ganger="99", form_language="en")
    response = client.post(survey.get_absolute_url(), data)
    assert "Answer with a number from 0 to 30." in response.content.decode()
    assert not Response.objects.exists()


# --- results --------------------------------------------------------------


def test_the_median_of_counted_values():
    assert kinds.median({}) is None
    assert kinds.median({4: 1}) == 4
    assert kinds.median({1: 1, 2: 1, 3: 1}) == 2
    assert kinds.median({1: 2, 4: 2}) == 2.5
    assert kinds.median({0: 5, 10: 1}) == 0


def test_ranges_cover_the_limits_in_at_most_ten_equal_steps():
    assert [b.key for b in kinds.bins(1, 5)] == ["1", "2", "3", "4", "5"]
    ranges = kinds.bins(0, 30)
    assert [(b.low, b.high) for b in ranges][:2] == [(0, 3), (4, 7)]
    assert (ranges[-1].low, ranges[-1].high, len(ranges)) == (28, 30, 8)
    assert ranges[0].text() == "0–3"


def test_results_show_the_ranges_and_the_median(survey, number_question):
    _answer_numbers(number_question, [0, 1, 2, 3, 3, 5, 6, 6, 7, 7, 7, 8, 8, 9, 9, 10, 10, 11, 30])
    for public in (False, True):
        result = _result(survey, public=public)
        assert result.n == 19 and not result.hidden_n
        assert result.median == 7
        counts = {row.choice.key: (row.count, row.hidden) for row in result.choices}
        assert counts["4-7"] == (6, False)
        assert counts["8-11"] == (7, False)
        # One answer in 28–30: hidden, for officials too, and with it the
        # smallest visible range, so that the hidden ranges do not add up
        # to 1–4 (surveys/disclosure.py).
        assert counts["28-30"][1] is True
        assert counts["0-3"][1] is True
        assert all(hidden for count, hidden in counts.values() if count < 5)


def test_fewer_than_five_answers_show_nothing(survey, number_question):
    _answer_numbers(number_question, [2, 3, 4, 4])
    result = _result(survey, public=False)
    assert result.hidden_n and result.median is None
    assert all(row.hidden for row in result.choices)


def test_the_public_results_page_shows_the_median_and_hides_small_cells(
    client, survey, number_question
):
    survey.results_published = True
    survey.save()
    _answer_numbers(number_question, [4, 4, 5, 6, 7, 7, 8, 8, 9, 9, 10, 11, 11, 29])
    page = client.get(survey.get_results_url()).content.decode()
    section = page[page.index(f'id="rq-{KEY}"') :]
    section = section[: section.index("</section>")]
    assert "Median: 8" in section
    assert "8–11" in section and '<td class="text-end">7</td>' in section
    # 28–30 holds one answer: hidden, and 4–7 with it (the hidden ranges
    # would otherwise add up to 1).
    assert "dolt" in section and '<td class="text-end">6</td>' not in section
    assert '<td class="text-end">1</td>' not in section


def test_the_officials_results_show_the_number_question(
    login, kommun_editor, survey, number_question
):
    _answer_numbers(number_question, [1, 1, 2, 2, 2])
    client = login(kommun_editor)
    page = client.get(reverse("admin:surveys_survey_results", args=[survey.pk])).content.decode()
    assert f'id="rq-{KEY}"' in page and "Median: 2" in page


def test_a_number_question_costs_the_results_one_query(survey, django_assert_num_queries):
    questions = results.questions_of(survey)
    with django_assert_num_queries(2):  # choice counts, respondents per question
        results.overall(survey, questions=questions)
    Question.objects.create(
        survey=survey,
        section=survey.sections.first(),
        key=KEY,
        kind="number",
        texts={"sv": "Hur många?"},
        number_min=0,
        number_max=9,
    )
    questions = results.questions_of(survey)
    with django_assert_num_queries(3):
        results.overall(survey, questions=questions)


# --- exports --------------------------------------------------------------


def test_the_exports_carry_the_number(survey, number_question):
    _answer_numbers(number_question, [12])
    rows = list(exports.rows(survey))
    column = rows[0].index(KEY)
    assert rows[1][column] == 12
    assert ";12" in "".join(exports.csv_lines(survey)).splitlines()[1]
    sheet = load_workbook(io.BytesIO(b"".join(exports.xlsx_chunks(survey))), read_only=True).active
    assert list(sheet.iter_rows(values_only=True))[1][column] == 12
