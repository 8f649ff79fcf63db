"""Answering the survey: exactly once, anonymous, and bad input refused
with a clear message and nothing saved."""

from collections import Counter
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.core import signing
from django.test import Client, override_settings
from django.utils import timezone

from surveys import security
from surveys.models import Answer, Invitation, Response, SubmissionNonce, Survey
from tests.surveys.conftest import choice, get_token, save_queries, valid_data

pytestmark = pytest.mark.django_db


def test_it_saves_a_response_with_all_its_answers(client, survey):
    response = client.post(survey.get_absolute_url(), valid_data(client, survey))
    assert response.status_code == 302
    assert response["Location"].endswith("/osthammar/enkat/hosten-2026/tack/")
    saved = Response.objects.get()
    assert saved.survey == survey and saved.language == "sv" and saved.channel == "web"
    assert saved.date == timezone.localdate()
    keys = set(saved.answers.values_list("question__key", flat=True))
    assert keys == {"trygghet_ute_kvall", "kon", "forslag"}
    thanks = client.get(response["Location"])
    assert "Tack för dina svar" in thanks.content.decode()


def test_it_stores_nothing_that_identifies_the_respondent(client, survey):
    data = valid_data(client, survey)
    client.post(
        survey.get_absolute_url(),
        data,
        REMOTE_ADDR="203.0.113.77",
        HTTP_USER_AGENT="Hemlig-Webblasare/1.0",
    )
    # The response row has these columns and nothing else.
    assert [f.name for f in Response._meta.concrete_fields] == [
        "id",
        "survey",
        "date",
        "language",
        "channel",
    ]
    assert Response._meta.get_field("date").get_internal_type() == "DateField"
    assert [f.name for f in Answer._meta.concrete_fields] == [
        "id",
        "response",
        "question",
        "choice",
        "text",
        "number",
        "district",
    ]
    # No row anywhere in the survey tables holds the address, the browser or a cookie.
    cookies = {c.value for c in client.cookies.values()}
    stored = [
        *Response.objects.values_list(),
        *Answer.objects.values_list(),
        *SubmissionNonce.objects.values_list(),
    ]
    text = repr(stored)
    assert "203.0.113.77" not in text and "Hemlig" not in text
    assert not any(value and value in text for value in cookies)
    # The nonce row is not linked to the response and has no time.
    assert [f.name for f in SubmissionNonce._meta.concrete_fields] == ["id", "survey", "digest"]
    assert not hasattr(Response, "history")


def test_a_form_sent_twice_creates_one_response(client, survey):
    data = valid_data(client, survey)
    first = client.post(survey.get_absolute_url(), data)
    second = client.post(survey.get_absolute_url(), data)
    assert first.status_code == second.status_code == 302
    assert second["Location"].endswith("tack/?redan=1")
    assert Response.objects.count() == 1
    assert Answer.objects.count() == 3
    page = client.get(second["Location"]).content.decode()
    assert "redan tagit emot" in page


@pytest.mark.parametrize(
    "token",
    [
        "",
        "forged",
        signing.dumps({"s": 999999, "n": "abc", "d": "2026-01-01"}, salt=security.TOKEN_SALT),
    ],
)
def test_it_refuses_a_forged_or_missing_token(client, survey, token):
    data = valid_data(client, survey, token=token)
    response = client.post(survey.get_absolute_url(), data)
    assert response.status_code == 400
    assert (
        "Ladda om sidan" in response.content.decode()
        or "ladda om sidan" in response.content.decode()
    )
    assert Response.objects.count() == 0


def test_it_refuses_a_token_older_than_the_survey(client, survey, monkeypatch):
    data = valid_data(client, survey)
    real_time = __import__("time").time
    monkeypatch.setattr("django.core.signing.time.time", lambda: real_time() + 400 * 86400)
    response = client.post(survey.get_absolute_url(), data)
    assert response.status_code == 400
    assert Response.objects.count() == 0


