"""A change whose content version has not reached this process yet: the
structure it keeps still offers what is gone, and the database refuses it."""

import pytest

from surveys.models import Answer, Choice, Response
from tests.surveys.conftest import valid_data

pytestmark = pytest.mark.django_db


def test_a_choice_removed_before_the_version_bump_gets_a_clear_400(client, survey):
    """Removed without a new content version (the bump of a change made a
    moment ago elsewhere is still on its way): this process' structure still
    offers the choice, the database refuses the answer - a message, never a
    500."""
    data = valid_data(client, survey)
    Choice.objects.filter(pk=data["q_trygghet_ute_kvall"]).delete()
    response = client.post(survey.get_absolute_url(), data)
    assert response.status_code == 400
    assert "fält som inte hör till" in response.content.decode()
    assert not Response.objects.exists() and not Answer.objects.exists()
