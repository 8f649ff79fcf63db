"""The portal's one small-cell rule, for every published figure of residents'
answers: the survey's public results, the follow-up indicators (page,
printable report) and anything built on them later (an API). No count of
1–4 people may be published, nor be worked out from what is published.

What counts as published together: everything a resident can read about
one survey. That is the survey's public results page (the number of
respondents and the count per choice of every question, the NTU headline,
the breakdowns by gender, age and area) together with every follow-up
indicator computed from that survey (its share, which with n gives k, and
its n; its breakdown by gender), wherever it is shown. The feed and the
pledge summaries publish no residents' figures (counts of actions only).

The rule:

- A count under 5 is hidden, and so is 0: were 0 shown, "hidden" would
  mean "1–4 people", itself a disclosure. A group (row) of fewer than 5
  respondents is hidden whole. A share k/n is shown only when k, n − k and
  n are all 5 or more (`share_hidden`).
- Tables (`suppress`): every row (a group: its cells and its n) and every
  column (a choice: the groups' cells and the overall count, which is
  published beside them) is a line whose total is published. In a line,
  (a) no cell may be the only hidden one (it would be the total minus the
  rest), (b) the hidden cells together may not be 1–4 (total minus the
  visible cells), and (c) the total minus any single visible cell may not
  be 1–4 (in a multiple-choice question the cells overlap, so (a) and (b)
  say nothing there, while (c) still holds). Cells are hidden, smallest
  first, until every line holds. The overall row (`margin`) is given and
  never changed, so a breakdown hides no figure of the overall results.
- Figures computed from the same answers on different pages
  (`reveals_small`): an indicator's k, n − k and n against the survey's
  results for the same question. Each figure is a set of choices (of one group) with its count;
  no figure may be 1–4, no difference between a figure and one whose set
  holds it may be 1–4, and (single choice, where counts add up) no figure
  minus the visible cells inside it may be 1–4.

What is not covered yet: an indicator's breakdown by gender against the
results page's breakdown of the same question (the results page breaks
down the NTU question only; an indicator on that question by gender would
need `reveals_small` per group row); differences between surveys (two years' n are
different people), and how many left a question unanswered (the number of
responses minus a question's n: skipping says nothing about an answer).
Chains of three or more figures across rows and columns are covered only
as far as the line rules reach (every line keeps two hidden cells or none);
the breakdowns published are small (2–8 groups × at most 8 choices).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import combinations

MIN_CELL = 5


def small(count: int) -> bool:
    """A count that must never be published or derivable: 1–4 people."""
    return 0 < count < MIN_CELL


def share_hidden(k: int, n: int) -> bool:
    """Whether the share k of n (shown with its n, so k and n − k are
    known) must be hidden."""
    return n < MIN_CELL or k < MIN_CELL or n - k < MIN_CELL


def suppress(
    rows: list[list[int]],
    *,
    row_totals: list[int] | None = None,
    margin: Sequence[bool] | None = None,
) -> list[list[bool]]:
    """Which cells of a table to hide (True = hidden); see the module
    docstring. `rows` are groups × choices, `row_totals` the groups' n (the
    cells' sum when not given). The result has one more column, the n.

    `margin` is how the column totals (each choice's overall count, then
    the overall n) are published: hidden (True) or not. Without it they are
    all shown, except with a single row, where they are the row itself."""
    totals = row_totals if row_totals is not None else [sum(r) for r in rows]
    table = [[*r, t] for r, t in zip(rows, totals, strict=True)]
    if not table:
        return []
    width = len(table[0])
    hidden = [[v < MIN_CELL for v in r] for r in table]
    for i, t in enumerate(totals):
        if t < MIN_CELL:
            hidden[i] = [True] * width
    # A line: its cells (coordinates in the table) and its total, either a
    # cell of the table (the row's n) or a fixed margin value.
    lines: list[tuple[list[tuple[int, int]], tuple[int, int] | None, int, bool]] = []
    for i in range(len(table)):
        lines.append(([(i, j) for j in range(width - 1)], (i, width - 1), totals[i], False))
    if margin is not None or len(table) > 1:
        for j in range(width):
            column_total = sum(table[i][j] for i in range(len(table)))
            margin_hidden = bool(margin[j]) if margin is not None else False
            lines.append(([(i, j) for i in range(len(table))], None, column_total, margin_hidden))
    changed = True
    while changed:
        changed = False
        for cells, total_cell, total, margin_hidden in lines:
            total_hidden = hidden[total_cell[0]][total_cell[1]] if total_cell else margin_hidden
            if not total_hidden:
                for i, j in cells:
                    if not hidden[i][j] and small(total - table[i][j]):
                        hidden[i][j] = changed = True
            members = cells + ([total_cell] if total_cell else [])
            visible = [c for c in members if not hidden[c[0]][c[1]]]
            needs = len(members) - len(visible) + margin_hidden == 1
            if not total_hidden:
                needs = needs or small(sum(table[i][j] for i, j in cells if hidden[i][j]))
            if needs and visible:
                i, j = min(visible, key=lambda c: table[c[0]][c[1]])
                hidden[i][j] = changed = True
    return hidden


Figure = tuple[frozenset, int]


def reveals_small(figures: Iterable[Figure], *, additive: bool) -> bool:
    """Whether published figures, each (a set of choices, its count), give
    a count of 1–4: alone, as the difference of a figure and one whose set
    holds it, or (`additive`: a respondent is in one choice only) as a
    figure minus the single-choice figures inside it."""
    figures = list(dict.fromkeys(figures))
    if any(small(value) for _, value in figures):
        return True
    for (a, x), (b, y) in combinations(figures, 2):
        if (a < b and small(y - x)) or (b < a and small(x - y)):
            return True
    if additive:
        cells = [(s, v) for s, v in figures if len(s) == 1]
        for s, value in figures:
            inside = sum(v for c, v in cells if c <= s)
            if len(s) > 1 and small(value - inside):
                return True
    return False


def share_hidden_beside(
    k: int,
    n: int,
    *,
    row: dict[str, tuple[int, bool]],
    answered: tuple[int, bool],
    chosen: Iterable[str],
    excluded: Iterable[str] = (),
    additive: bool = True,
) -> bool:
    """Whether a share computed from one question (k of n: respondents who
    chose one of `chosen`, among those who answered with a choice not in
    `excluded`) must be hidden, given how the survey's public results show
    that question: `row` {choice key: (count, hidden)} and `answered`
    (its n, hidden). The NTU headline and every follow-up indicator are such
    shares; `additive`: a single-choice question."""
    if share_hidden(k, n):
        return True
    keys = frozenset(row)
    base = keys - set(excluded)
    favourable = base & set(chosen)
    figures = [(frozenset([key]), count) for key, (count, hidden) in row.items() if not hidden]
    if not answered[1]:
        figures.append((keys, answered[0]))
    figures += [(favourable, k), (base - favourable, n - k), (base, n)]
    return reveals_small(figures, additive=additive)
