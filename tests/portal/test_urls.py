"""The URL patterns' order: the survey routes first (hot path), and every
other route still resolves to its own view."""

import pytest
from django.urls import resolve


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/osthammar/enkat/trygghet-2026/", "surveys:survey"),
        ("/osthammar/enkat/trygghet-2026/tack/", "surveys:thanks"),
        ("/osthammar/enkat/trygghet-2026/resultat/", "surveys:results"),
        ("/", "portal:home"),
        ("/om/", "portal:about"),
        ("/tillganglighet/tack/", "portal:accessibility_thanks"),
        ("/sprak/en/", "portal:language"),
        ("/healthz", "healthz"),
        ("/admin/", "admin:index"),
        ("/admin/surveys/survey/", "admin:surveys_survey_changelist"),
        ("/osthammar/", "pledges:municipality"),
        ("/osthammar/medborgarlofte/2021/", "pledges:detail"),
        ("/osthammar/flode.atom", "pledges:feed"),
    ],
)
def test_each_path_resolves_to_its_own_view(path, name):
    assert resolve(path).view_name == name


def test_the_survey_routes_are_tried_first(settings):
    from importlib import import_module

    first = import_module(settings.ROOT_URLCONF).urlpatterns[0]
    assert first.urlconf_name.__name__ == "surveys.urls"
