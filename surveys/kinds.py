"""Question kinds: one class per `Question.Kind`, each owning everything
that differs between kinds.

A kind gives
- its form fields and their validation (`form_fields`, `clean`; used by
  `surveys.forms.SurveyForm`), and the answer rows a cleaned value becomes
  (`answers`, a list of `services.AnswerData`);
- its export columns and their values (`export_columns`, `export_cells`;
  `surveys.exports`);
- its results (`tally_field`, `result`; `surveys.results.overall`), which
  `surveys.presentation.chart` shows whatever the kind;
- the rules of its own settings on the question (`check_question`, called
  from `Question.clean`).

Adding a kind: a class here, registered with `@register`, its value in
`Question.Kind`, and a migration if its answers need a column.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django import forms
from django.utils.translation import gettext_lazy as _

from surveys.models import Question
from surveys.services import AnswerData

if TYPE_CHECKING:
    from surveys.forms import SurveyForm
    from surveys.results import QuestionResult

# How an export reads one answer: (choice id, text, district name, number).
# A kind's cell writer returns (column offset within the question's own
# columns, value) pairs for it.
CellWriter = Callable[
    [int | None, str | None, str | None, int | None], Iterable[tuple[int, object]]
]

KINDS: dict[str, QuestionKind] = {}


def register(cls):
    KINDS[cls.value] = cls()
    return cls


def of(question: Question) -> QuestionKind:
    return KINDS[question.kind]


def _too_long(form: SurveyForm, q: Question) -> str:
    return form.texts["too_long"] % {"limit": q.max_length}


def _choice_messages(form: SurveyForm) -> dict:
    t = form.texts
    return {
        "required": t["required"],
        "invalid_choice": t["invalid_choice"],
        "invalid_list": t["invalid_choice"],
    }


class QuestionKind:
    value: str
    # Counted in the results (choices per question, or a number's values).
    tally_field: str | None = None
    has_choices = False
    # An answer row holds nothing but the resident's text (retention deletes it).
    text_only = False

    def name(self, q: Question) -> str:
        return f"q_{q.key}"

    def form_fields(self, q: Question, form: SurveyForm) -> dict[str, forms.Field]:
        raise NotImplementedError

    def clean(self, q: Question, form: SurveyForm, cleaned: dict) -> None:
        """Checks across the question's fields; add errors to `form`."""

    def answers(self, q: Question, cleaned: dict) -> list[AnswerData]:
        raise NotImplementedError

    def export_columns(self, q: Question) -> list[str]:
        raise NotImplementedError

    def export_cells(self, q: Question) -> CellWriter:
        raise NotImplementedError

    def result(self, q: Question, counts: dict, n: int, *, public: bool) -> QuestionResult | None:
        """`counts`: {value of `tally_field`: answers}; `n`: respondents."""
        return None

    def check_question(self, q: Question, errors: dict) -> None:
        """The kind's rules for the question's own settings (Question.clean)."""


class ChoiceKind(QuestionKind):
    tally_field = "choice_id"
    has_choices = True

    def result(self, q, counts, n, *, public):
        from surveys.results import ChoiceResult, QuestionResult, suppress

        choices = list(q.choices.all())
        values = [counts.get(c.pk, 0) for c in choices]
        hidden = suppress([values], row_totals=[n])[0] if public else [False] * (len(values) + 1)
        return QuestionResult(
            question=q,
            n=n,
            hidden_n=hidden[-1],
            choices=[
                ChoiceResult(c, v, (v / n if n else None), hidden[i])
                for i, (c, v) in enumerate(zip(choices, values, strict=True))
            ],
        )


@register
class SingleKind(ChoiceKind):
    value = Question.Kind.SINGLE

    def form_fields(self, q, form):
        return {
            self.name(q): forms.ChoiceField(
                label=q.text(form.language),
                required=q.required,
                choices=[(str(c.pk), c.text(form.language)) for c in q.choices.all()],
                widget=forms.RadioSelect,
                error_messages=_choice_messages(form),
            )
        }

    def answers(self, q, cleaned):
        value = cleaned.get(self.name(q))
        return [AnswerData(q.pk, choice_id=int(value))] if value else []

    def export_columns(self, q):
        return [q.key]

    def export_cells(self, q):
        keys = {c.pk: c.key for c in q.choices.all()}

        def cells(choice_id, text, district, number):
            return ((0, keys[choice_id]),) if choice_id in keys else ()

        return cells


