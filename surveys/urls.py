from django.urls import path

from surveys import views

app_name = "surveys"

urlpatterns = [
    path("<slug:municipality>/enkat/<slug:slug>/", views.survey_form, name="survey"),
    path("<slug:municipality>/enkat/<slug:slug>/tack/", views.thanks, name="thanks"),
    path("<slug:municipality>/enkat/<slug:slug>/resultat/", views.results_page, name="results"),
]