def test_it_rejects_a_closed_survey(client, closed_survey):
    page = client.get(closed_survey.get_absolute_url())
    assert page.status_code == 200
    assert "Enkäten är stängd" in page.content.decode()
    token = security.token_issue(closed_survey)
    response = client.post(
        closed_survey.get_absolute_url(),
        {
            "token": token,
            "send": "1",
            "q_trygghet_ute_kvall": choice(closed_survey, "trygghet_ute_kvall", "ganska_trygg"),
        },
    )
    assert response.status_code == 403
    assert "sparades inte" in response.content.decode()
    assert Response.objects.count() == 0


def test_the_page_says_when_an_upcoming_survey_opens(client, survey):
    survey.opens_at = timezone.now() + timedelta(days=3)
    survey.save()
    page = client.get(survey.get_absolute_url()).content.decode()
    assert "har inte öppnat ännu" in page
    assert f"{survey.opens_at.astimezone().day}" in page


def test_a_survey_closing_between_render_and_post_saves_nothing(client, survey):
    data = valid_data(client, survey)
    Survey.objects.filter(pk=survey.pk).update(closes_at=timezone.now() - timedelta(seconds=1))
    response = client.post(survey.get_absolute_url(), data)
    assert response.status_code == 403
    assert Response.objects.count() == 0


def test_missing_required_answers_are_listed_in_swedish(client, survey):
    data = valid_data(client, survey)
    del data["q_trygghet_ute_kvall"]
    response = client.post(survey.get_absolute_url(), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="error-summary"' in page
    assert 'href="#id_q_trygghet_ute_kvall_0"' in page
    assert "Svara på frågan." in page
    # What was already answered is still there.
    assert "Bättre belysning vid busshållplatsen." in page
    assert f'value="{data["q_kon"]}"  id="id_q_kon_0" checked' in page or "checked" in page
    assert Response.objects.count() == 0


@pytest.mark.parametrize(
    ("language", "required", "too_long"),
    [
        ("sv", "Svara på frågan.", "Svaret är för långt (högst 1000 tecken)."),
        ("en", "Please answer the question.", "The answer is too long (at most 1000 characters)."),
        ("fi", "Vastaa kysymykseen.", "Vastaus on liian pitkä (enintään 1000 merkkiä)."),
    ],
)
def test_errors_are_given_in_the_chosen_language(client, survey, language, required, too_long):
    data = valid_data(client, survey, form_language=language, q_forslag="x" * 1001)
    del data["q_trygghet_ute_kvall"]
    response = client.post(survey.get_absolute_url(), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="error-summary"' in page
    assert required in page and too_long in page
    assert f'lang="{language}"' in page
    assert Response.objects.count() == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("q_trygghet_ute_kvall", "abc"),  # wrong type
        ("q_trygghet_ute_kvall", "99999999"),  # unknown choice id
        ("q_forslag", "x" * 5000),  # oversized text
        ("q_forslag", "nul\x00byte"),  # control characters
        ("q_otrygg_plats", "not-a-district"),
    ],
)
def test_tampered_values_get_a_clear_400_and_nothing_is_saved(client, survey, field, value):
    response = client.post(survey.get_absolute_url(), valid_data(client, survey, **{field: value}))
    assert response.status_code == 400
    assert 'id="error-summary"' in response.content.decode()
    assert Response.objects.count() == Answer.objects.count() == 0


def test_a_choice_of_another_question_is_refused(client, survey):
    data = valid_data(client, survey, q_trygghet_ute_kvall=choice(survey, "kon", "man"))
    response = client.post(survey.get_absolute_url(), data)
    assert response.status_code == 400
    assert "Välj ett av svarsalternativen." in response.content.decode()
    assert Response.objects.count() == 0


def test_an_unknown_question_is_refused(client, survey):
    response = client.post(survey.get_absolute_url(), valid_data(client, survey, q_finns_inte="1"))
    assert response.status_code == 400
    assert "fält som inte hör till" in response.content.decode()
    assert Response.objects.count() == 0


