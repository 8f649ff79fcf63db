"""Writes that change a pledge's state: adopting, publishing, withdrawing,
and voiding adoptions when adopted content changes.

Every function locks the pledge row (select_for_update) and re-checks
what it needs under the lock, so two officials clicking at once cannot
adopt one side twice or publish content that was just changed. Who may do
what is asked of `portal.scope`, the one place the rule lives.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from pledges.models import Action, Adoption, Commitment, Contact, Pledge, period_label
from portal import scope
from portal.audit import Action as AuditAction
from portal.audit import log_event
from portal.models import Municipality, Organisation

# The pledge's own fields that residents read as the promise; a change to
# any of them (or to a commitment, an action or a contact) voids the
# adoptions. Every field the public page shows is adopted content or set
# only by these services (publishing, withdrawal): tests/pledges/
# test_adopted_content.py enumerates the models' fields to prove it.
ADOPTED_PLEDGE_FIELDS = (
    "municipality_id",
    "kommun_id",
    "police_id",
    "valid_from",
    "valid_to",
    "background",
    "based_on_survey_id",
    "follow_up",
    "decision_reference",
    "is_example",
)
COMMITMENT_FIELDS = ("title", "purpose", "focus")
ACTION_FIELDS = ("title", "description", "outcome_note")
# Residents are told whom to call: an approver adopts that too.
CONTACT_FIELDS = ("name", "role", "organisation", "phone", "email")


def _text(value):
    if isinstance(value, str):
        return value.replace("\r\n", "\n").strip()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def pledge_content(pledge_id: int) -> dict:
    """The adoptable content as plain data, read fresh from the database
    (six queries whatever the number of commitments and actions). Order is
    kept as list order; database ids of commitments and actions are not
    content, organisation ids are."""
    row = Pledge.objects.filter(pk=pledge_id).values(*ADOPTED_PLEDGE_FIELDS).get()
    commitments = list(
        Commitment.objects.filter(pledge_id=pledge_id)
        .order_by("position", "pk")
        .values("pk", *COMMITMENT_FIELDS)
    )
    actions = list(
        Action.objects.filter(commitment__pledge_id=pledge_id)
        .order_by("position", "pk")
        .values("pk", "commitment_id", *ACTION_FIELDS)
    )
    links: dict[str, dict[int, list[int]]] = {"responsible": {}, "partners": {}}
    for name in links:
        through = getattr(Action, name).through
        for action_id, org_id in through.objects.filter(
            action__commitment__pledge_id=pledge_id
        ).values_list("action_id", "organisation_id"):
            links[name].setdefault(action_id, []).append(org_id)
    by_commitment: dict[int, list[dict]] = {}
    for action in actions:
        by_commitment.setdefault(action["commitment_id"], []).append(
            {
                **{name: _text(action[name]) for name in ACTION_FIELDS},
                "responsible": sorted(links["responsible"].get(action["pk"], [])),
                "partners": sorted(links["partners"].get(action["pk"], [])),
            }
        )
    contacts = Contact.objects.filter(pledge_id=pledge_id).order_by("position", "pk")
    return {
        "pledge": {name: _text(value) for name, value in row.items()},
        "contacts": [
            {name: _text(value) for name, value in contact.items()}
            for contact in contacts.values(*CONTACT_FIELDS)
        ],
        "commitments": [
            {
                **{name: _text(c[name]) for name in COMMITMENT_FIELDS},
                "actions": by_commitment.get(c["pk"], []),
            }
            for c in commitments
        ],
    }


def content_fingerprint(content: dict) -> str:
    """SHA-256 over the canonical JSON (sorted keys) of `pledge_content`."""
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def pledge_fingerprint(pledge_id: int) -> str:
    """The fingerprint of the pledge's adoptable content as it is now."""
    return content_fingerprint(pledge_content(pledge_id))


class ContentChanged(ValidationError):
    """The content changed after the approver's page showed its fingerprint:
    nothing was adopted."""

    def __init__(self, fingerprint: str):
        super().__init__(
            _(
                "Nothing was adopted: the content changed after you opened the page. Read "
                "what changed and adopt again if you agree."
            ),
            code="content_changed",
        )
        self.fingerprint = fingerprint


@dataclass
class ContentCheck:
    fingerprint: str
    voided: list[Adoption] = field(default_factory=list)
    unscheduled: bool = False


def _lock(pledge: Pledge) -> Pledge:
    return Pledge.objects.select_for_update().select_related("municipality").get(pk=pledge.pk)


def _touch(pledge_id: int, **fields) -> None:
    """Bump `updated` without a history row. Residents see the change once
    it is in the audit log (portal.audit), which renews the public pages."""
    Pledge.objects.filter(pk=pledge_id).update(updated=timezone.now(), **fields)


