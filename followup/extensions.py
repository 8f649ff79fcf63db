"""What follow-up adds to the pledges app's pages and feed (registered in
FollowupConfig.ready(); pledges does not import followup)."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _

from followup.models import ActionReport
from followup.selectors import summaries
from pledges.feeds import FEED_LENGTH, FeedEntry


def _url(pledge, name="followup:followup") -> str:
    return reverse(name, kwargs={"municipality": pledge.municipality.slug, "period": pledge.slug})


def pledge_section(request, pledge) -> str:
    """The short follow-up summary on the pledge page (one query)."""
    summary = summaries([pledge.pk]).get(pledge.pk)
    if summary is None:
        return ""
    return render_to_string(
        "followup/_summary.html", {"pledge": pledge, "summary": summary, "url": _url(pledge)}
    )


def archive_outcome(pledges) -> dict[int, str]:
    """“N av M åtgärder genomförda” per pledge in the archive (one query)."""
    found = summaries([p.pk for p in pledges])
    result = {}
    for pledge in pledges:
        summary = found.get(pledge.pk)
        if summary is None:
            continue
        result[pledge.pk] = render_to_string(
            "followup/_outcome.html", {"pledge": pledge, "summary": summary, "url": _url(pledge)}
        )
    return result


def feed_entries(municipality) -> list[FeedEntry]:
    """New public reports of the municipality's public pledges."""
    reports = (
        ActionReport.objects.public()
        .of_public_pledges()
        .filter(action__commitment__pledge__municipality=municipality)
        .select_related("action__commitment__pledge")
        .order_by("-created", "-pk")
    )[:FEED_LENGTH]
    entries = []
    for report in reports:
        pledge = report.action.commitment.pledge
        pledge.municipality = municipality
        entries.append(
            FeedEntry(
                date=report.created,
                title=_("Status report: %(action)s – %(status)s")
                % {"action": report.action.title, "status": report.get_status_display()},
                link=_url(pledge) + f"#atgard-{report.action_id}",
                description=(
                    _("Citizen pledge %(period)s, report of %(date)s.")
                    % {"period": pledge.period_display, "date": report.date.isoformat()}
                ),
            )
        )
    return entries
