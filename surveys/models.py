"""Surveys: the questionnaire (sections, questions, choices), anonymous
responses and their answers, and the one-time helpers of fieldwork
(submission nonces, invitation codes).

Privacy by construction: Response stores the survey, the *date* (never a
time), the language and the channel; nothing else. Response, Answer,
SubmissionNonce and Invitation have no history tables (a history row would
store a timestamp and a user), and nothing links a nonce or a code to the
response it allowed.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from portal import scope
from portal.models import District, Municipality
from surveys.anonymity import random_id

LANGUAGES = [("sv", "Svenska"), ("en", "English"), ("fi", "Suomi")]
LANGUAGE_CODES = [code for code, _name in LANGUAGES]
TEXT_MAX_LENGTH = 2000


def text_in(texts: dict | None, language: str) -> str:
    """The text in `language`, falling back to Swedish, then any language."""
    texts = texts or {}
    return texts.get(language) or texts.get("sv") or next(iter(texts.values()), "")


def validate_texts(value) -> None:
    if not isinstance(value, dict) or not value.get("sv"):
        raise ValidationError(_('Give at least the Swedish text, e.g. {"sv": "…"}.'))
    for code, text in value.items():
        if code not in LANGUAGE_CODES or not isinstance(text, str):
            raise ValidationError(_("Texts are given per language: sv, en and fi, each as a text."))


def validate_languages(value) -> None:
    if not isinstance(value, list) or not value or "sv" not in value:
        raise ValidationError(_("Offer Swedish, and optionally English and Finnish."))
    if any(code not in LANGUAGE_CODES for code in value) or len(set(value)) != len(value):
        raise ValidationError(_("Languages are chosen among sv, en and fi."))


class SurveyQuerySet(models.QuerySet):
    def open_now(self):
        now = timezone.now()
        return self.filter(opens_at__lte=now, closes_at__gt=now)

    def for_municipality(self, municipality):
        return self.filter(municipality=municipality)

    def for_user(self, user):
        return scope.filter_queryset(self, user, "municipality")


class Survey(models.Model):
    class Mode(models.TextChoices):
        OPEN = "open", _("open (anyone with the link)")
        INVITATION = "invitation", _("invitation (one-time codes)")

    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        related_name="surveys",
        verbose_name=_("municipality"),
    )
    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(
        _("address"), max_length=80, help_text=_("Used in the address, e.g. hosten-2026.")
    )
    intro = models.TextField(_("introduction"), blank=True)
    intro_texts = models.JSONField(
        _("introduction in other languages"),
        default=dict,
        blank=True,
        help_text=_(
            'Optional: {"en": "…", "fi": "…"}. The Swedish text is the introduction above.'
        ),
    )
    opens_at = models.DateTimeField(_("opens"))
    closes_at = models.DateTimeField(_("closes"))
    mode = models.CharField(_("mode"), max_length=12, choices=Mode.choices, default=Mode.OPEN)
    languages = models.JSONField(
        _("languages offered"),
        default=list,
        validators=[validate_languages],
        help_text=_('A list of language codes: ["sv", "en", "fi"].'),
    )
    results_published = models.BooleanField(_("results published"), default=False)
    copied_from = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="copies",
        verbose_name=_("copied from"),
    )
    generated = models.BooleanField(
        _("generated demo responses"),
        default=False,
        help_text=_("The responses are generated example data, not real answers."),
    )

    history = HistoricalRecords()
    objects = SurveyQuerySet.as_manager()

    class Meta:
        ordering = ["municipality", "-opens_at"]
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        constraints = [
            models.UniqueConstraint(fields=["municipality", "slug"], name="survey_unique_slug"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse(
            "surveys:survey", kwargs={"municipality": self.municipality.slug, "slug": self.slug}
        )

    def clean(self):
        if self.opens_at and self.closes_at and self.closes_at <= self.opens_at:
            raise ValidationError({"closes_at": _("The survey must close after it opens.")})
        if not self.languages:
            self.languages = ["sv"]

    @cached_property
    def thanks_url(self) -> str:
        """Where a saved submission is sent; kept on the instance, which the
        process keeps for a burst of submissions (surveys/views.py)."""
        return reverse(
            "surveys:thanks", kwargs={"municipality": self.municipality.slug, "slug": self.slug}
        )

    def get_results_url(self) -> str:
        return reverse(
            "surveys:results", kwargs={"municipality": self.municipality.slug, "slug": self.slug}
        )

    def state(self, now=None) -> str:
        """'upcoming', 'open' or 'closed'."""
        now = now or timezone.now()
        if now < self.opens_at:
            return "upcoming"
        if now >= self.closes_at:
            return "closed"
        return "open"

    def intro_in(self, language: str) -> str:
        if language != "sv" and self.intro_texts.get(language):
            return self.intro_texts[language]
        return self.intro

    @property
    def offered_languages(self) -> list[tuple[str, str]]:
        return [(code, name) for code, name in LANGUAGES if code in (self.languages or ["sv"])]


class Section(models.Model):
    survey = models.ForeignKey(
        Survey, on_delete=models.CASCADE, related_name="sections", verbose_name=_("survey")
    )
    key = models.SlugField(_("key"), max_length=60)
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    texts = models.JSONField(
        _("heading"),
        default=dict,
        validators=[validate_texts],
        help_text=_('{"sv": "…", "en": "…", "fi": "…"}'),
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["survey", "position", "id"]
        verbose_name = _("section")
        verbose_name_plural = _("sections")
        constraints = [
            models.UniqueConstraint(fields=["survey", "key"], name="section_unique_key"),
        ]

    def __str__(self) -> str:
        return text_in(self.texts, "sv")

    def text(self, language: str) -> str:
        return text_in(self.texts, language)


class QuestionGroup(models.Model):
    """Items that share one scale, e.g. block C "Hur ofta … oro för …"."""

    survey = models.ForeignKey(
        Survey, on_delete=models.CASCADE, related_name="groups", verbose_name=_("survey")
    )
    key = models.SlugField(_("key"), max_length=60)
    texts = models.JSONField(
        _("common question"),
        default=dict,
        validators=[validate_texts],
        help_text=_('{"sv": "…", "en": "…", "fi": "…"}'),
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["survey", "key"]
        verbose_name = _("question group")
        verbose_name_plural = _("question groups")
        constraints = [
            models.UniqueConstraint(fields=["survey", "key"], name="group_unique_key"),
        ]

    def __str__(self) -> str:
        return text_in(self.texts, "sv")

    def text(self, language: str) -> str:
        return text_in(self.texts, language)


class QuestionQuerySet(models.QuerySet):
    def with_choices(self):
        return self.select_related("section", "group").prefetch_related("choices")

    def in_form_order(self):
        """With their choices, in the order the form shows them (by section,
        then position): the order of results, exports and the form."""
        return self.with_choices().order_by("section__position", "position", "id")


class Question(models.Model):
    class Kind(models.TextChoices):
        SINGLE = "single", _("single choice")
        MULTIPLE = "multiple", _("multiple choice")
        TEXT = "text", _("free text")
        PLACE = "place", _("place (district and description)")
        NUMBER = "number", _("whole number")

    survey = models.ForeignKey(
        Survey, on_delete=models.CASCADE, related_name="questions", verbose_name=_("survey")
    )
    section = models.ForeignKey(
        Section, on_delete=models.PROTECT, related_name="questions", verbose_name=_("section")
    )
    group = models.ForeignKey(
        QuestionGroup,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="questions",
        verbose_name=_("group"),
        help_text=_("Items of a group share one scale and are shown together."),
    )
    key = models.SlugField(
        _("key"),
        max_length=60,
        help_text=_("Stable between years, so that results can be compared, e.g. trygghet_hemmet."),
    )
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    texts = models.JSONField(
        _("question"),
        default=dict,
        validators=[validate_texts],
        help_text=_('{"sv": "…", "en": "…", "fi": "…"}'),
    )
    required = models.BooleanField(_("required"), default=False)
    max_length = models.PositiveSmallIntegerField(
        _("longest answer (characters)"), default=1000, help_text=_("For free text and places.")
    )
    number_min = models.IntegerField(
        _("smallest answer"), null=True, blank=True, help_text=_("For whole numbers.")
    )
    number_max = models.IntegerField(
        _("largest answer"), null=True, blank=True, help_text=_("For whole numbers.")
    )

    history = HistoricalRecords()
    objects = QuestionQuerySet.as_manager()

    class Meta:
        ordering = ["survey", "section__position", "position", "id"]
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        constraints = [
            models.UniqueConstraint(fields=["survey", "key"], name="question_unique_key"),
        ]

    def __str__(self) -> str:
        return f"{self.key}: {text_in(self.texts, 'sv')}"

    def text(self, language: str) -> str:
        return text_in(self.texts, language)

    @property
    def has_choices(self) -> bool:
        from surveys import kinds

        kind = kinds.KINDS.get(self.kind)
        return kind is not None and kind.has_choices

    def clean(self):
        errors = {}
        if self.section_id and self.survey_id and self.section.survey_id != self.survey_id:
            errors["section"] = _("The section belongs to another survey.")
        if self.group_id and self.survey_id and self.group.survey_id != self.survey_id:
            errors["group"] = _("The group belongs to another survey.")
        if self.max_length and self.max_length > TEXT_MAX_LENGTH:
            errors["max_length"] = _("At most %(n)d characters.") % {"n": TEXT_MAX_LENGTH}
        from surveys import kinds

        if self.kind in kinds.KINDS:
            kinds.of(self).check_question(self, errors)
        if self.pk:
            old = Question.objects.filter(pk=self.pk).values("key", "kind").first()
            if old and Answer.objects.filter(question_id=self.pk).exists():
                if old["key"] != self.key:
                    errors["key"] = _(
                        "The key cannot be changed: the survey has answers to this question, and "
                        "the key is what makes years comparable."
                    )
                if old["kind"] != self.kind:
                    errors["kind"] = _(
                        "The kind cannot be changed: the survey has answers to this question."
                    )
        if errors:
            raise ValidationError(errors)


class Choice(models.Model):
    question = models.ForeignKey(
        Question, on_delete=models.CASCADE, related_name="choices", verbose_name=_("question")
    )
    key = models.SlugField(_("key"), max_length=60)
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    texts = models.JSONField(
        _("answer"),
        default=dict,
        validators=[validate_texts],
        help_text=_('{"sv": "…", "en": "…", "fi": "…"}'),
    )
    allows_text = models.BooleanField(
        _("with free text"), default=False, help_text=_("E.g. “Annat, nämligen …”.")
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["question", "position", "id"]
        verbose_name = _("choice")
        verbose_name_plural = _("choices")
        constraints = [
            models.UniqueConstraint(fields=["question", "key"], name="choice_unique_key"),
        ]

    def __str__(self) -> str:
        return text_in(self.texts, "sv")

    def text(self, language: str) -> str:
        return text_in(self.texts, language)

    def clean(self):
        if self.pk:
            old_key = Choice.objects.filter(pk=self.pk).values_list("key", flat=True).first()
            if (
                old_key
                and old_key != self.key
                and Answer.objects.filter(choice_id=self.pk).exists()
            ):
                raise ValidationError(
                    {
                        "key": _(
                            "The key cannot be changed: residents have chosen this answer, and "
                            "the key is what makes years comparable."
                        )
                    }
                )


class Response(models.Model):
    """One resident's answers. Deliberately nothing that identifies anyone:
    no time finer than the date, no IP address, user agent or cookie."""

    class Channel(models.TextChoices):
        WEB = "web", _("web")
        PAPER = "paper", _("paper")

    # Random, not from a sequence: an id in submission order would pair a
    # response with an access log's POSTs (surveys/anonymity.py).
    id = models.BigIntegerField(primary_key=True, default=random_id, editable=False)
    # No index of its own: (survey, date) below serves every lookup by survey.
    survey = models.ForeignKey(
        Survey,
        on_delete=models.PROTECT,
        related_name="responses",
        verbose_name=_("survey"),
        db_index=False,
    )
    date = models.DateField(_("date"))
    language = models.CharField(_("language"), max_length=2, choices=LANGUAGES, default="sv")
    channel = models.CharField(
        _("channel"), max_length=5, choices=Channel.choices, default=Channel.WEB
    )

    class Meta:
        verbose_name = _("response")
        verbose_name_plural = _("responses")
        indexes = [models.Index(fields=["survey", "date"])]

    def __str__(self) -> str:
        return f"{self.survey_id}/{self.pk}"


class Answer(models.Model):
    # A submission writes some sixty answers in one INSERT, and every index
    # is maintained for each of them: only the indexes a query needs exist.
    # response and question are served by the composite indexes in Meta
    # (they lead them), district by a partial index (one answer in sixty
    # names a district). The (question, response, choice) index holds all
    # the results need: they read it alone (index-only), ordered by response
    # within a question, so a breakdown merges two questions' answers
    # without sorting (surveys/results.py).
    # Foreign keys for response, question, choice and district; that the
    # question, choice and district belong to the response's survey is
    # checked by a statement-level trigger (migration
    # 0009_answer_integrity_in_the_schema, bench/NOTES.md).
    # Random ids, as for Response (surveys/anonymity.py).
    id = models.BigIntegerField(primary_key=True, default=random_id, editable=False)
    response = models.ForeignKey(
        Response,
        on_delete=models.CASCADE,
        related_name="answers",
        verbose_name=_("response"),
        db_index=False,
    )
    question = models.ForeignKey(
        Question,
        on_delete=models.PROTECT,
        related_name="answers",
        verbose_name=_("question"),
        db_index=False,
    )
    choice = models.ForeignKey(
        Choice,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="answers",
        verbose_name=_("choice"),
    )
    text = models.CharField(_("text"), max_length=TEXT_MAX_LENGTH, null=True, blank=True)  # noqa: DJ001 - NULL: no text given
    number = models.IntegerField(_("number"), null=True, blank=True)
    district = models.ForeignKey(
        District,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("district"),
        db_index=False,
    )

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        indexes = [
            models.Index(fields=["question", "response", "choice"]),
            models.Index(fields=["response", "question"]),
            models.Index(
                fields=["district"],
                condition=models.Q(district__isnull=False),
                name="surveys_answer_district_set",
            ),
        ]

    def __str__(self) -> str:
        # Shown in admin messages: says nothing about the respondent.
        return str(_("answer"))


class PendingResponse(models.Model):
    """A response saved since the last anonymity batch, which rewrites it
    (and its code's survey) in random order and deletes this row
    (surveys/anonymity.py). Only the response's id: no foreign key, so the
    submission takes no extra lock, and the batch drops rows whose response
    was deleted meanwhile."""

    response_id = models.BigIntegerField(primary_key=True)
    # Set by the batch's first transaction, which rewrote the codes of this
    # response's survey; its second rewrites the marked responses.
    codes_shuffled = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("response awaiting anonymisation")
        verbose_name_plural = _("responses awaiting anonymisation")

    def __str__(self) -> str:
        return str(self.response_id)


class SubmissionNonce(models.Model):
    """Proof that one rendered form was already used: only a hash of the
    random nonce, no time, no link to the response. Purged after closing."""

    # One index beside the primary key: every submission inserts a nonce, and
    # each index is written for it. A form's token is signed with its survey,
    # so a nonce needs to be unique within its survey only; the same index
    # finds a survey's nonces for the purge after closing.
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="+", db_index=False)
    digest = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("submission nonce")
        verbose_name_plural = _("submission nonces")
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "digest"], name="surveys_nonce_once_per_survey"
            )
        ]

    def __str__(self) -> str:
        return self.digest[:8]


class Invitation(models.Model):
    """A one-time code for invitation mode, stored as an HMAC only, never
    linked to the response it allowed; deleted after fieldwork."""

    survey = models.ForeignKey(
        Survey, on_delete=models.CASCADE, related_name="invitations", verbose_name=_("survey")
    )
    code_hash = models.CharField(max_length=64, unique=True)
    used = models.BooleanField(_("used"), default=False)

    class Meta:
        verbose_name = _("invitation code")
        verbose_name_plural = _("invitation codes")

    def __str__(self) -> str:
        return self.code_hash[:8]
