"""Turn results into what templates show: labels in a language, bar
lengths for the SVG charts (attributes, never inline styles), percentages."""

from __future__ import annotations

from django.utils.formats import number_format

from surveys.results import Breakdown, QuestionResult

BAR_WIDTH = 300
ROW_HEIGHT = 22


def percent(value: float | None) -> str:
    return "–" if value is None else number_format(round(value * 100, 1), 1)


def _number(value: float | None) -> str | None:
    if value is None:
        return None
    return number_format(int(value) if value == int(value) else value, 1)


def chart(result: QuestionResult, language: str = "sv") -> dict:
    rows = []
    for i, c in enumerate(result.choices):
        visible_share = None if c.hidden or result.hidden_n else c.share
        rows.append(
            {
                "label": c.choice.text(language),
                "key": c.choice.key,
                "count": c.count,
                "hidden": c.hidden or result.hidden_n,
                "share": visible_share,
                "percent": percent(visible_share),
                "bar": round((visible_share or 0) * BAR_WIDTH, 1),
                "y": i * ROW_HEIGHT + 3,
            }
        )
    return {
        "question": {"key": result.question.key, "text_sv": result.question.text(language)},
        "n": result.n,
        "hidden_n": result.hidden_n,
        "median": _number(result.median),
        "choices": rows,
        "chart_height": max(len(rows) * ROW_HEIGHT, ROW_HEIGHT),
    }


def breakdown_table(b: Breakdown, caption: str, language: str = "sv") -> dict:
    return {
        "caption": caption,
        "by_label": b.by.text(language),
        "choice_labels": [c.text(language) for c in b.choices],
        "rows": list(b.rows(language)),
    }
