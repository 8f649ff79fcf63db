from django.urls import path

from followup import views

app_name = "followup"

urlpatterns = [
    path(
        "<slug:municipality>/medborgarlofte/<slug:period>/uppfoljning/",
        views.followup,
        name="followup",
    ),
    path(
        "<slug:municipality>/medborgarlofte/<slug:period>/uppfoljning/rapport/",
        views.report,
        name="report",
    ),
]
