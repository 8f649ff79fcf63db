"""Who may see and change what: the one place the portal's scope rule lives.

An official sees and changes only what belongs to municipalities their
organisation serves; superusers see everything. Editors write; approvers
also adopt, for their own organisation only. Admin classes, views and
services all ask this module; none of them repeats the rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet

from portal.models import Membership, Municipality, Organisation


@dataclass(frozen=True)
class Role:
    organisation_id: int
    organisation_kind: str
    role: str
    title: str
    municipality_ids: frozenset[int]


def roles(user) -> tuple[Role, ...]:
    """The user's memberships, loaded once per user object (one query) and
    kept on it as `user.portal_roles`."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return ()
    cached = getattr(user, "portal_roles", None)
    if cached is not None:
        return cached
    rows = Membership.objects.filter(user=user).values_list(
        "organisation_id",
        "organisation__kind",
        "role",
        "title",
        "organisation__municipalities",
    )
    grouped: dict[tuple, set[int]] = {}
    for org_id, kind, role, title, municipality_id in rows:
        ids = grouped.setdefault((org_id, kind, role, title), set())
        if municipality_id is not None:
            ids.add(municipality_id)
    result = tuple(Role(*key, frozenset(ids)) for key, ids in grouped.items())
    user.portal_roles = result
    return result


def is_superuser(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.is_superuser)


def is_official(user) -> bool:
    """May log in to the admin: a superuser or a member of an organisation."""
    return is_superuser(user) or bool(roles(user))


def may_see_non_public(user) -> bool:
    """An official who may be shown what the public may not (drafts,
    unpublished results, exports, invitation codes, internal reports). Where
    two-factor login is required, only once the second factor was given in
    this session: a stolen password alone shows no more than the public sees.
    Every view that shows non-public data asks this (the admin site through
    PortalAdminSite.has_permission)."""
    if not is_official(user):
        return False
    if not settings.PORTAL_REQUIRE_2FA:
        return True
    # django-otp's OTPMiddleware gives the request's user is_verified().
    check = getattr(user, "is_verified", None)
    return bool(check and check())


def can_preview(user, municipality_id: int | None) -> bool:
    """May see the non-public side (a preview) of what belongs to
    `municipality_id`: in scope, and with the second factor where required."""
    return may_see_non_public(user) and can_edit(user, municipality_id)


FEEDBACK_PERMISSION = "portal.handle_accessibilityfeedback"


def may_read_feedback(user) -> bool:
    """Accessibility feedback carries residents' contact details: only site
    administrators, or officials given the permission for it, read it (with
    the second factor where required, like every non-public page)."""
    if not may_see_non_public(user):
        return False
    return is_superuser(user) or user.has_perm(FEEDBACK_PERMISSION)


def municipality_ids(user) -> frozenset[int] | None:
    """Municipalities the user may work with; None means all (superuser)."""
    if is_superuser(user):
        return None
    ids: set[int] = set()
    for role in roles(user):
        ids |= role.municipality_ids
    return frozenset(ids)


def filter_queryset(queryset: QuerySet, user, path: str) -> QuerySet:
    """Limit `queryset` to the user's municipalities. `path` leads from the
    queryset's model to its municipality ("" when the model *is* one)."""
    ids = municipality_ids(user)
    if ids is None:
        return queryset
    lookup = f"{path}__in" if path else "pk__in"
    return queryset.filter(**{lookup: ids})


def can_edit(user, municipality_id: int | None) -> bool:
    """Editors and approvers may change what belongs to their municipalities."""
    ids = municipality_ids(user)
    if ids is None:
        return True
    return municipality_id is not None and municipality_id in ids


def approver_roles(user, municipality_id: int | None = None) -> list[Role]:
    """The user's approver memberships, optionally for one municipality."""
    return [
        role
        for role in roles(user)
        if role.role == Membership.Role.APPROVER
        and (municipality_id is None or municipality_id in role.municipality_ids)
    ]


def municipalities(user) -> QuerySet[Municipality]:
    """The municipalities a user may work with."""
    return filter_queryset(Municipality.objects.all(), user, "")


def organisations(user) -> QuerySet[Organisation]:
    """Organisations a user may pick as responsible or partner: every
    organisation serving one of their municipalities."""
    ids = municipality_ids(user)
    qs = Organisation.objects.all()
    if ids is None:
        return qs
    return qs.filter(municipalities__in=ids).distinct()


def municipality_id_of(obj, path: str) -> int | None:
    """Follow `path` ("pledge__municipality") from obj to a municipality id."""
    if not path:
        return obj.pk
    *parents, last = path.split("__")
    for name in parents:
        obj = getattr(obj, name, None)
        if obj is None:
            return None
    return getattr(obj, f"{last}_id", None)