def _void_stale(locked: Pledge, fingerprint: str, user) -> list[Adoption]:
    stale = list(
        Adoption.objects.filter(pledge=locked, voided_at__isnull=True)
        .exclude(fingerprint=fingerprint)
        .select_related("organisation")
    )
    now = timezone.now()
    for adoption in stale:
        adoption.voided_at = now
        adoption.void_reason = _("The content changed after it was adopted.")
        adoption._history_user = user
        adoption.save(update_fields=["voided_at", "void_reason"])
    return stale


@transaction.atomic
def pledge_content_saved(*, pledge: Pledge, user=None) -> ContentCheck:
    """Call after any change to a pledge, its commitments or actions.

    Recomputes the fingerprint; adoptions of other content are voided (kept
    with the time and reason); a scheduled pledge whose adoptions were voided
    is taken off the schedule."""
    locked = _lock(pledge)
    check = ContentCheck(fingerprint=pledge_fingerprint(locked.pk))
    check.voided = _void_stale(locked, check.fingerprint, user)
    if check.voided and locked.is_scheduled():
        locked.published_at = None
        locked.published_by = None
        locked._history_user = user
        locked.save(update_fields=["published_at", "published_by"])
        check.unscheduled = True
    _touch(locked.pk, fingerprint=check.fingerprint)
    pledge.fingerprint = check.fingerprint
    return check


def completeness_problems(pledge: Pledge) -> list[str]:
    """What must be in place before a pledge can be adopted."""
    problems = []
    commitments = list(
        Commitment.objects.filter(pledge=pledge)
        .annotate(n_actions=Count("actions"))
        .values_list("title", "n_actions")
    )
    if not 1 <= len(commitments) <= 3:
        problems.append(_("A citizen pledge has one to three commitments."))
    for title, n_actions in commitments:
        if n_actions == 0:
            problems.append(_("The commitment “%(title)s” has no actions.") % {"title": title})
    missing = (
        Action.objects.filter(commitment__pledge=pledge, responsible__isnull=True)
        .order_by("position", "pk")
        .values_list("title", flat=True)
    )
    for title in missing:
        problems.append(
            _("The action “%(title)s” has no responsible organisation.") % {"title": title}
        )
    return problems


def adoptable_organisations(*, pledge: Pledge, user) -> list[Organisation]:
    """The issuing organisations this user may adopt the pledge for now
    (approver of that organisation, in scope, side not yet adopted)."""
    if pledge.is_locked():
        return []
    own = {role.organisation_id for role in scope.approver_roles(user, pledge.municipality_id)}
    adopted = set(
        Adoption.objects.filter(pledge=pledge, voided_at__isnull=True).values_list(
            "organisation_id", flat=True
        )
    )
    return [
        org for org in (pledge.kommun, pledge.police) if org.pk in own and org.pk not in adopted
    ]


@transaction.atomic
def pledge_adopt(
    *, pledge: Pledge, user, organisation: Organisation, fingerprint: str | None = None
) -> Adoption:
    """Adopt (fastställ) the pledge's content for `organisation`: the content
    whose `fingerprint` the approver was shown (the adopt page posts it), or
    the current content when None (scripts and demo data). A fingerprint of
    other content raises ContentChanged and adopts nothing."""
    locked = _lock(pledge)
    if not scope.can_edit(user, locked.municipality_id):
        raise PermissionDenied(_("You do not work with this municipality."))
    if organisation.pk not in (locked.kommun_id, locked.police_id):
        raise ValidationError(
            _("%(org)s is not one of the parties that give this pledge.") % {"org": organisation}
        )
    role = next(
        (
            r
            for r in scope.approver_roles(user, locked.municipality_id)
            if r.organisation_id == organisation.pk
        ),
        None,
    )
    if role is None:
        raise PermissionDenied(
            _("Only an approver of %(org)s can adopt the pledge for it.") % {"org": organisation}
        )
    if locked.is_withdrawn:
        raise ValidationError(_("The pledge has been withdrawn and cannot be adopted."))
    if locked.is_public():
        raise ValidationError(_("The pledge is already published."))
    problems = completeness_problems(locked)
    if problems:
        raise ValidationError(problems)
    current = pledge_fingerprint(locked.pk)
    if fingerprint is not None and fingerprint != current:
        raise ContentChanged(current)
    fingerprint = current
    _void_stale(locked, fingerprint, user)
    existing = (
        Adoption.objects.filter(pledge=locked, side=organisation.kind, voided_at__isnull=True)
        .select_related("organisation")
        .first()
    )
    if existing is not None:
        raise ValidationError(
            _("%(org)s already adopted this content (%(name)s, %(date)s).")
            % {
                "org": existing.organisation,
                "name": existing.name,
                "date": date_format(timezone.localtime(existing.adopted_at), "j F Y"),
            }
        )
    adoption = Adoption(
        pledge=locked,
        organisation=organisation,
        side=organisation.kind,
        user=user,
        name=user.get_full_name() or user.get_username(),
        title=role.title,
        adopted_at=timezone.now(),
        fingerprint=fingerprint,
    )
    adoption._history_user = user
    try:
        with transaction.atomic():
            adoption.save()
    except IntegrityError as exc:  # a concurrent adoption won the race
        raise ValidationError(_("This party has already adopted the pledge.")) from exc
    _touch(locked.pk, fingerprint=fingerprint)
    log_event(
        actor=user,
        action=AuditAction.ADOPTION,
        obj=locked,
        organisation=organisation.name,
        title=adoption.title,
        fingerprint=fingerprint,
    )
    return adoption


