"""Indicator values computed from the survey responses, never typed in.

For every survey of the municipality whose results are published and whose
fieldwork has ended, and that asked the indicator's question:

- n = respondents who answered the question with a choice that is not left
  out of the base (`excluded_choices`, usually "vet_ej": someone who does
  not know whether they feel safe says nothing about safety, as in Brå's
  NTU, so “Vet ej” is not in n); k = those of them who chose one of the
  favourable choices; the value is k / n.
- the 95 % confidence interval is Wilson's score interval (it behaves well
  near 0 % and 100 % and for small n, where the normal approximation
  does not).
- the portal's one small-cell rule (`surveys.disclosure`): the value is
  hidden (“dolt”) when k, n − k or n is under 5, and when, beside the
  survey's public results for the same question, it would reveal a count
  of 1–4 (e.g. n beside the question's n gives those who answered “Vet
  ej”; k beside visible choices gives the hidden ones).
- “the change is larger than the uncertainty”: the latest value's interval
  and the baseline's interval do not overlap. This is a conservative test
  (stricter than a two-proportion z-test at 95 %): when it says “changed”,
  the change is real beyond reasonable doubt; a smaller change is reported
  as “within the uncertainty”, not as “no change”.
- direction “down” means a decrease is good; a counter-intuitive
  direction (more reports of violence can be good) is simply “up”.

All values of one indicator come from three queries (`share_per_survey`,
GROUP BY survey, and the question's public row: its choices' counts and its
respondents), whatever the number of survey years.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from django.db.models import Count
from django.utils import timezone

from followup.models import Indicator
from surveys import disclosure
from surveys.models import Answer, Choice, Question, Survey
from surveys.results import share_by, share_per_survey, suppress

Z95 = 1.959963984540054


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for k successes of n, as shares (0–1)."""
    if n <= 0:
        raise ValueError("n must be positive")
    p = k / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass
class Point:
    survey: Survey
    k: int
    n: int
    is_baseline: bool = False
    # Hidden because of the survey's public results (`series_for`).
    hidden_beside_results: bool = False

    @property
    def suppressed(self) -> bool:
        return self.hidden_beside_results or disclosure.share_hidden(self.k, self.n)

    @property
    def share(self) -> float | None:
        return None if self.suppressed else self.k / self.n

    @property
    def interval(self) -> tuple[float, float] | None:
        return None if self.suppressed else wilson(self.k, self.n)

    @property
    def percent(self) -> float | None:
        return None if self.suppressed else round(100 * self.k / self.n, 1)

    @property
    def low_percent(self) -> float | None:
        return None if self.suppressed else round(100 * self.interval[0], 1)

    @property
    def high_percent(self) -> float | None:
        return None if self.suppressed else round(100 * self.interval[1], 1)

    @property
    def year(self) -> int:
        return timezone.localtime(self.survey.opens_at).year


@dataclass
class Series:
    indicator: Indicator
    points: list[Point] = field(default_factory=list)

    @property
    def baseline(self) -> Point | None:
        return next((p for p in self.points if p.is_baseline), None)

    @property
    def latest(self) -> Point | None:
        return self.points[-1] if self.points else None

    @property
    def comparable(self) -> bool:
        b, last = self.baseline, self.latest
        return bool(b and last and last is not b and not b.suppressed and not last.suppressed)

    @property
    def change(self) -> float | None:
        """Percentage points from the baseline to the latest value."""
        if not self.comparable:
            return None
        return round(self.latest.percent - self.baseline.percent, 1)

    @property
    def significant(self) -> bool:
        """The two 95 % intervals do not overlap."""
        if not self.comparable:
            return False
        b_lo, b_hi = self.baseline.interval
        l_lo, l_hi = self.latest.interval
        return l_lo > b_hi or l_hi < b_lo

    @property
    def verdict(self) -> str:
        """improved | worsened | uncertain | unknown"""
        if not self.comparable:
            return "unknown"
        if not self.significant:
            return "uncertain"
        up = self.latest.share > self.baseline.share
        good = up if self.indicator.direction == Indicator.Direction.UP else not up
        return "improved" if good else "worsened"

    @property
    def target_reached(self) -> bool | None:
        target = self.indicator.target
        if target is None or self.latest is None or self.latest.suppressed:
            return None
        if self.indicator.direction == Indicator.Direction.UP:
            return self.latest.percent >= float(target)
        return self.latest.percent <= float(target)


def surveys_for(municipality_id: int, *, now=None) -> list[Survey]:
    """Surveys whose numbers may be shown: results published, fieldwork ended."""
    return list(
        Survey.objects.filter(
            municipality_id=municipality_id,
            results_published=True,
            closes_at__lte=now or timezone.now(),
        )
        .only("title", "slug", "opens_at", "closes_at", "municipality")
        .order_by("opens_at")
    )


