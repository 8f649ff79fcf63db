"""Officials build surveys in the admin, within their scope; changes that
would corrupt answers are refused with a clear reason."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from surveys import exports
from surveys.generate import generate_responses
from surveys.models import Choice, Invitation, Question, Survey
from tests.surveys.factories import SurveyFactory

pytestmark = pytest.mark.django_db


def _add_data(municipality, start_from, slug="varen-2027"):
    now = timezone.localtime()
    return {
        "start_from": start_from,
        "municipality": municipality.pk,
        "title": "Trygghetsenkät våren 2027",
        "slug": slug,
        "intro": "Välkommen!",
        "intro_texts": "{}",
        "opens_at_0": (now + timedelta(days=1)).strftime("%Y-%m-%d"),
        "opens_at_1": "08:00:00",
        "closes_at_0": (now + timedelta(days=40)).strftime("%Y-%m-%d"),
        "closes_at_1": "23:59:00",
        "mode": "open",
        "languages": ["sv", "fi"],
    }


def test_an_official_creates_a_survey_from_the_standard_template(
    login, kommun_editor, osthammar, districts
):
    client = login(kommun_editor)
    response = client.post(reverse("admin:surveys_survey_add"), _add_data(osthammar, "template"))
    assert response.status_code == 302, response.content.decode()[:3000]
    survey = Survey.objects.get(slug="varen-2027")
    assert survey.languages == ["sv", "fi"]
    keys = set(survey.questions.values_list("key", flat=True))
    assert {
        "trygghet_ute_kvall",
        "oro_bostadsinbrott",
        "problem_belysning",
        "fortroende_polisen",
        "kon",
        "alder",
        "omrade",
        "forslag",
    } <= keys
    assert list(survey.sections.values_list("key", flat=True)) == [
        "a_trygghet",
        "b_platser",
        "c_oro",
        "d_problem",
        "e_utsatthet",
        "f_fortroende",
        "g_om_dig",
        "h_forslag",
    ]
    for q in survey.questions.prefetch_related("choices"):
        assert set(q.texts) == {"sv", "en", "fi"}
        for c in q.choices.all():
            assert c.texts["sv"] and c.texts["fi"]
    districts_q = survey.questions.get(key="omrade")
    assert [c.text("sv") for c in districts_q.choices.all()][:3] == ["Östhammar", "Gimo", "Alunda"]
    assert survey.history.count() == 1


def test_a_copy_keeps_the_keys_so_years_compare(login, kommun_editor, survey):
    client = login(kommun_editor)
    response = client.post(
        reverse("admin:surveys_survey_add"), _add_data(survey.municipality, str(survey.pk))
    )
    assert response.status_code == 302
    copy = Survey.objects.get(slug="varen-2027")
    assert copy.copied_from == survey
    assert list(copy.questions.values_list("key", "kind")) == list(
        survey.questions.values_list("key", "kind")
    )
    assert set(
        Choice.objects.filter(question__survey=copy).values_list("question__key", "key")
    ) == set(Choice.objects.filter(question__survey=survey).values_list("question__key", "key"))


def test_an_official_cannot_create_a_survey_for_another_municipality(
    login, other_kommun_editor, osthammar, tierp
):
    client = login(other_kommun_editor)
    response = client.post(reverse("admin:surveys_survey_add"), _add_data(osthammar, "empty"))
    assert response.status_code == 200  # the form refuses the municipality
    assert not Survey.objects.exists()


def test_officials_outside_the_municipality_see_nothing(login, other_kommun_editor, survey):
    client = login(other_kommun_editor)
    assert client.get(reverse("admin:surveys_survey_change", args=[survey.pk])).status_code == 302
    for name in ("results", "export_csv", "export_xlsx", "invitations"):
        assert (
            client.get(reverse(f"admin:surveys_survey_{name}", args=[survey.pk])).status_code == 404
        )
    page = client.get(reverse("admin:surveys_survey_changelist")).content.decode()
    assert survey.title not in page


def _question_change(q, choices, **fields) -> dict:
    """The question's change form as posted, its choices inline; `fields`
    override the question's own values."""
    data = {
        "survey": q.survey_id,
        "section": q.section_id,
        "group": "",
        "position": q.position,
        "key": q.key,
        "kind": q.kind,
        "texts": '{"sv": "Fråga"}',
        "required": "on",
        "max_length": 1000,
        "choices-TOTAL_FORMS": len(choices),
        "choices-INITIAL_FORMS": len(choices),
        "choices-MIN_NUM_FORMS": 0,
        "choices-MAX_NUM_FORMS": 1000,
        **fields,
    }
    for i, c in enumerate(choices):
        data |= {
            f"choices-{i}-id": c.pk,
            f"choices-{i}-question": q.pk,
            f"choices-{i}-position": i,
            f"choices-{i}-key": c.key,
            f"choices-{i}-texts": '{"sv": "x"}',
        }
    return data


