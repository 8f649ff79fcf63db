"""Extension points for apps that build on pledges (e.g. follow-up), so that
pledges never imports them. Providers register in their AppConfig.ready():

- pledge sections: `(request, pledge) -> HTML` (a SafeString, or "" for
  nothing), shown on the pledge page below the pledge. A provider must run
  a fixed number of queries.
- archive outcomes: `(pledges) -> {pledge id: HTML}`, one short outcome line
  per pledge in the archive, computed for the whole list in a fixed number
  of queries.
- feed entries: see `pledges.feeds.register_entry_source`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.http import HttpRequest

from pledges.models import Pledge

PledgeSection = Callable[[HttpRequest, Pledge], str]
ArchiveOutcome = Callable[[list[Pledge]], dict[int, str]]

PLEDGE_SECTIONS: list[PledgeSection] = []
ARCHIVE_OUTCOMES: list[ArchiveOutcome] = []


def register_pledge_section(provider: PledgeSection) -> PledgeSection:
    if provider not in PLEDGE_SECTIONS:
        PLEDGE_SECTIONS.append(provider)
    return provider


def register_archive_outcome(provider: ArchiveOutcome) -> ArchiveOutcome:
    if provider not in ARCHIVE_OUTCOMES:
        ARCHIVE_OUTCOMES.append(provider)
    return provider


def pledge_sections(request: HttpRequest, pledge: Pledge) -> list[str]:
    return [html for provider in PLEDGE_SECTIONS if (html := provider(request, pledge))]


def archive_outcomes(pledges: Iterable[Pledge]) -> dict[int, list[str]]:
    pledges = list(pledges)
    result: dict[int, list[str]] = {}
    if not pledges:
        return result
    for provider in ARCHIVE_OUTCOMES:
        for pledge_id, html in provider(pledges).items():
            if html:
                result.setdefault(pledge_id, []).append(html)
    return result
