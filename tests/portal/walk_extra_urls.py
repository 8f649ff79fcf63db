"""The project's URLs plus one the walk does not know (for the test that
proves the walk refuses unknown parameters)."""

from django.http import HttpResponse
from django.urls import path

from portal.urls import handler404, handler500  # noqa: F401
from portal.urls import urlpatterns as project_patterns

urlpatterns = [
    path("okand/<int:hemlig_id>/", lambda request, hemlig_id: HttpResponse("")),
    *project_patterns,
]