def test_changing_an_answered_key_is_refused(login, kommun_editor, survey):
    generate_responses(survey, 10, seed=1)
    q = Question.objects.get(survey=survey, key="trygghet_ute_kvall")
    client = login(kommun_editor)
    url = reverse("admin:surveys_question_change", args=[q.pk])
    choices = list(q.choices.all())
    data = _question_change(q, choices, position=0, key="nytt_namn", kind="single")
    response = client.post(url, data)
    assert response.status_code == 200
    assert "Nyckeln kan inte ändras" in response.content.decode()
    # Removing an answered choice is refused too.
    data["key"] = "trygghet_ute_kvall"
    answered = next(i for i, c in enumerate(choices) if c.answers.exists())
    data[f"choices-{answered}-DELETE"] = "on"
    response = client.post(url, data)
    assert response.status_code == 200
    assert "kan inte tas bort" in response.content.decode()
    assert Choice.objects.filter(pk=choices[answered].pk).exists()
    q.refresh_from_db()
    assert q.key == "trygghet_ute_kvall"


def test_results_view_for_officials_lists_free_text(login, kommun_editor, survey):
    generate_responses(survey, 60, seed=4)
    client = login(kommun_editor)
    page = client.get(reverse("admin:surveys_survey_results", args=[survey.pk])).content.decode()
    assert "genererat exempel" in page  # free text is shown to officials
    assert "Svar per dag" in page


def test_exports_have_one_row_per_response(login, kommun_editor, survey):
    generate_responses(survey, 12, seed=5)
    client = login(kommun_editor)
    response = client.get(reverse("admin:surveys_survey_export_csv", args=[survey.pk]))
    assert response.streaming
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body), delimiter=";"))
    assert len(rows) == 13
    header = rows[0]
    assert header[:4] == ["nr", "datum", "sprak", "kanal"]
    assert "trygghet_ute_kvall" in header and "otrygg_plats_varfor.annat.text" in header
    assert [r[0] for r in rows[1:]] == [str(i) for i in range(1, 13)]
    xlsx = client.get(reverse("admin:surveys_survey_export_xlsx", args=[survey.pk]))
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).active
    assert sheet.max_row == 13 and sheet.cell(1, 5).value == header[4]


def test_invitation_codes_are_downloaded_once_and_stored_hashed(login, kommun_editor, survey):
    survey.mode = Survey.Mode.INVITATION
    survey.save()
    client = login(kommun_editor)
    response = client.post(
        reverse("admin:surveys_survey_invitations", args=[survey.pk]), {"count": 25}
    )
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    codes = [r[0] for r in rows[1:]]
    assert len(set(codes)) == 25
    stored = repr(list(Invitation.objects.values_list()))
    assert not any(code in stored or code.replace("-", "") in stored for code in codes)
    bad = client.post(reverse("admin:surveys_survey_invitations", args=[survey.pk]), {"count": "x"})
    assert bad.status_code == 400 and "Ange ett heltal" in bad.content.decode()