def test_other_text_is_saved_with_its_choice_and_required_when_ticked(client, survey):
    other = choice(survey, "otrygg_plats_varfor", "annat")
    data = valid_data(client, survey)
    data["q_otrygg_plats_varfor"] = [other]
    response = client.post(survey.get_absolute_url(), data)
    assert response.status_code == 400
    assert "Skriv vad du menar med" in response.content.decode()
    data["q_otrygg_plats_varfor__annat"] = "Mörk gångtunnel"
    response = client.post(survey.get_absolute_url(), data)
    assert response.status_code == 302
    answer = Answer.objects.get(question__key="otrygg_plats_varfor")
    assert answer.choice_id == int(other) and answer.text == "Mörk gångtunnel"


def test_a_box_sent_twice_is_one_answer(client, survey):
    other = choice(survey, "otrygg_plats_varfor", "annat")
    dark = choice(survey, "otrygg_plats_varfor", "dalig_belysning")
    data = valid_data(client, survey)
    data["q_otrygg_plats_varfor"] = [dark, other, dark, other]
    data["q_otrygg_plats_varfor__annat"] = "Mörk gångtunnel"
    assert client.post(survey.get_absolute_url(), data).status_code == 302
    answers = Answer.objects.filter(question__key="otrygg_plats_varfor").order_by(
        "choice__position"
    )
    assert [(a.choice_id, a.text) for a in answers] == [
        (int(dark), None),
        (int(other), "Mörk gångtunnel"),
    ]


def test_a_place_is_saved_with_district_and_description(client, survey, districts):
    data = valid_data(client, survey, q_otrygg_plats=str(districts[1].pk))
    data["q_otrygg_plats__text"] = "Stationen på kvällen"
    assert client.post(survey.get_absolute_url(), data).status_code == 302
    answer = Answer.objects.get(question__key="otrygg_plats")
    assert answer.district == districts[1] and answer.text == "Stationen på kvällen"


def test_the_honeypot_turns_bots_away(client, survey):
    response = client.post(
        survey.get_absolute_url(), valid_data(client, survey, website="http://spam")
    )
    assert response.status_code == 400
    assert Response.objects.count() == 0


@override_settings(SURVEY_RATE_LIMIT="2/h")
def test_the_rate_limit_answers_429_and_saves_nothing(client, survey):
    for _ in range(2):
        assert client.post(survey.get_absolute_url(), valid_data(client, survey)).status_code == 302
    response = client.post(survey.get_absolute_url(), valid_data(client, survey))
    assert response.status_code == 429
    assert "För många svar" in response.content.decode()
    assert Response.objects.count() == 2
    # Another client is not affected.
    other = client.post(
        survey.get_absolute_url(), valid_data(client, survey), REMOTE_ADDR="198.51.100.1"
    )
    assert other.status_code == 302


