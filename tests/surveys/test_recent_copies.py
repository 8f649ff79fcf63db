"""A burst of submissions is handled with the version numbers this process
read in the last few seconds (page_cache.recent_versions), so a
submission does not ask the shared cache for them each time. What a change
made in another process meanwhile could make wrong is decided by the
database at the moment of saving; anything but a saved response is decided
again on current data. Another worker's situation is played here by putting
the version numbers read before the change back into this process' memory."""

from unittest import mock

import pytest
from django.test import override_settings

from portal import page_cache
from surveys import services
from surveys.models import Answer, Choice, Response, Survey
from tests.surveys.conftest import choice, valid_data

pytestmark = pytest.mark.django_db


def _as_another_worker(slug: str, before: tuple) -> None:
    """This process acts as one that read `before` a moment ago."""
    page_cache._RECENT.put(slug, before)


def test_a_burst_of_submissions_reads_the_versions_once(client, survey):
    forms = [valid_data(client, survey) for _ in range(3)]  # the form was shown
    with mock.patch.object(page_cache, "_read_versions", wraps=page_cache._read_versions) as read:
        for data in forms:
            assert client.post(survey.get_absolute_url(), data).status_code == 302
    assert read.call_count == 0
    assert Response.objects.count() == 3


def test_a_survey_closed_meanwhile_saves_nothing(client, survey, closed_survey):
    data = valid_data(client, survey)
    before = page_cache.versions("osthammar")
    survey.closes_at = closed_survey.closes_at
    survey.save()
    _as_another_worker("osthammar", before)
    response = client.post(survey.get_absolute_url(), data)
    assert response.status_code == 403
    assert not Response.objects.exists()


@override_settings(SURVEY_RATE_LIMIT="1/h")
def test_a_survey_turned_to_invitation_mode_meanwhile_asks_for_the_code(client, survey):
    data = valid_data(client, survey)
    before = page_cache.versions("osthammar")
    survey.mode = Survey.Mode.INVITATION
    survey.save()
    _as_another_worker("osthammar", before)
    response = client.post(survey.get_absolute_url(), data)
    # Decided again on the current survey: the code is missing. The
    # submission was counted once for the rate limit, not twice.
    assert response.status_code == 400
    assert 'name="code"' in response.content.decode()
    assert not Response.objects.exists()
    [code] = services.invitations_generate(survey=survey, count=1)
    data = valid_data(client, survey, code=code)
    with override_settings(SURVEY_RATE_LIMIT="2/h"):
        assert client.post(survey.get_absolute_url(), data).status_code == 302
    assert Response.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_choice_removed_meanwhile_gets_the_forms_message(client, survey):
    """In a real transaction, as a worker runs it."""
    data = valid_data(client, survey)
    before = page_cache.versions("osthammar")
    removed = Choice.objects.get(pk=data["q_trygghet_ute_kvall"])
    removed.delete()
    page_cache.invalidate(survey.municipality)  # as the admin does after a change
    _as_another_worker("osthammar", before)
    response = client.post(survey.get_absolute_url(), data)
    assert response.status_code == 400
    assert not Response.objects.exists() and not Answer.objects.exists()
    data["q_trygghet_ute_kvall"] = choice(survey, "trygghet_ute_kvall", "mycket_trygg")
    assert client.post(survey.get_absolute_url(), data).status_code == 302
    assert Response.objects.count() == 1


def test_a_language_switch_and_a_form_page_read_current_versions(client, survey):
    data = valid_data(client, survey)
    del data["send"]
    data["language"] = "en"
    with mock.patch.object(page_cache, "_read_versions", wraps=page_cache._read_versions) as read:
        assert client.post(survey.get_absolute_url(), data).status_code == 200
        assert client.get(survey.get_absolute_url()).status_code == 200
    assert read.call_count == 2


def test_a_refused_submission_without_recent_copies_is_decided_once(client, survey):
    data = valid_data(client, survey, q_kon="999999")  # not a choice of the question
    page_cache.forget_local_copies()
    with mock.patch.object(page_cache, "_read_versions", wraps=page_cache._read_versions) as read:
        assert client.post(survey.get_absolute_url(), data).status_code == 400
    assert read.call_count == 1


def test_a_choice_removed_before_the_version_bump_gets_a_clear_400(client, survey):
    """Removed without bumping the versions (the bump of a change made a
    moment ago elsewhere is still on its way): this process' structure still
    offers the choice, the database refuses the answer, decided again on
    current versions it is refused again - a message, never a 500."""
    data = valid_data(client, survey)
    Choice.objects.filter(pk=data["q_trygghet_ute_kvall"]).delete()
    response = client.post(survey.get_absolute_url(), data)
    assert response.status_code == 400
    assert "fält som inte hör till" in response.content.decode()
    assert not Response.objects.exists() and not Answer.objects.exists()
