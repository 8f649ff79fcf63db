"""A choice removed while a resident had the form open: the answer is
refused with a message next to the question, and nothing is saved."""

import pytest

from surveys.models import Answer, Choice, Response
from tests.surveys.conftest import valid_data

pytestmark = pytest.mark.django_db


def test_a_choice_removed_while_the_form_was_open_gets_a_clear_400(client, survey):
    """The form is read fresh for each submission: the gone choice is not
    valid any more - a message, never a 500."""
    data = valid_data(client, survey)
    Choice.objects.filter(pk=data["q_trygghet_ute_kvall"]).delete()
    response = client.post(survey.get_absolute_url(), data)
    assert response.status_code == 400
    assert "Välj ett av svarsalternativen." in response.content.decode()
    assert not Response.objects.exists() and not Answer.objects.exists()