def test_the_changelist_runs_a_fixed_number_of_queries(
    login, kommun_editor, osthammar, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login(kommun_editor)
    SurveyFactory(municipality=osthammar)
    url = reverse("admin:surveys_survey_changelist")
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for _ in range(19):
        SurveyFactory(municipality=osthammar)
    with django_assert_num_queries(len(one.captured_queries)):
        client.get(url)


def test_admin_pages_render_for_an_official(login, kommun_editor, survey):
    generate_responses(survey, 8, seed=6)
    client = login(kommun_editor)
    question = survey.questions.get(key="otrygg_plats_varfor")
    for url in (
        reverse("admin:surveys_survey_add"),
        reverse("admin:surveys_survey_change", args=[survey.pk]),
        reverse("admin:surveys_question_changelist"),
        reverse("admin:surveys_question_change", args=[question.pk]),
        reverse("admin:surveys_survey_results", args=[survey.pk]) + "?fraga=kon",
        reverse("admin:surveys_survey_invitations", args=[survey.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url


def test_the_results_view_compares_with_an_earlier_survey(
    login, kommun_editor, survey, closed_survey
):
    generate_responses(closed_survey, 30, seed=7)
    generate_responses(survey, 30, seed=8)
    client = login(kommun_editor)
    page = client.get(reverse("admin:surveys_survey_results", args=[survey.pk])).content.decode()
    assert "Jämförelse med en tidigare enkät" in page
    assert closed_survey.title in page


@pytest.mark.parametrize(
    ("kind", "content_type"),
    [("csv", "text/csv; charset=utf-8"), ("xlsx", exports.XLSX_CONTENT_TYPE)],
)
def test_exports_stream_in_a_fixed_number_of_queries(
    login, kommun_editor, survey, django_assert_num_queries, kind, content_type
):
    client = login(kommun_editor)
    url = reverse(f"admin:surveys_survey_export_{kind}", args=[survey.pk])

    def download():
        response = client.get(url)
        assert response.streaming
        assert response["Content-Type"] == content_type
        assert response["Content-Disposition"] == f'attachment; filename="enkat-hosten-2026.{kind}"'
        return b"".join(response.streaming_content)

    generate_responses(survey, 3, seed=1)
    download()  # warm up the session and the user's roles
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        download()
    generate_responses(survey, 40, seed=2)
    with django_assert_num_queries(len(few)):
        download()


def test_a_change_the_database_refuses_is_reported_not_a_server_error(login, site_admin, survey):
    from unittest import mock

    from django.db import IntegrityError
    from django.db.models.deletion import Collector

    from portal.audit import AuditEvent

    q = Question.objects.get(survey=survey, key="forslag")
    client = login(site_admin)
    url = reverse("admin:surveys_question_delete", args=[q.pk])
    events = AuditEvent.objects.count()
    refused = IntegrityError("surveys_question has answers and cannot be deleted")
    with mock.patch.object(Collector, "delete", side_effect=refused):
        response = client.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert response["Location"] == url
    page = client.get(url).content.decode()
    assert "Inget sparades" in page
    assert Question.objects.filter(pk=q.pk).exists()
    assert AuditEvent.objects.count() == events
    # The same through the list's "delete selected" action, which writes
    # its audit events before deleting, outside any transaction of Django's:
    # they go with the refused deletion.
    changelist = reverse("admin:surveys_question_changelist")
    action = {"action": "delete_selected", "_selected_action": [q.pk], "post": "yes"}
    with mock.patch.object(Collector, "delete", side_effect=refused):
        response = client.post(changelist, action)
    assert response.status_code == 302
    assert "Inget sparades" in client.get(changelist).content.decode()
    assert Question.objects.filter(pk=q.pk).exists()
    assert AuditEvent.objects.count() == events


def test_a_choice_answered_while_its_deletion_runs_stays(login, site_admin, survey):
    from django.db.models.signals import pre_delete

    from surveys.models import Answer, Response

    q = Question.objects.get(survey=survey, key="trygghet_ute_kvall")
    choices = list(q.choices.all())
    doomed = choices[-1]

    def answer_comes_in(sender, instance, **kwargs):
        # A submission saving an answer to the choice after the form found
        # it unanswered: the trigger sees it and refuses the deletion.
        if instance.pk == doomed.pk:
            response = Response.objects.create(survey=survey, date="2026-11-26", language="sv")
            Answer.objects.create(response=response, question=q, choice=instance)

    client = login(site_admin)
    url = reverse("admin:surveys_question_change", args=[q.pk])
    data = _question_change(q, choices)
    data[f"choices-{len(choices) - 1}-DELETE"] = "on"
    pre_delete.connect(answer_comes_in, sender=Choice)
    try:
        response = client.post(url, data)
    finally:
        pre_delete.disconnect(answer_comes_in, sender=Choice)
    assert response.status_code == 302
    assert response["Location"] == url
    assert "Inget sparades" in client.get(url).content.decode()
    assert Choice.objects.filter(pk=doomed.pk).exists()
    q.refresh_from_db()
    assert q.texts != {"sv": "Fråga"}  # nothing of the change was saved


def test_list_filters_name_only_what_the_official_may_see(login, kommun_editor, survey, tierp):
    """The question list's "survey" filter and the survey list's
    municipality filter list only the official's own (issue 19 §5)."""
    from django.utils import timezone

    from surveys.models import Survey

    hidden = Survey.objects.create(
        municipality=tierp,
        title="Tierps hemliga utkast",
        slug="utkast",
        opens_at=timezone.now(),
        closes_at=timezone.now() + timezone.timedelta(days=30),
        languages=["sv"],
    )
    client = login(kommun_editor)
    for url in ("/admin/surveys/question/", "/admin/surveys/survey/"):
        html = client.get(url).content.decode()
        assert hidden.title not in html and "Tierps kommun" not in html, url
    assert survey.title in client.get("/admin/surveys/question/").content.decode()
