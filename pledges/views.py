from django.shortcuts import get_object_or_404, render

from portal.models import Municipality


def municipality(request, municipality):
    municipality = get_object_or_404(Municipality, slug=municipality)
    return render(request, "pledges/municipality.html", {"municipality": municipality})