def series_for(indicators, *, municipality_id: int, surveys=None, now=None) -> list[Series]:
    """The values of every indicator: one query for the surveys, then one
    per indicator (not per survey year)."""
    indicators = list(indicators)
    if not indicators:
        return []
    if surveys is None:
        surveys = surveys_for(municipality_id, now=now)
    result = []
    for indicator in indicators:
        values = share_per_survey(
            surveys,
            indicator.question_key,
            indicator.favourable_choices,
            exclude_keys=indicator.excluded_choices,
        )
        rows = public_rows(surveys, indicator.question_key)
        points = []
        for s in surveys:
            if s.pk not in values:
                continue
            k, n = values[s.pk]
            beside = s.pk in rows and disclosure.share_hidden_beside(
                k,
                n,
                **rows[s.pk],
                chosen=indicator.favourable_choices,
                excluded=indicator.excluded_choices,
            )
            points.append(
                Point(
                    survey=s,
                    k=k,
                    n=n,
                    is_baseline=s.pk == indicator.baseline_survey_id,
                    hidden_beside_results=beside,
                )
            )
        result.append(Series(indicator=indicator, points=points))
    return result


def public_rows(surveys, question_key: str) -> dict[int, dict]:
    """How each survey's public results page shows the question (as
    `surveys.results.overall(public=True)` does), in two queries:
    {survey id: {"row": {choice key: (count, hidden)}, "answered": (n,
    hidden), "additive": single choice}}."""
    choices = list(
        Choice.objects.filter(
            question__survey_id__in=[s.pk if hasattr(s, "pk") else s for s in surveys],
            question__key=question_key,
        )
        .values("question__survey_id", "question_id", "question__kind", "key", "position", "pk")
        .annotate(count=Count("answers"))
        .order_by("question_id", "position", "pk")
    )
    answered = dict(
        Answer.objects.filter(question_id__in={c["question_id"] for c in choices})
        .values("question_id")
        .annotate(n=Count("response_id", distinct=True))
        .order_by()
        .values_list("question_id", "n")
    )
    by_question: dict[int, list[dict]] = {}
    for c in choices:
        by_question.setdefault(c["question_id"], []).append(c)
    result = {}
    for question_id, row in by_question.items():
        n = answered.get(question_id, 0)
        hidden = suppress([[c["count"] for c in row]], row_totals=[n])[0]
        result[row[0]["question__survey_id"]] = {
            "row": {
                c["key"]: (c["count"], h or hidden[-1])
                for c, h in zip(row, hidden[:-1], strict=True)
            },
            "answered": (n, hidden[-1]),
            "additive": row[0]["question__kind"] == Question.Kind.SINGLE,
        }
    return result


# The breakdown shown under each indicator: the latest survey by gender.
BREAKDOWN_KEY = "kon"


@dataclass
class BreakdownRow:
    label: str
    n: int | None  # None: hidden
    percent: float | None  # None: hidden


def breakdown(series: Series, *, by_key: str = BREAKDOWN_KEY, language: str = "sv"):
    """The latest value broken down by a background question, with the
    portal's small-cell rule (`surveys.results.suppress`): each group is a
    row of (favourable, not favourable) with its n as the total; a hidden
    favourable cell hides the share, a hidden total hides n. Two queries.
    Returns (survey, rows) or None when there is nothing to show."""
    point = series.latest
    if point is None or point.suppressed:
        return None
    indicator = series.indicator
    cells = share_by(
        point.survey,
        indicator.question_key,
        indicator.favourable_choices,
        by_key,
        exclude_keys=indicator.excluded_choices,
    )
    if not cells or set(cells) == {None}:
        return None  # the survey did not ask the background question
    labels = {
        key: texts.get(language) or texts.get("sv") or key
        for key, texts in Choice.objects.filter(question__survey=point.survey, question__key=by_key)
        .order_by("position", "pk")
        .values_list("key", "texts")
    }
    groups = [g for g in [*labels, None] if g in cells]
    groups += [g for g in cells if g not in groups]
    table = [[cells[g][0], cells[g][1] - cells[g][0]] for g in groups]
    hidden = suppress(table, row_totals=[cells[g][1] for g in groups])
    rows = []
    for g, (k, n), h in zip(groups, (cells[g] for g in groups), hidden, strict=True):
        label = labels.get(g, g) if g is not None else None
        rows.append(
            BreakdownRow(
                label=label,
                n=None if h[-1] else n,
                percent=None if any(h) else round(100 * k / n, 1),
            )
        )
    return point.survey, rows


def chart_geometry(series: Series, *, width: int = 480, height: int = 200) -> dict:
    """Coordinates for the inline SVG chart (attributes only, no styles):
    one bar per survey year with its interval as a line."""
    left, bottom, top = 52, height - 30, 10
    plot_h = bottom - top
    points = series.points
    slot = (width - left - 10) / max(1, len(points))
    bar_w = min(60, slot * 0.6)

    def y(share: float) -> float:
        return round(bottom - share * plot_h, 1)

    bars = []
    for i, p in enumerate(points):
        x = round(left + i * slot + (slot - bar_w) / 2, 1)
        cx = round(x + bar_w / 2, 1)
        bar = {"point": p, "x": x, "cx": cx, "w": round(bar_w, 1), "label_y": height - 10}
        if not p.suppressed:
            lo, hi = p.interval
            bar.update(
                y=y(p.share),
                h=round(p.share * plot_h, 1),
                lo_y=y(lo),
                hi_y=y(hi),
                cap_x1=round(cx - 8, 1),
                cap_x2=round(cx + 8, 1),
            )
        bars.append(bar)
    grid = [{"y": y(v / 100), "label": v} for v in (0, 25, 50, 75, 100)]
    target_y = None
    if series.indicator.target is not None:
        target_y = y(float(series.indicator.target) / 100)
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - 10,
        "bars": bars,
        "grid": grid,
        "target_y": target_y,
    }
