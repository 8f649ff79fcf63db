"""Public follow-up pages: the follow-up of one pledge and its printable
yearly report. Same access rule as the pledge page (published only)."""

from django.shortcuts import render
from django.utils import timezone

from followup.selectors import followup_for, public_pledge
from portal.page_cache import cached_public_page


def _context(municipality, period):
    pledge = public_pledge(municipality, period)
    data = followup_for(pledge, today=timezone.localdate())
    return {"municipality": pledge.municipality, "pledge": pledge, "followup": data}


@cached_public_page
def followup(request, municipality, period):
    return render(request, "followup/followup.html", _context(municipality, period))


@cached_public_page
def report(request, municipality, period):
    context = _context(municipality, period)
    context["generated"] = timezone.localdate()
    return render(request, "followup/report.html", context)