def _unique_slug(pledge: Pledge) -> str:
    base = period_label(pledge.valid_from, pledge.valid_to)
    taken = set(
        Pledge.objects.filter(municipality_id=pledge.municipality_id, slug__startswith=base)
        .exclude(pk=pledge.pk)
        .values_list("slug", flat=True)
    )
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def pledge_publish(*, pledge: Pledge, user, publish_at: datetime | None = None) -> Pledge:
    """Publish now, or schedule for `publish_at`. Both parties must have
    adopted exactly the current content."""
    locked = _lock(pledge)
    if not scope.can_edit(user, locked.municipality_id):
        raise PermissionDenied(_("You do not work with this municipality."))
    if locked.is_withdrawn:
        raise ValidationError(_("The pledge has been withdrawn and cannot be published."))
    if locked.is_public():
        raise ValidationError(_("The pledge is already published."))
    now = timezone.now()
    if publish_at is not None and publish_at <= now:
        raise ValidationError(_("Choose a time in the future, or publish now."))
    fingerprint = pledge_fingerprint(locked.pk)
    _void_stale(locked, fingerprint, user)
    sides = set(
        Adoption.objects.filter(
            pledge=locked, voided_at__isnull=True, fingerprint=fingerprint
        ).values_list("side", flat=True)
    )
    missing = [
        org.name
        for org, side in (
            (locked.kommun, Organisation.Kind.KOMMUN),
            (locked.police, Organisation.Kind.POLIS),
        )
        if side not in sides
    ]
    if missing:
        raise ValidationError(
            _(
                "The pledge can be published only when both parties have adopted the same "
                "content. Not adopted by: %(orgs)s."
            )
            % {"orgs": ", ".join(missing)}
        )
    # Lock the municipality so two pledges cannot be published over the same
    # period at once, then re-check the no-overlap rule.
    Municipality.objects.select_for_update().filter(pk=locked.municipality_id).first()
    other = (
        Pledge.objects.overlapping(
            municipality_id=locked.municipality_id,
            valid_from=locked.valid_from,
            valid_to=locked.valid_to,
            exclude_pk=locked.pk,
        )
        .order_by("valid_from")
        .first()
    )
    if other is not None:
        raise ValidationError(
            _("The period overlaps the citizen pledge %(period)s of the same municipality.")
            % {"period": other.period_display}
        )
    locked.slug = locked.slug or _unique_slug(locked)
    locked.published_at = publish_at or now
    locked.published_by = user
    locked._history_user = user
    locked.save(update_fields=["slug", "published_at", "published_by", "updated"])
    _touch(locked.pk, fingerprint=fingerprint)
    log_event(
        actor=user,
        action=AuditAction.PUBLICATION,
        obj=locked,
        published_at=locked.published_at.isoformat(),
        scheduled=locked.published_at > now,
    )
    return locked


@transaction.atomic
def pledge_unschedule(*, pledge: Pledge, user) -> Pledge:
    """Take a scheduled pledge off the schedule (it stays adopted)."""
    locked = _lock(pledge)
    if not scope.can_edit(user, locked.municipality_id):
        raise PermissionDenied(_("You do not work with this municipality."))
    if not locked.is_scheduled():
        raise ValidationError(_("The pledge is not scheduled for publishing."))
    locked.published_at = None
    locked.published_by = None
    locked._history_user = user
    locked.save(update_fields=["published_at", "published_by", "updated"])
    _touch(locked.pk)
    log_event(actor=user, action="unscheduled", obj=locked)
    return locked


@transaction.atomic
def pledge_withdraw(*, pledge: Pledge, user, reason: str) -> Pledge:
    """Withdraw a published pledge; residents see the reason."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Give the reason for the withdrawal; residents will see it."))
    locked = _lock(pledge)
    if not scope.can_edit(user, locked.municipality_id):
        raise PermissionDenied(_("You do not work with this municipality."))
    if locked.is_withdrawn:
        raise ValidationError(_("The pledge is already withdrawn."))
    if not locked.is_public():
        raise ValidationError(_("Only a published pledge can be withdrawn."))
    locked.withdrawn_at = timezone.now()
    locked.withdrawn_by = user
    locked.withdrawal_reason = reason
    locked._history_user = user
    locked.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawal_reason", "updated"])
    _touch(locked.pk)
    log_event(actor=user, action="withdrawal", obj=locked, reason=reason)
    return locked
