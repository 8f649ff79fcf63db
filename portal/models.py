from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

# Paths the site uses itself; a municipality cannot take them as its slug.
RESERVED_SLUGS = frozenset(
    {"admin", "om", "tillganglighet", "healthz", "static", "media", "i18n", "konto", "api", "sprak"}
)


def validate_slug_not_reserved(value: str) -> None:
    if value in RESERVED_SLUGS:
        raise ValidationError(
            _("“%(slug)s” is used by the site itself; choose another address."),
            params={"slug": value},
        )


# Retention (gallring) bounds, in days after a survey closes. Invitation
# codes are needed only during fieldwork; free-text answers are read by
# officials while they draft the pledge, so they are kept at least a month.
INVITATION_RETENTION_MIN = 1
INVITATION_RETENTION_MAX = 365
FREE_TEXT_RETENTION_MIN = 30
FREE_TEXT_RETENTION_MAX = 3650


def default_invitation_retention_days() -> int:
    return int(getattr(settings, "SURVEY_INVITATION_RETENTION_DAYS", 30))


class Municipality(models.Model):
    name = models.CharField(
        _("name"), max_length=100, unique=True, help_text=_("E.g. Östhammars kommun.")
    )
    short_name = models.CharField(_("short name"), max_length=60, help_text=_("E.g. Östhammar."))
    slug = models.SlugField(
        _("address"),
        max_length=60,
        unique=True,
        validators=[validate_slug_not_reserved],
        help_text=_("Used in the address of its pages, e.g. osthammar."),
    )
    code = models.CharField(
        _("municipality code"),
        max_length=4,
        unique=True,
        validators=[
            RegexValidator(r"^\d{4}$", _("A municipality code is four digits, e.g. 0382."))
        ],
    )
    population = models.PositiveIntegerField(_("population"), null=True, blank=True)

    # Retention (gallring) of survey data; applied by `manage.py apply_retention`.
    invitation_retention_days = models.PositiveSmallIntegerField(
        _("keep invitation codes (days after closing)"),
        default=default_invitation_retention_days,
        validators=[
            MinValueValidator(
                INVITATION_RETENTION_MIN,
                _("Keep invitation codes at least 1 day after the survey closes."),
            ),
            MaxValueValidator(
                INVITATION_RETENTION_MAX,
                _(
                    "Keep invitation codes at most 365 days after the survey closes: they are "
                    "needed only during fieldwork."
                ),
            ),
        ],
        help_text=_(
            "Invitation codes and the proof that a form was already sent are deleted this many "
            "days after a survey closes."
        ),
    )
    free_text_retention_days = models.PositiveSmallIntegerField(
        _("keep free-text answers (days after closing)"),
        null=True,
        blank=True,
        validators=[
            MinValueValidator(
                FREE_TEXT_RETENTION_MIN,
                _(
                    "Keep free-text answers at least 30 days after the survey closes, so that "
                    "officials can read them."
                ),
            ),
            MaxValueValidator(
                FREE_TEXT_RETENTION_MAX,
                _(
                    "At most 3650 days (ten years). To keep free-text answers for good, leave "
                    "the field empty."
                ),
            ),
        ],
        help_text=_(
            "Empty: free-text answers are kept until a retention decision is recorded. Answers "
            "to choice questions, and so all results, are always kept."
        ),
    )
    retention_decision = models.CharField(
        _("retention decision"),
        max_length=200,
        blank=True,
        help_text=_(
            "The decision (gallringsbeslut) that allows deleting free-text answers, e.g. "
            "KS 2025-03-01 § 45."
        ),
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("municipality")
        verbose_name_plural = _("municipalities")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(free_text_retention_days__isnull=True)
                | ~models.Q(retention_decision=""),
                name="municipality_free_text_retention_needs_decision",
                violation_error_message=_(
                    "Free-text answers may be deleted only under a retention decision."
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("pledges:municipality", kwargs={"municipality": self.slug})

    def clean(self):
        super().clean()
        if (
            self.free_text_retention_days is not None
            and not (self.retention_decision or "").strip()
        ):
            raise ValidationError(
                {
                    "retention_decision": _(
                        "Survey answers are public records: free-text answers may be deleted "
                        "only under a retention decision. Give its reference, e.g. "
                        "KS 2025-03-01 § 45, or leave the number of days empty to keep them."
                    )
                }
            )


class District(models.Model):
    class Kind(models.TextChoices):
        TOWN = "tatort", _("town")
        AREA = "omrade", _("area")
        RURAL = "landsbygd", _("countryside")

    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.CASCADE,
        related_name="districts",
        verbose_name=_("municipality"),
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.TOWN)
    population = models.PositiveIntegerField(_("population"), null=True, blank=True)
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    history = HistoricalRecords()

    class Meta:
        ordering = ["municipality", "position", "name"]
        verbose_name = _("district")
        verbose_name_plural = _("districts")
        constraints = [
            models.UniqueConstraint(fields=["municipality", "name"], name="district_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Organisation(models.Model):
    class Kind(models.TextChoices):
        KOMMUN = "kommun", _("municipality")
        POLIS = "polis", _("police")
        PARTNER = "partner", _("partner")

    name = models.CharField(_("name"), max_length=150, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    municipalities = models.ManyToManyField(
        Municipality,
        related_name="organisations",
        verbose_name=_("serves municipalities"),
        help_text=_("A police area serves several municipalities."),
    )
    website = models.URLField(_("website"), blank=True)

    history = HistoricalRecords(m2m_fields=[municipalities])

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        EDITOR = "editor", _("editor")
        APPROVER = "approver", _("approver")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("user"),
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("organisation"),
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    title = models.CharField(
        _("title"), max_length=150, blank=True, help_text=_("E.g. Kommunstyrelsens ordförande.")
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["organisation", "user"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation"], name="membership_unique_user_org"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.organisation} ({self.get_role_display()})"


class AccessibilityFeedback(models.Model):
    """A message sent through the accessibility statement's feedback form."""

    class Kind(models.TextChoices):
        PROBLEM = "problem", _("Report a problem with accessibility")
        FORMAT = "format", _("Request content in an accessible format")
        OTHER = "other", _("Other")

    created = models.DateTimeField(_("received"), auto_now_add=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.PROBLEM)
    page = models.CharField(_("page"), max_length=500, blank=True)
    message = models.TextField(_("message"), max_length=5000)
    contact = models.CharField(_("contact (optional)"), max_length=200, blank=True)
    handled = models.BooleanField(_("handled"), default=False)

    class Meta:
        ordering = ["-created"]
        verbose_name = _("accessibility feedback")
        verbose_name_plural = _("accessibility feedback")
        # Residents' contact details: site administrators, and whom they
        # give this permission (scope.may_read_feedback), not every official.
        permissions = [
            ("handle_accessibilityfeedback", _("Can read and handle accessibility feedback"))
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.created:%Y-%m-%d})"


# The audit log (its helpers are in portal/audit.py).


class AuditAction(models.TextChoices):
    """Known actions. Other apps may log their own action names; these are the
    ones the portal itself writes (and names in the admin's filter)."""

    LOGIN = "login", _("login")
    LOGIN_FAILED = "login_failed", _("failed login")
    LOGOUT = "logout", _("logout")
    LOCKOUT = "lockout", _("locked out after failed logins")
    OTP_ENROLLED = "2fa_enrolled", _("two-factor login set up")
    OTP_REMOVED = "2fa_removed", _("two-factor login removed")
    OTP_FAILED = "2fa_failed", _("wrong two-factor code")
    RECOVERY_CODE_USED = "2fa_recovery_code_used", _("recovery code used")
    RECOVERY_CODES_RENEWED = "2fa_recovery_codes_renewed", _("new recovery codes created")
    ADMIN_ADD = "admin_add", _("added in the admin")
    ADMIN_CHANGE = "admin_change", _("changed in the admin")
    ADMIN_DELETE = "admin_delete", _("deleted in the admin")
    ADOPTION = "adoption", _("adoption")
    PUBLICATION = "publication", _("publication")
    RETENTION = "retention", _("retention (deletion of survey data)")


class AuditEventQuerySet(models.QuerySet):
    def for_object(self, obj: models.Model) -> AuditEventQuerySet:
        return self.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk))


class AuditEvent(models.Model):
    created = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    # Kept as text too: the log must still say who it was after the account
    # is deleted, and a failed login names an account that may not exist.
    actor_username = models.CharField(_("username"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=40, db_index=True)
    object_type = models.CharField(_("object type"), max_length=100, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("municipality"),
    )
    details = models.JSONField(_("details"), default=dict, blank=True, encoder=DjangoJSONEncoder)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit log")
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        who = self.actor_username or "–"
        return f"{self.created:%Y-%m-%d %H:%M} {who}: {self.action_label}"

    @property
    def action_label(self) -> str:
        try:
            return str(AuditAction(self.action).label)
        except ValueError:
            return self.action


class EnrolmentCode(models.Model):
    """A one-time code the site administrator hands an official so that they
    can set up their first authenticator app: a password alone does not
    enrol a device (a thief's phone). Only a hash is stored; the code is
    shown once, expires and works once (portal/two_factor.py)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="enrolment_codes",
        verbose_name=_("user"),
    )
    code_hash = models.CharField(_("code (hashed)"), max_length=128)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    expires = models.DateTimeField(_("expires"))
    used = models.DateTimeField(_("used"), null=True, blank=True)

    class Meta:
        verbose_name = _("enrolment code")
        verbose_name_plural = _("enrolment codes")

    def __str__(self) -> str:
        return f"{self.user} ({self.created:%Y-%m-%d})"
