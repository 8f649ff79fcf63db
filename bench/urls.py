from django.urls import path

from bench import views
from portal.urls import handler404, handler500
from portal.urls import urlpatterns as portal_urlpatterns

urlpatterns = [
    path("_bench/floor/", views.floor),
    path("_bench/insert/", views.insert),
    *portal_urlpatterns,
]

__all__ = ["handler404", "handler500", "urlpatterns"]
