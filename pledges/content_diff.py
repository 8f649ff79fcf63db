"""What changed between two versions of a pledge's adoptable content
(`services.pledge_content`), as a readable list for the approver whose
adopt page went out of date."""

from __future__ import annotations

from django.utils.translation import gettext as _

from pledges.models import Action, Commitment, Contact, Pledge
from pledges.services import ACTION_FIELDS, COMMITMENT_FIELDS, CONTACT_FIELDS


def _label(model, key: str) -> str:
    name = key.removesuffix("_id")
    return str(model._meta.get_field(name).verbose_name)


def _changed(model, before: dict, after: dict, keys) -> list[str]:
    return [_label(model, key) for key in keys if before.get(key) != after.get(key)]


def _fields_message(prefix: str, labels: list[str]) -> str:
    return _("%(item)s: changed %(fields)s") % {
        "item": prefix,
        "fields": ", ".join(_("“%(name)s”") % {"name": label} for label in labels),
    }


def _items(kind, model, before: list, after: list, title_key: str, keys, nested=None):
    """Compare two ordered lists item by item (position n with position n)."""
    lines: list[str] = []
    for n in range(max(len(before), len(after))):
        old = before[n] if n < len(before) else None
        new = after[n] if n < len(after) else None
        name = (new or old).get(title_key, "")
        if isinstance(kind, str):
            item = _("%(kind)s %(n)d (“%(name)s”)") % {"kind": kind, "n": n + 1, "name": name}
        else:
            item = kind(n + 1, name)
        if old is None:
            lines.append(_("%(item)s was added") % {"item": item})
        elif new is None:
            lines.append(_("%(item)s was removed") % {"item": item})
        else:
            labels = _changed(model, old, new, keys)
            if labels:
                lines.append(_fields_message(item, labels))
            if nested:
                lines += nested(item, old, new)
    return lines


def _action_lines(commitment_item: str, old: dict, new: dict) -> list[str]:
    def kind(n, name):
        return _("%(commitment)s, action %(n)d (“%(title)s”)") % {
            "commitment": commitment_item,
            "n": n,
            "title": name,
        }

    keys = (*ACTION_FIELDS, "responsible", "partners")
    return _items(kind, Action, old.get("actions", []), new.get("actions", []), "title", keys)


def content_changes(before: dict, after: dict) -> list[str]:
    """Readable lines (Swedish with the sv catalogue), empty when equal."""
    lines: list[str] = []
    pledge_keys = sorted(set(before.get("pledge", {})) | set(after.get("pledge", {})))
    labels = _changed(Pledge, before.get("pledge", {}), after.get("pledge", {}), pledge_keys)
    if labels:
        lines.append(_fields_message(_("The pledge"), labels))
    lines += _items(
        _("Commitment"),
        Commitment,
        before.get("commitments", []),
        after.get("commitments", []),
        "title",
        COMMITMENT_FIELDS,
        nested=_action_lines,
    )
    lines += _items(
        _("Contact"),
        Contact,
        before.get("contacts", []),
        after.get("contacts", []),
        "name",
        CONTACT_FIELDS,
    )
    return lines