@register
class MultipleKind(ChoiceKind):
    value = Question.Kind.MULTIPLE

    def other(self, q: Question, choice) -> str:
        """The field of a choice's "Annat, nämligen …" text."""
        return f"{self.name(q)}__{choice.key}"

    def form_fields(self, q, form):
        t = form.texts
        fields = {
            self.name(q): forms.MultipleChoiceField(
                label=q.text(form.language),
                required=q.required,
                choices=[(str(c.pk), c.text(form.language)) for c in q.choices.all()],
                widget=forms.CheckboxSelectMultiple,
                error_messages=_choice_messages(form),
            )
        }
        for c in q.choices.all():
            if c.allows_text:
                fields[self.other(q, c)] = forms.CharField(
                    label=t["other_label"] % {"choice": c.text(form.language).rstrip(" ….")},
                    required=False,
                    max_length=q.max_length,
                    error_messages={"max_length": _too_long(form, q)},
                )
        return fields

    def clean(self, q, form, cleaned):
        name = self.name(q)
        # A box sent twice (a crafted request) is one answer.
        if cleaned.get(name):
            cleaned[name] = list(dict.fromkeys(cleaned[name]))
        chosen = set(cleaned.get(name) or [])
        for c in q.choices.all():
            other = self.other(q, c)
            if c.allows_text and str(c.pk) in chosen and not cleaned.get(other):
                form.add_error(
                    other,
                    form.texts["other_text"] % {"choice": c.text(form.language).rstrip(" ….")},
                )

    def answers(self, q, cleaned):
        by_id = {str(c.pk): c for c in q.choices.all()}
        answers = []
        for choice_id in cleaned.get(self.name(q)) or []:
            c = by_id[choice_id]
            text = cleaned.get(self.other(q, c)) if c.allows_text else None
            answers.append(AnswerData(q.pk, choice_id=c.pk, text=text or None))
        return answers

    def export_columns(self, q):
        columns = []
        for c in q.choices.all():
            columns.append(f"{q.key}.{c.key}")
            if c.allows_text:
                columns.append(f"{q.key}.{c.key}.text")
        return columns

    def export_cells(self, q):
        offsets = {}
        offset = 0
        for c in q.choices.all():
            offsets[c.pk] = (offset, offset + 1 if c.allows_text else None)
            offset += 2 if c.allows_text else 1

        def cells(choice_id, text, district, number):
            if choice_id not in offsets:
                return ()
            ticked, ticked_text = offsets[choice_id]
            if text and ticked_text is not None:
                return ((ticked, 1), (ticked_text, text))
            return ((ticked, 1),)

        return cells


@register
class TextKind(QuestionKind):
    value = Question.Kind.TEXT
    text_only = True

    def form_fields(self, q, form):
        return {
            self.name(q): forms.CharField(
                label=q.text(form.language),
                required=q.required,
                max_length=q.max_length,
                widget=forms.Textarea(attrs={"rows": 4}),
                error_messages={
                    "required": form.texts["required"],
                    "max_length": _too_long(form, q),
                },
            )
        }

    def answers(self, q, cleaned):
        value = cleaned.get(self.name(q))
        return [AnswerData(q.pk, text=value)] if value else []

    def export_columns(self, q):
        return [q.key]

    def export_cells(self, q):
        def cells(choice_id, text, district, number):
            return ((0, text),) if text else ()

        return cells


