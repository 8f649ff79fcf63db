"""The medborgarlöfte: a pledge, its commitments (löften), their actions
(åtgärder, "Detta genom att:"), its contacts and its adoptions
(fastställanden) by the kommun and the police.

Reads live in `PledgeQuerySet`; every multi-step write (adopting,
publishing, withdrawing, voiding adoptions after an edit) lives in
`pledges.services`.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from portal import scope
from portal.models import Municipality, Organisation


def period_label(valid_from, valid_to) -> str:
    """The period as used in addresses and headings: 2021, or 2023-2024."""
    if valid_from.year == valid_to.year:
        return str(valid_from.year)
    return f"{valid_from.year}-{valid_to.year}"


class PledgeQuerySet(models.QuerySet):
    def for_municipality(self, municipality):
        return self.filter(municipality=municipality)

    def for_user(self, user):
        return scope.filter_queryset(self, user, "municipality")

    def not_withdrawn(self):
        return self.filter(withdrawn_at__isnull=True)

    def published(self, now=None):
        """Public: published (also withdrawn ones, which show their reason).
        A scheduled pledge becomes public when its time has come."""
        return self.filter(published_at__lte=now or timezone.now()).exclude(slug="")

    def current(self, today=None):
        today = today or timezone.localdate()
        return (
            self.published()
            .not_withdrawn()
            .filter(valid_from__lte=today, valid_to__gte=today)
            .order_by("-valid_from")
        )

    def overlapping(self, *, municipality_id, valid_from, valid_to, exclude_pk=None):
        qs = self.not_withdrawn().filter(
            municipality_id=municipality_id, valid_from__lte=valid_to, valid_to__gte=valid_from
        )
        if exclude_pk is not None:
            qs = qs.exclude(pk=exclude_pk)
        return qs

    def with_adoption_state(self):
        """Annotate whether each side has a valid (not voided) adoption."""
        valid = Adoption.objects.filter(pledge=OuterRef("pk"), voided_at__isnull=True)
        return self.annotate(
            kommun_adopted=Exists(valid.filter(side=Organisation.Kind.KOMMUN)),
            police_adopted=Exists(valid.filter(side=Organisation.Kind.POLIS)),
        )

    def with_content(self):
        """Everything the pledge page shows, in a fixed number of queries."""
        return self.select_related(
            "municipality", "kommun", "police", "based_on_survey"
        ).prefetch_related(
            models.Prefetch(
                "commitments",
                queryset=Commitment.objects.order_by("position", "pk").prefetch_related(
                    models.Prefetch(
                        "actions",
                        queryset=Action.objects.order_by("position", "pk").prefetch_related(
                            models.Prefetch(
                                "responsible", queryset=Organisation.objects.order_by("name")
                            ),
                            models.Prefetch(
                                "partners", queryset=Organisation.objects.order_by("name")
                            ),
                        ),
                    )
                ),
            ),
            models.Prefetch("contacts", queryset=Contact.objects.order_by("position", "pk")),
            models.Prefetch(
                "adoptions",
                queryset=Adoption.objects.filter(voided_at__isnull=True)
                .select_related("organisation")
                .order_by("adopted_at"),
                to_attr="valid_adoptions",
            ),
        )


class Pledge(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        ADOPTED = "adopted", _("adopted, not published")
        SCHEDULED = "scheduled", _("scheduled")
        PUBLISHED = "published", _("published")
        WITHDRAWN = "withdrawn", _("withdrawn")

    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        related_name="pledges",
        verbose_name=_("municipality"),
    )
    kommun = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="pledges_as_kommun",
        limit_choices_to={"kind": Organisation.Kind.KOMMUN},
        verbose_name=_("the municipality as a party"),
        help_text=_("The kommun that gives the pledge and adopts it."),
    )
    police = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="pledges_as_police",
        limit_choices_to={"kind": Organisation.Kind.POLIS},
        verbose_name=_("the police area as a party"),
        help_text=_("The local police area that gives the pledge and adopts it."),
    )
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(
        _("valid to"), help_text=_("Usually a calendar year; a pledge may span several years.")
    )
    background = models.TextField(
        _("background"),
        help_text=_("What the survey, dialogues with residents and crime statistics showed."),
    )
    follow_up = models.TextField(
        _("follow-up"), help_text=_("How and when the pledge is followed up.")
    )
    decision_reference = models.CharField(
        _("decision reference"),
        max_length=200,
        blank=True,
        help_text=_("E.g. Kommunstyrelsen § 45/2021."),
    )
    based_on_survey = models.ForeignKey(
        "surveys.Survey",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="pledges",
        verbose_name=_("based on survey"),
        help_text=_("The resident survey the pledge is grounded in."),
    )
    is_example = models.BooleanField(
        _("example text"),
        default=False,
        help_text=_("Marks the texts as an example on the public page (demo data)."),
    )
    # Set by pledges.services, never typed in.
    fingerprint = models.CharField(_("content fingerprint"), max_length=64, blank=True)
    slug = models.SlugField(_("address"), max_length=30, blank=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("published by"),
    )
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("withdrawn by"),
    )
    withdrawal_reason = models.TextField(_("reason for withdrawal"), blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated"])
    objects = PledgeQuerySet.as_manager()

    class Meta:
        ordering = ["municipality", "-valid_from"]
        verbose_name = _("citizen pledge")
        verbose_name_plural = _("citizen pledges")
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__gte=models.F("valid_from")),
                name="pledge_period_in_order",
                violation_error_message=_("The period must end on or after its first day."),
            ),
            models.UniqueConstraint(
                fields=["municipality", "slug"],
                condition=~Q(slug=""),
                name="pledge_unique_slug",
            ),
        ]

    def __str__(self) -> str:
        if self.valid_from and self.valid_to:
            label = period_label(self.valid_from, self.valid_to).replace("-", "–")
        else:
            label = "?"
        return _("Citizen pledge %(period)s") % {"period": label}

    def get_absolute_url(self) -> str:
        return reverse(
            "pledges:detail",
            kwargs={"municipality": self.municipality.slug, "period": self.slug},
        )

    @property
    def period(self) -> str:
        """As in the address: 2021 or 2023-2024."""
        return period_label(self.valid_from, self.valid_to)

    @property
    def period_display(self) -> str:
        """For reading: 2021 or 2023–2024 (en dash)."""
        return self.period.replace("-", "–")

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    def is_public(self, now=None) -> bool:
        return (
            bool(self.slug)
            and self.published_at is not None
            and (self.published_at <= (now or timezone.now()))
        )

    def is_scheduled(self, now=None) -> bool:
        return self.published_at is not None and self.published_at > (now or timezone.now())

    def is_locked(self) -> bool:
        """Adopted content of a public or withdrawn pledge no longer changes."""
        return self.is_withdrawn or self.is_public()

    def get_status(self, *, kommun_adopted: bool, police_adopted: bool, now=None) -> str:
        if self.is_withdrawn:
            return self.Status.WITHDRAWN
        if self.is_public(now):
            return self.Status.PUBLISHED
        if self.is_scheduled(now):
            return self.Status.SCHEDULED
        if kommun_adopted and police_adopted:
            return self.Status.ADOPTED
        return self.Status.DRAFT

    def clean(self):
        errors = {}
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            errors["valid_to"] = _("The period must end on or after its first day.")
        municipality_id = self.municipality_id
        if municipality_id:
            for field, kind in (
                ("kommun", Organisation.Kind.KOMMUN),
                ("police", Organisation.Kind.POLIS),
            ):
                org = getattr(self, field) if getattr(self, f"{field}_id") else None
                if org is None:
                    continue
                if org.kind != kind:
                    errors[field] = _("%(org)s is not a %(kind)s organisation.") % {
                        "org": org,
                        "kind": Organisation.Kind(kind).label,
                    }
                elif not org.municipalities.filter(pk=municipality_id).exists():
                    errors[field] = _("%(org)s does not serve %(municipality)s.") % {
                        "org": org,
                        "municipality": self.municipality,
                    }
        if (
            municipality_id
            and self.based_on_survey_id
            and self.based_on_survey.municipality_id != municipality_id
        ):
            errors["based_on_survey"] = _("The survey belongs to another municipality.")
        if municipality_id and self.valid_from and self.valid_to and "valid_to" not in errors:
            other = (
                Pledge.objects.overlapping(
                    municipality_id=municipality_id,
                    valid_from=self.valid_from,
                    valid_to=self.valid_to,
                    exclude_pk=self.pk,
                )
                .order_by("valid_from")
                .first()
            )
            if other is not None and not self.is_withdrawn:
                errors["valid_from"] = _(
                    "The period overlaps the citizen pledge %(period)s "
                    "(%(start)s – %(end)s) of the same municipality. Change the period, "
                    "or withdraw that pledge first."
                ) % {
                    "period": other.period_display,
                    "start": other.valid_from.isoformat(),
                    "end": other.valid_to.isoformat(),
                }
        if errors:
            raise ValidationError(errors)


class Commitment(models.Model):
    pledge = models.ForeignKey(
        Pledge, on_delete=models.CASCADE, related_name="commitments", verbose_name=_("pledge")
    )
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    title = models.CharField(
        _("commitment"),
        max_length=300,
        help_text=_("One sentence, e.g. “Ett ökat arbete kring den upplevda tryggheten i hemmet”."),
    )
    purpose = models.TextField(
        _("purpose"), help_text=_("E.g. “Syftet är att stärka den upplevda tryggheten i hemmet.”")
    )
    focus = models.CharField(
        _("focus"),
        max_length=300,
        blank=True,
        help_text=_("E.g. brott i nära relation, hot och våld samt stöldbrott/inbrott."),
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["pledge", "position", "pk"]
        verbose_name = _("commitment")
        verbose_name_plural = _("commitments")

    def __str__(self) -> str:
        return self.title


class Action(models.Model):
    commitment = models.ForeignKey(
        Commitment, on_delete=models.CASCADE, related_name="actions", verbose_name=_("commitment")
    )
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    title = models.CharField(_("action"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    responsible = models.ManyToManyField(
        Organisation,
        related_name="responsible_for_actions",
        verbose_name=_("responsible"),
        help_text=_("The organisations that carry out the action."),
    )
    partners = models.ManyToManyField(
        Organisation,
        related_name="partner_in_actions",
        blank=True,
        verbose_name=_("partners"),
    )
    outcome_note = models.TextField(
        _("how to read the outcome"),
        blank=True,
        help_text=_(
            "Optional, e.g. more reports of violence in close relationships can be a good sign."
        ),
    )

    history = HistoricalRecords(m2m_fields=[responsible, partners])

    class Meta:
        ordering = ["commitment", "position", "pk"]
        verbose_name = _("action")
        verbose_name_plural = _("actions")

    def __str__(self) -> str:
        return self.title


class Contact(models.Model):
    pledge = models.ForeignKey(
        Pledge, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("pledge")
    )
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    name = models.CharField(_("name"), max_length=150)
    role = models.CharField(_("role"), max_length=150, blank=True)
    organisation = models.CharField(_("organisation"), max_length=150, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["pledge", "position", "pk"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")

    def __str__(self) -> str:
        return self.name

    def clean(self):
        if not self.phone and not self.email:
            raise ValidationError(_("Give a phone number or an e-mail address."))


class Adoption(models.Model):
    """A fastställande by one issuing organisation of the exact content
    whose fingerprint it stores. Voided (kept, for history) when the
    content changes."""

    pledge = models.ForeignKey(
        Pledge, on_delete=models.CASCADE, related_name="adoptions", verbose_name=_("pledge")
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", verbose_name=_("organisation")
    )
    side = models.CharField(
        _("party"),
        max_length=10,
        choices=[
            (Organisation.Kind.KOMMUN, Organisation.Kind.KOMMUN.label),
            (Organisation.Kind.POLIS, Organisation.Kind.POLIS.label),
        ],
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    name = models.CharField(_("adopted by"), max_length=150)
    title = models.CharField(_("title"), max_length=150, blank=True)
    adopted_at = models.DateTimeField(_("adopted"))
    fingerprint = models.CharField(_("content fingerprint"), max_length=64)
    voided_at = models.DateTimeField(_("voided"), null=True, blank=True)
    void_reason = models.CharField(_("why voided"), max_length=300, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["pledge", "adopted_at"]
        verbose_name = _("adoption")
        verbose_name_plural = _("adoptions")
        constraints = [
            models.UniqueConstraint(
                fields=["pledge", "side"],
                condition=Q(voided_at__isnull=True),
                name="adoption_one_valid_per_side",
                violation_error_message=_("This party has already adopted the pledge."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} – {self.name}"

    @property
    def is_valid(self) -> bool:
        return self.voided_at is None
