from django.urls import path

from pledges import views
from pledges.feeds import MunicipalityFeed

app_name = "pledges"

urlpatterns = [
    path("<slug:municipality>/", views.municipality, name="municipality"),
    path("<slug:municipality>/medborgarlofte/", views.archive, name="archive"),
    path("<slug:municipality>/medborgarlofte/<slug:period>/", views.detail, name="detail"),
    path("<slug:municipality>/flode.atom", MunicipalityFeed(), name="feed"),
]
