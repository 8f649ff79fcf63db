from django.urls import path

from pledges import views

app_name = "pledges"

urlpatterns = [
    path("<slug:municipality>/", views.municipality, name="municipality"),
]
