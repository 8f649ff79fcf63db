"""One readable history for a pledge: every change to the pledge, its
commitments, actions, contacts and adoptions (who, when, what changed),
from django-simple-history's tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.utils.translation import gettext as _

from pledges.models import Action, Adoption, Commitment, Contact, Pledge
from portal.models import Organisation

HISTORY_LIMIT = 1000
SKIP_FIELDS = {"fingerprint", "updated"}


@dataclass
class Change:
    field: str
    old: str
    new: str


@dataclass
class Entry:
    date: datetime
    user: str
    model: str
    obj: str
    kind: str
    changes: list[Change] = field(default_factory=list)


def _show(value, organisations: dict[int, str]) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, list):  # m2m (responsible, partners): the through rows
        names = sorted(organisations.get(row.get("organisation"), "?") for row in value)
        return ", ".join(names) or "–"
    return str(value)


def _records(pledge: Pledge):
    commitment_ids = set(
        Commitment.history.filter(pledge_id=pledge.pk).values_list("id", flat=True)
    )
    return [
        (Pledge, Pledge.history.filter(id=pledge.pk)),
        (Commitment, Commitment.history.filter(pledge_id=pledge.pk)),
        (Action, Action.history.filter(commitment_id__in=commitment_ids)),
        (Contact, Contact.history.filter(pledge_id=pledge.pk)),
        (Adoption, Adoption.history.filter(pledge_id=pledge.pk)),
    ]


def pledge_history(pledge: Pledge) -> list[Entry]:
    kinds = {"+": _("created"), "~": _("changed"), "-": _("deleted")}
    organisations = dict(Organisation.objects.values_list("pk", "name"))
    entries: list[Entry] = []
    for model, qs in _records(pledge):
        records = list(qs.select_related("history_user").order_by("id", "history_date"))
        previous = {}
        for record in records:
            before = previous.get(record.id)
            changes = []
            if before is not None and record.history_type == "~":
                delta = record.diff_against(before)
                for change in delta.changes:
                    if change.field in SKIP_FIELDS:
                        continue
                    label = model._meta.get_field(change.field).verbose_name
                    changes.append(
                        Change(
                            str(label),
                            _show(change.old, organisations),
                            _show(change.new, organisations),
                        )
                    )
            previous[record.id] = record
            if record.history_type == "~" and before is not None and not changes:
                continue  # a save that changed nothing readable
            user = record.history_user
            entries.append(
                Entry(
                    date=record.history_date,
                    user=(user.get_full_name() or user.get_username()) if user else _("the system"),
                    model=str(model._meta.verbose_name),
                    obj=str(record.instance),
                    kind=kinds[record.history_type],
                    changes=changes,
                )
            )
    entries.sort(key=lambda e: e.date, reverse=True)
    return entries[:HISTORY_LIMIT]
