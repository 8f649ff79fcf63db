"""Public pages: a municipality's current pledge, one pledge, the archive.

Only published pledges are public (`Pledge.objects.published()`); a draft
or a scheduled pledge is a 404 here and a preview for its officials in the
admin (`PledgeAdmin.preview_view`), which renders the same templates.
"""

from django.db.models import F, Prefetch
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string

from pledges import extensions
from pledges.models import Commitment, Pledge
from portal.models import Municipality
from portal.page_cache import cached_public_page
from surveys.models import Survey


def render_pledge_body(pledge: Pledge) -> str:
    """The pledge itself (commitments, actions, adoption, follow-up,
    contacts) as HTML, for the public pages and the officials' preview."""
    full = Pledge.objects.with_content().get(pk=pledge.pk)
    adoptions = sorted(full.valid_adoptions, key=lambda a: (a.side != "kommun", a.adopted_at))
    return render_to_string("pledges/_pledge.html", {"pledge": full, "adoptions": adoptions})


def _municipality(slug: str) -> Municipality:
    return get_object_or_404(Municipality.objects.only("name", "short_name", "slug"), slug=slug)


@cached_public_page
def municipality(request, municipality):
    municipality = _municipality(municipality)
    base = Pledge.objects.for_municipality(municipality).only(
        "municipality",
        "slug",
        "valid_from",
        "valid_to",
        "withdrawn_at",
        "published_at",
        "is_example",
    )
    pledge = base.current().first()
    latest = None
    if pledge is None:
        latest = (
            base.published()
            .order_by(F("withdrawn_at").asc(nulls_first=True), "-valid_from")
            .first()
        )
    for found in (pledge, latest):
        if found is not None:
            found.municipality = municipality  # for get_absolute_url, no query
    context = {
        "municipality": municipality,
        "pledge": pledge,
        "latest": latest,
        "body": render_pledge_body(pledge) if pledge else "",
        "open_surveys": list(Survey.objects.open_now().for_municipality(municipality)),
    }
    return render(request, "pledges/municipality.html", context)


@cached_public_page
def detail(request, municipality, period):
    pledge = get_object_or_404(
        Pledge.objects.published().select_related("municipality"),
        municipality__slug=municipality,
        slug=period,
    )
    context = {
        "municipality": pledge.municipality,
        "pledge": pledge,
        "body": render_pledge_body(pledge),
        "sections": extensions.pledge_sections(request, pledge),
    }
    return render(request, "pledges/pledge_detail.html", context)


@cached_public_page
def archive(request, municipality):
    municipality = _municipality(municipality)
    pledges = (
        Pledge.objects.published()
        .for_municipality(municipality)
        .order_by("-valid_from", "-published_at")
        .only("slug", "valid_from", "valid_to", "published_at", "withdrawn_at", "is_example")
        .prefetch_related(
            Prefetch(
                "commitments",
                queryset=Commitment.objects.order_by("position", "pk").only("pledge", "title"),
            )
        )
    )
    pledges = list(pledges)
    for pledge in pledges:
        pledge.municipality = municipality
    outcomes = extensions.archive_outcomes(pledges)
    for pledge in pledges:
        pledge.outcomes = outcomes.get(pledge.pk, [])
    return render(
        request, "pledges/archive.html", {"municipality": municipality, "pledges": pledges}
    )