def test_the_language_switch_keeps_the_answers_and_saves_nothing(client, survey):
    data = valid_data(client, survey)
    del data["send"]
    data["language"] = "fi"
    response = client.post(survey.get_absolute_url(), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Kuinka turvalliseksi tai turvattomaksi" in page
    assert "Bättre belysning vid busshållplatsen." in page
    assert f'value="{data["q_trygghet_ute_kvall"]}"' in page and "checked" in page
    assert 'id="error-summary"' not in page
    assert Response.objects.count() == 0
    # Sending from the Finnish form stores the language.
    data = {**data, "send": "1", "form_language": "fi"}
    del data["language"]
    assert client.post(survey.get_absolute_url(), data).status_code == 302
    assert Response.objects.get().language == "fi"


def test_submitting_runs_the_same_number_of_queries_whatever_the_number_of_questions(
    client, survey, small_survey, django_assert_max_num_queries, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count(s):
        data = valid_data(client, s)
        with CaptureQueriesContext(connection) as ctx:
            assert client.post(s.get_absolute_url(), data).status_code == 302
        return len(ctx.captured_queries)

    small, large = count(small_survey), count(survey)
    assert small == large
    # The survey, its questions, choices and districts, then the save.
    data = valid_data(client, small_survey)
    with django_assert_num_queries(4 + save_queries()):
        client.post(small_survey.get_absolute_url(), data)


# --- invitation mode ------------------------------------------------------


@pytest.fixture
def invitation_survey(survey):
    survey.mode = Survey.Mode.INVITATION
    survey.save()
    return survey


def test_an_invitation_code_works_once(client, invitation_survey):
    from surveys import services

    [code] = services.invitations_generate(survey=invitation_survey, count=1)
    assert not Invitation.objects.filter(code_hash__icontains=code.replace("-", "")).exists()
    assert code not in repr(list(Invitation.objects.values_list()))
    first = client.post(
        invitation_survey.get_absolute_url(),
        valid_data(client, invitation_survey, code=code.lower()),
    )
    assert first.status_code == 302
    again = client.post(
        invitation_survey.get_absolute_url(), valid_data(client, invitation_survey, code=code)
    )
    assert again.status_code == 400
    assert "redan använts" in again.content.decode()
    assert Response.objects.count() == 1
    assert Invitation.objects.get().used is True
    # The code is not linked to the response it allowed.
    assert [f.name for f in Invitation._meta.concrete_fields] == [
        "id",
        "survey",
        "code_hash",
        "used",
    ]


def test_an_unknown_code_saves_nothing(client, invitation_survey):
    response = client.post(
        invitation_survey.get_absolute_url(),
        valid_data(client, invitation_survey, code="AAAAA-BBBBB"),
    )
    assert response.status_code == 400
    assert Response.objects.count() == 0 and SubmissionNonce.objects.count() == 0


def test_a_code_used_after_the_form_was_shown_gets_the_message(client, invitation_survey):
    """The save itself checks the code (surveys.services._save):
    one used in the meantime, e.g. by another tab, saves nothing."""
    from surveys import services

    [code] = services.invitations_generate(survey=invitation_survey, count=1)
    data = valid_data(client, invitation_survey, code=code)
    Invitation.objects.update(used=True)
    response = client.post(invitation_survey.get_absolute_url(), data)
    assert response.status_code == 400
    assert "Koden är okänd eller har redan använts." in response.content.decode()
    assert Response.objects.count() == 0 and SubmissionNonce.objects.count() == 0


def test_get_token_helper_returns_a_fresh_token_each_time(client, survey):
    assert get_token(client, survey) != get_token(client, survey)


@override_settings(SURVEY_RATE_LIMIT="1/h")
def test_the_rate_limit_uses_remote_addr_unless_told_to_trust_the_proxy(client, survey):
    url = survey.get_absolute_url()
    first = client.post(url, valid_data(client, survey), HTTP_X_FORWARDED_FOR="192.0.2.1")
    assert first.status_code == 302
    # A forged X-Forwarded-For does not escape the limit by default.
    spoofed = client.post(url, valid_data(client, survey), HTTP_X_FORWARDED_FOR="192.0.2.2")
    assert spoofed.status_code == 429
    with override_settings(PORTAL_TRUSTED_PROXY_COUNT=1):
        behind_proxy = client.post(
            url, valid_data(client, survey), HTTP_X_FORWARDED_FOR="192.0.2.3"
        )
    assert behind_proxy.status_code == 302


def test_generated_responses_are_deterministic_and_bulk_inserted(
    survey, django_assert_max_num_queries
):
    from surveys.generate import generate_responses

    with django_assert_max_num_queries(12):
        assert generate_responses(survey, 150, seed=42) == 150
    # Compared as a whole: the ids are random (surveys/anonymity.py), the contents are not.
    fields = ("response__date", "response__language", "question__key", "choice__key", "text")
    first = Counter(Answer.objects.values_list(*fields))
    Answer.objects.all().delete()
    Response.objects.all().delete()
    generate_responses(survey, 150, seed=42)
    assert Counter(Answer.objects.values_list(*fields)) == first


def test_the_service_saves_a_nonce_once(survey):
    from surveys import services
    from surveys.services import AnswerData, Submission

    token = security.token_read(security.token_issue(survey), survey)
    q = survey.questions.get(key="trygghet_ute_kvall")
    submission = Submission(
        language="sv", answers=[AnswerData(q.pk, choice_id=q.choices.first().pk)]
    )
    assert services.response_submit(survey=survey, token=token, submission=submission) is True
    assert services.response_submit(survey=survey, token=token, submission=submission) is False
    assert Response.objects.count() == 1 and Answer.objects.count() == 1


def test_a_survey_saved_anywhere_shows_at_once_on_its_form(client, survey):
    """Saving the survey (admin, service or shell) shows at once."""
    url = survey.get_absolute_url()
    assert survey.title in client.get(url).content.decode()
    survey.title = "Trygghetsenkät hösten 2026, förlängd"
    survey.closes_at = timezone.now() - timedelta(seconds=1)
    survey.save()
    page = client.get(url).content.decode()
    assert "Trygghetsenkät hösten 2026, förlängd" in page
    assert 'name="token"' not in page  # closed: no form


def test_the_language_switch_reads_the_survey_and_saves_nothing(
    client, survey, django_assert_num_queries
):
    data = valid_data(client, survey)
    del data["send"]
    data["language"] = "en"
    with django_assert_num_queries(4):  # survey, questions, choices, districts
        assert client.post(survey.get_absolute_url(), data).status_code == 200
    assert not Response.objects.exists()


def test_a_lost_database_is_the_friendly_503_and_nothing_is_saved(client, survey, monkeypatch):
    from django.db import OperationalError

    from surveys import services

    data = valid_data(client, survey)

    def lost(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(services, "response_submit", lost)
    response = Client(raise_request_exception=False).post(survey.get_absolute_url(), data)
    assert response.status_code == 503
    assert "försök igen" in response.content.decode().lower()
    assert not Response.objects.exists()


def test_a_survey_is_found_only_under_its_own_municipality(client, survey):
    """A form posted to another municipality's address (or an unknown
    survey) is a 404 and stores nothing."""
    from tests.factories import MunicipalityFactory

    other = MunicipalityFactory(slug="tierp", name="Tierps kommun")
    data = valid_data(client, survey)  # the form was shown: the survey is remembered
    wrong = survey.get_absolute_url().replace("/osthammar/", f"/{other.slug}/")
    assert client.get(wrong).status_code == 404
    assert client.post(wrong, data).status_code == 404
    assert client.post("/osthammar/enkat/finns-inte/", data).status_code == 404
    assert Response.objects.count() == 0
    assert client.post(survey.get_absolute_url(), data).status_code == 302


def test_the_form_and_a_submission_are_never_cached(client, survey):
    for response in (
        client.get(survey.get_absolute_url()),
        client.post(survey.get_absolute_url(), valid_data(client, survey)),
    ):
        assert (
            response["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"
        )
        assert "Expires" in response


def test_a_form_posted_as_a_browser_posts_it_is_checked_and_saved_with_its_text(survey):
    """Browsers send the form urlencoded (the test client's default is
    multipart): parsed by Django, CSRF-checked, saved intact."""
    browser = Client(enforce_csrf_checks=True)
    text = "Mörkt i 100% av gångtunneln + ingen belysning & öde; ännu värre ?kväll="
    district = survey.municipality.districts.first()
    data = valid_data(
        browser,
        survey,
        q_forslag=text,
        q_otrygg_plats=str(district.pk),
        q_otrygg_plats__text="Vid torget",  # spaces only: sent as "+"
    )
    body = urlencode(data)
    url = survey.get_absolute_url()
    refused = browser.post(url, body, content_type="application/x-www-form-urlencoded")
    assert refused.status_code == 403  # no CSRF token in the form
    assert Response.objects.count() == 0
    data["csrfmiddlewaretoken"] = browser.cookies["csrftoken"].value
    response = browser.post(url, urlencode(data), content_type="application/x-www-form-urlencoded")
    assert response.status_code == 302
    assert Answer.objects.get(question__key="forslag").text == text
    place = Answer.objects.get(question__key="otrygg_plats")
    assert (place.district, place.text) == (district, "Vid torget")
