"""The Atom feed per municipality.

Items come from a list of entry sources, each a function
`(municipality) -> iterable of FeedEntry`; the pledges app announces its
published (and withdrawn) pledges, and other apps (e.g. follow-up reports)
add their own source with `register_entry_source`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _

from pledges.models import Pledge
from portal.models import Municipality

FEED_LENGTH = 30


@dataclass(frozen=True)
class FeedEntry:
    date: datetime
    title: str
    link: str
    description: str


EntrySource = Callable[[Municipality], Iterable[FeedEntry]]
ENTRY_SOURCES: list[EntrySource] = []


def register_entry_source(source: EntrySource) -> EntrySource:
    if source not in ENTRY_SOURCES:
        ENTRY_SOURCES.append(source)
    return source


@register_entry_source
def pledge_entries(municipality: Municipality) -> list[FeedEntry]:
    pledges = (
        Pledge.objects.published()
        .for_municipality(municipality)
        .order_by("-published_at")
        .only("slug", "valid_from", "valid_to", "published_at", "withdrawn_at", "withdrawal_reason")
    )[:FEED_LENGTH]
    entries = []
    for pledge in pledges:
        pledge.municipality = municipality
        link = pledge.get_absolute_url()
        entries.append(
            FeedEntry(
                date=pledge.published_at,
                title=_("Citizen pledge %(period)s published") % {"period": pledge.period_display},
                link=link,
                description=_(
                    "%(municipality)s and the police have published their citizen pledge "
                    "for %(period)s."
                )
                % {"municipality": municipality.name, "period": pledge.period_display},
            )
        )
        if pledge.withdrawn_at:
            entries.append(
                FeedEntry(
                    date=pledge.withdrawn_at,
                    title=_("Citizen pledge %(period)s withdrawn")
                    % {"period": pledge.period_display},
                    link=link + "#aterkallat",
                    description=pledge.withdrawal_reason,
                )
            )
    return entries


class MunicipalityFeed(Feed):
    feed_type = Atom1Feed

    def get_object(self, request, municipality):
        return get_object_or_404(Municipality, slug=municipality)

    def title(self, obj):
        return _("Citizen pledge – %(name)s") % {"name": obj.name}

    def subtitle(self, obj):
        return _("New and withdrawn citizen pledges of %(name)s and the police.") % {
            "name": obj.name
        }

    def link(self, obj):
        return obj.get_absolute_url()

    def items(self, obj):
        entries = [entry for source in ENTRY_SOURCES for entry in source(obj)]
        entries.sort(key=lambda e: e.date, reverse=True)
        return entries[:FEED_LENGTH]

    def item_title(self, item):
        return item.title

    def item_link(self, item):
        return item.link

    item_guid_is_permalink = False

    def item_guid(self, item):
        # A tag URI (RFC 4151): stable, absolute, unique per entry.
        host = urlsplit(settings.SITE_URL).hostname or "localhost"
        return f"tag:{host},{item.date:%Y-%m-%d}:{item.link}"

    def item_description(self, item):
        return item.description

    def item_pubdate(self, item):
        return item.date

    def item_updateddate(self, item):
        return item.date
