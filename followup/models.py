"""Follow-up of a medborgarlöfte: action reports (lägesrapporter), the
reporting rhythm, indicators computed from the survey, and the local
crime-prevention council's meetings (lokalt BRÅ).

Reads live in the QuerySets here; writes that have side effects (cache,
audit) live in `followup.services`; the rhythm's date arithmetic in
`followup.cadence`, the indicator maths in `followup.indicators`.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from pledges.models import Action, Pledge
from portal import scope
from portal.models import Municipality, Organisation
from surveys.models import Survey


class Status(models.TextChoices):
    PLANNED = "planned", _("Planned")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    DELAYED = "delayed", _("Delayed")
    CANCELLED = "cancelled", _("Not done/cancelled")


# A reason is required for these: Brå asks the parties to say why.
REASON_REQUIRED = frozenset({Status.DELAYED, Status.CANCELLED})
# After these no further report is due.
FINAL = frozenset({Status.DONE, Status.CANCELLED})


class ReportingPlan(models.Model):
    """The pledge's reporting rhythm (e.g. every four months, tertial).
    Kept here rather than on Pledge: the pledges app does not know about
    follow-up."""

    pledge = models.OneToOneField(
        Pledge,
        on_delete=models.CASCADE,
        related_name="reporting_plan",
        verbose_name=_("citizen pledge"),
    )
    interval_months = models.PositiveSmallIntegerField(
        _("interval in months"),
        default=4,
        validators=[MinValueValidator(1), MaxValueValidator(24)],
        help_text=_("E.g. 4 for a report every tertial."),
    )
    first_due = models.DateField(
        _("first report due"), help_text=_("Later reports fall due one interval apart.")
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("reporting plan")
        verbose_name_plural = _("reporting plans")
        constraints = [
            models.CheckConstraint(
                condition=Q(interval_months__gte=1) & Q(interval_months__lte=24),
                name="reportingplan_interval_range",
            )
        ]

    def __str__(self) -> str:
        return _("Reporting plan for %(pledge)s") % {"pledge": self.pledge}


class ActionReportQuerySet(models.QuerySet):
    def public(self):
        return self.filter(is_public=True)

    def for_user(self, user):
        return scope.filter_queryset(self, user, "action__commitment__pledge__municipality")

    def of_public_pledges(self):
        return self.filter(action__commitment__pledge__in=Pledge.objects.published())


def latest_report_subquery(field: str, *, public_only: bool = False):
    """A Subquery giving `field` of the latest report of the outer action."""
    qs = ActionReport.objects.filter(action=OuterRef("pk"))
    if public_only:
        qs = qs.filter(is_public=True)
    return Subquery(qs.order_by("-date", "-pk").values(field)[:1])


class ActionReport(models.Model):
    action = models.ForeignKey(
        Action,
        on_delete=models.CASCADE,
        related_name="reports",
        verbose_name=pgettext_lazy("pledge", "action"),
    )
    date = models.DateField(_("date"), default=timezone.localdate)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices)
    progress = models.PositiveSmallIntegerField(
        _("progress (%)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(100)],
        help_text=_("Optional: how far the action has come, 0–100."),
    )
    text = models.TextField(_("what was done"))
    reason = models.TextField(
        _("reason"),
        blank=True,
        help_text=_("Required when the action is delayed or not done: why."),
    )
    meetings_held = models.PositiveIntegerField(_("meetings held"), null=True, blank=True)
    participants = models.PositiveIntegerField(_("participants"), null=True, blank=True)
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reported by (organisation)"),
    )
    is_public = models.BooleanField(
        _("public"), default=True, help_text=_("Untick to keep the report internal.")
    )
    is_example = models.BooleanField(
        _("example text"), default=False, help_text=_("Marks the report as an example (demo).")
    )
    created = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
        editable=False,
    )

    history = HistoricalRecords()
    objects = ActionReportQuerySet.as_manager()

    class Meta:
        ordering = ["action", "-date", "-pk"]
        verbose_name = _("action report")
        verbose_name_plural = _("action reports")
        constraints = [
            models.CheckConstraint(
                condition=~Q(status__in=[Status.DELAYED, Status.CANCELLED]) | ~Q(reason=""),
                name="actionreport_reason_required",
                violation_error_message=_(
                    "Say why the action is delayed or not done: the reason is required."
                ),
            ),
            models.CheckConstraint(
                condition=Q(progress__isnull=True) | Q(progress__lte=100),
                name="actionreport_progress_range",
            ),
        ]
        indexes = [models.Index(fields=["action", "-date"], name="actionreport_latest")]

    def __str__(self) -> str:
        return f"{self.action} – {self.date:%Y-%m-%d} ({self.get_status_display()})"

    def clean(self):
        errors = {}
        self.reason = (self.reason or "").strip()
        self.text = (self.text or "").strip()
        if self.status in REASON_REQUIRED and not self.reason:
            errors["reason"] = _(
                "Say why the action is delayed or not done: the reason is required."
            )
        if self.date and self.date > timezone.localdate():
            errors["date"] = _("A report cannot be dated in the future.")
        if self.progress is not None and self.progress > 100:
            errors["progress"] = _("Progress is a percentage from 0 to 100.")
        if self.status == Status.DONE and self.progress is not None and self.progress < 100:
            errors["progress"] = _("A done action has progress 100 % (or leave it empty).")
        if errors:
            raise ValidationError(errors)


class Indicator(models.Model):
    class Direction(models.TextChoices):
        UP = "up", _("up (an increase is good)")
        DOWN = "down", _("down (a decrease is good)")

    pledge = models.ForeignKey(
        Pledge, on_delete=models.CASCADE, related_name="indicators", verbose_name=_("pledge")
    )
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    name = models.CharField(
        _("name"), max_length=200, help_text=_("E.g. Andel som känner sig trygga i hemmet.")
    )
    question_key = models.SlugField(
        _("question key"),
        max_length=60,
        help_text=_("The survey question's stable key, e.g. trygghet_hemmet."),
    )
    favourable_choices = models.JSONField(
        _("favourable choices"),
        default=list,
        help_text=_('Choice keys that count, e.g. ["mycket_trygg", "ganska_trygg"].'),
    )
    excluded_choices = models.JSONField(
        _("choices left out of the base"),
        default=list,
        blank=True,
        help_text=_('Usually ["vet_ej"]: those who answered “Vet ej” are not counted in n.'),
    )
    direction = models.CharField(
        _("desired direction"), max_length=4, choices=Direction.choices, default=Direction.UP
    )
    baseline_survey = models.ForeignKey(
        Survey,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("baseline survey"),
    )
    target = models.DecimalField(
        _("target (%)"),
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    note = models.TextField(
        _("how to read it"),
        blank=True,
        help_text=_("E.g. why more reports can be a good sign."),
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["pledge", "position", "pk"]
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")

    def __str__(self) -> str:
        return self.name

    def clean(self):
        errors = {}
        for field in ("favourable_choices", "excluded_choices"):
            value = getattr(self, field)
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                errors[field] = _('Give a list of choice keys, e.g. ["mycket_trygg"].')
        if "favourable_choices" not in errors and not self.favourable_choices:
            errors["favourable_choices"] = _("Name at least one favourable choice.")
        if errors:
            raise ValidationError(errors)
        overlap = set(self.favourable_choices) & set(self.excluded_choices)
        if overlap:
            errors["excluded_choices"] = _(
                "A choice cannot be both favourable and left out: %(keys)s."
            ) % {"keys": ", ".join(sorted(overlap))}
        if self.pledge_id and self.baseline_survey_id:
            survey = self.baseline_survey
            if survey.municipality_id != self.pledge.municipality_id:
                errors["baseline_survey"] = _(
                    "The baseline survey must belong to the pledge's municipality."
                )
            else:
                question = survey.questions.filter(key=self.question_key).first()
                if question is None:
                    errors["question_key"] = _(
                        "The baseline survey has no question with the key %(key)s."
                    ) % {"key": self.question_key}
                else:
                    known = set(question.choices.values_list("key", flat=True))
                    unknown = (set(self.favourable_choices) | set(self.excluded_choices)) - known
                    if unknown:
                        errors["favourable_choices"] = _(
                            "The question has no choices with the keys %(keys)s. "
                            "Its choices are: %(known)s."
                        ) % {
                            "keys": ", ".join(sorted(unknown)),
                            "known": ", ".join(sorted(known)),
                        }
        if errors:
            raise ValidationError(errors)


class ForumMeeting(models.Model):
    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        related_name="forum_meetings",
        verbose_name=_("municipality"),
    )
    date = models.DateField(_("date"))
    forum = models.CharField(
        _("forum"), max_length=150, help_text=_("E.g. Trygg i Östhammar (lokalt BRÅ).")
    )
    summary = models.TextField(_("public summary"))
    actions = models.ManyToManyField(
        Action, related_name="forum_meetings", blank=True, verbose_name=_("actions reviewed")
    )
    is_example = models.BooleanField(
        _("example text"), default=False, help_text=_("Marks the meeting as an example (demo).")
    )

    history = HistoricalRecords(m2m_fields=[actions])

    class Meta:
        ordering = ["municipality", "-date", "-pk"]
        verbose_name = _("forum meeting")
        verbose_name_plural = _("forum meetings")

    def __str__(self) -> str:
        return f"{self.forum} {self.date:%Y-%m-%d}"


class ReportReminder(models.Model):
    """One reminder e-mail round: at most one per action, due date and kind
    (the unique constraint is what makes `send_report_reminders` safe to
    run twice)."""

    class Kind(models.TextChoices):
        BEFORE = "before", _("before the due date")
        OVERDUE = "overdue", _("overdue")

    action = models.ForeignKey(
        Action,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=pgettext_lazy("pledge", "action"),
    )
    due_date = models.DateField(_("due date"))
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    sent_at = models.DateTimeField(_("sent"), default=timezone.now)
    recipients = models.PositiveIntegerField(_("recipients"), default=0)

    class Meta:
        ordering = ["-sent_at"]
        verbose_name = _("report reminder")
        verbose_name_plural = _("report reminders")
        constraints = [
            models.UniqueConstraint(
                fields=["action", "due_date", "kind"], name="reportreminder_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.due_date:%Y-%m-%d} {self.kind}"


class DueAction(Action):
    """Actions seen from follow-up: the admin's “due or overdue” list."""

    class Meta:
        proxy = True
        verbose_name = _("action due for a report")
        verbose_name_plural = _("actions due for a report")