@register
class PlaceKind(QuestionKind):
    value = Question.Kind.PLACE

    def form_fields(self, q, form):
        t = form.texts
        name = self.name(q)
        return {
            name: forms.ChoiceField(
                label=f"{q.text(form.language)} – {t['place_district']}",
                required=q.required,
                choices=[("", "–"), *[(k, d.name) for k, d in form.districts.items()]],
                error_messages=_choice_messages(form),
            ),
            f"{name}__text": forms.CharField(
                label=t["place_text"],
                required=False,
                max_length=q.max_length,
                widget=forms.Textarea(attrs={"rows": 3}),
                error_messages={"max_length": _too_long(form, q)},
            ),
        }

    def clean(self, q, form, cleaned):
        name = self.name(q)
        if cleaned.get(f"{name}__text") and not cleaned.get(name):
            form.add_error(name, form.texts["place_needs_district"])

    def answers(self, q, cleaned):
        name = self.name(q)
        value = cleaned.get(name)
        if not value:
            return []
        return [AnswerData(q.pk, district_id=int(value), text=cleaned.get(f"{name}__text") or None)]

    def export_columns(self, q):
        return [f"{q.key}.omrade", f"{q.key}.text"]

    def export_cells(self, q):
        def cells(choice_id, text, district, number):
            return [(i, v) for i, v in ((0, district), (1, text)) if v]

        return cells


@dataclass(frozen=True)
class Bin:
    """A range of a number question's answers, shown like a choice."""

    low: int
    high: int

    @property
    def key(self) -> str:
        return str(self.low) if self.low == self.high else f"{self.low}-{self.high}"

    def text(self, language: str = "sv") -> str:
        return str(self.low) if self.low == self.high else f"{self.low}–{self.high}"


def bins(low: int, high: int, most: int = 10) -> list[Bin]:
    """At most `most` ranges of equal width covering low..high."""
    width = -(-(high - low + 1) // most)
    return [Bin(start, min(start + width - 1, high)) for start in range(low, high + 1, width)]


def median(counts: dict[int, int]) -> float | None:
    """The median of values given as {value: how many}."""
    n = sum(counts.values())
    if not n:
        return None
    wanted = [(n - 1) // 2, n // 2]  # the middle positions, 0-based
    found = []
    seen = 0
    for value in sorted(counts):
        seen += counts[value]
        while wanted and wanted[0] < seen:
            found.append(value)
            wanted.pop(0)
    return (found[0] + found[1]) / 2


@register
class NumberKind(QuestionKind):
    """A whole number between the question's number_min and number_max,
    e.g. "Hur många gånger har du …". Results: the distribution over at
    most ten ranges and the median, small cells hidden for officials too
    (a rare number can point at one person)."""

    value = Question.Kind.NUMBER
    tally_field = "number"

    def form_fields(self, q, form):
        t = form.texts
        limits = {"min": q.number_min, "max": q.number_max}
        return {
            self.name(q): forms.IntegerField(
                label=q.text(form.language),
                required=q.required,
                min_value=q.number_min,
                max_value=q.number_max,
                widget=forms.NumberInput(attrs={"step": 1, "inputmode": "numeric"}),
                error_messages={
                    "required": t["required"],
                    "invalid": t["not_whole_number"],
                    "min_value": t["out_of_range"] % limits,
                    "max_value": t["out_of_range"] % limits,
                },
            )
        }

    def answers(self, q, cleaned):
        value = cleaned.get(self.name(q))
        return [] if value is None else [AnswerData(q.pk, number=value)]

    def export_columns(self, q):
        return [q.key]

    def export_cells(self, q):
        def cells(choice_id, text, district, number):
            return () if number is None else ((0, number),)

        return cells

    def result(self, q, counts, n, *, public):
        from surveys.results import MIN_CELL, ChoiceResult, QuestionResult, suppress

        ranges = bins(q.number_min, q.number_max)
        values = [sum(k for v, k in counts.items() if b.low <= v <= b.high) for b in ranges]
        n = sum(counts.values())
        hidden = suppress([values], row_totals=[n])[0]
        return QuestionResult(
            question=q,
            n=n,
            hidden_n=hidden[-1],
            choices=[
                ChoiceResult(b, v, (v / n if n else None), hidden[i])
                for i, (b, v) in enumerate(zip(ranges, values, strict=True))
            ],
            median=median(counts) if n >= MIN_CELL else None,
        )

    def check_question(self, q, errors):
        if q.number_min is None:
            errors["number_min"] = _("Give the smallest answer allowed.")
        if q.number_max is None:
            errors["number_max"] = _("Give the largest answer allowed.")
        if q.number_min is not None and q.number_max is not None and q.number_min > q.number_max:
            errors["number_max"] = _("The largest answer must not be smaller than the smallest.")
