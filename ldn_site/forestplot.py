"""Forest plots: numeric effects with confidence intervals drawn as inline SVG at build time.

Owns the geometry of one plot, which shows one outcome, one effect measure and one comparison
(the caller groups the rows; estimates on different scales or of different outcomes never
share an axis): one row per estimate (its label and numbers on one line, the interval and
point estimate under it), trials first, each as a square, then pooled estimates of
meta-analyses, each as a diamond under a "Pooled" rule; the axis and its ticks (linear for
differences, logarithmic for ratios, with the line of no effect at 0 or 1); the labels on
either side ("Favours LDN", "Favours placebo", or, when the content does not say which way is
better, "Lower with LDN" and "Higher with LDN"); and the same numbers as table rows, which
are the plot's text alternative (the SVG itself is hidden from screen readers) and what narrow
screens show instead of it. Every text is measured with generous character widths and
shortened or placed so that it stays inside the viewBox. Everything is drawn in
``currentColor`` so that the stylesheet decides the colours for light, dark and print. Pure:
numbers in, an SVG string (or table rows) out; every piece of text is XML-escaped here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

WIDTH = 480
MARGIN = 4          # between the viewBox's edge and any text
AXIS_PAD = 26       # between the viewBox's edge and the axis' ends, room for a tick's label
ROW_HEIGHT = 46
HEADER = 8
POOLED_HEADER = 22  # the rule and the word "Pooled" above the pooled estimates
AXIS_HEIGHT = 50
FONT = 13
# Widths of characters in ems, a little above those of DejaVu Sans (Debian's default sans
# serif, wider than most system fonts), so that text measured with them never overflows.
_EMS = {**dict.fromkeys("ijlI.,:;'|!", 0.3), " ": 0.33, **dict.fromkeys("()[]-frt", 0.42),
        **dict.fromkeys("sczJ", 0.56), **dict.fromkeys("−←→", 0.84),
        **dict.fromkeys("mwMW…%@", 1.0)}
_EM_LOWER, _EM_UPPER, _EM_OTHER = 0.64, 0.8, 1.0
SAFETY = 1.04
MINUS = "\u2212"


@dataclass(frozen=True)
class Row:
    """One effect estimate: whose it is and the numbers."""

    label: str
    value: float
    low: float
    high: float
    n: int | None = None
    pooled: bool = False          # a meta-analysis' pooled estimate: drawn as a diamond
    per_100: tuple[str, str] | None = None   # events per 100, intervention and comparator


@dataclass(frozen=True)
class Axis:
    """What one plot compares: the outcome, the measure and the two groups."""

    outcome: str
    measure: str
    measure_label: str
    ratio: bool
    intervention: str = "LDN"
    comparator: str = "placebo"
    better: str | None = None     # "lower" or "higher": which values favour the intervention

    @property
    def null(self) -> float:
        return 1.0 if self.ratio else 0.0


def number(x: float) -> str:
    """A number as a reader expects it: no trailing zeros, a true minus sign."""
    text = f"{x:.3g}" if abs(x) < 1000 else f"{x:.0f}"
    if "e" in text:
        text = f"{x:.4f}".rstrip("0").rstrip(".")
    return text.replace("-", MINUS)


def interval_text(row: Row) -> str:
    return f"{number(row.value)} ({number(row.low)} to {number(row.high)})"


def _em(char: str) -> float:
    if char in _EMS:
        return _EMS[char]
    if char.isascii():
        return _EM_UPPER if char.isupper() else _EM_LOWER
    return _EM_OTHER


def text_width(text: str, size: float = FONT, bold: bool = False) -> float:
    """An upper bound of the width of ``text`` set in ``size`` px."""
    return sum(_em(c) for c in text) * size * SAFETY * (1.12 if bold else 1.0)


def side_labels(axis: Axis) -> tuple[str, str]:
    """What the left and the right of the line of no effect mean, in words."""
    if axis.better == "lower":
        return f"Favours {axis.intervention}", f"Favours {axis.comparator}"
    if axis.better == "higher":
        return f"Favours {axis.comparator}", f"Favours {axis.intervention}"
    return f"Lower with {axis.intervention}", f"Higher with {axis.intervention}"


def reading(row: Row, axis: Axis) -> str:
    """Which side a row's estimate lies on, and whether its interval includes no effect. The
    estimate is said as "higher" or "lower with LDN", which reads the same way for a benefit
    and for a harm ("leans towards placebo" was read as "more headaches on placebo"); an
    interval that includes no difference reads first as "No clear difference", so that a
    leaning is not taken for a finding."""
    if row.value == axis.null:
        return "No clear difference"
    left, right = side_labels(axis)
    lower = row.value < axis.null
    direction = f"{'lower' if lower else 'higher'} with {axis.intervention}"
    if row.low <= axis.null <= row.high:
        return f"No clear difference (the estimate is {direction})"
    side = left if lower else right
    if side.startswith("Favours"):
        return f"{side} ({direction}); the whole interval is on that side"
    return f"{direction[0].upper()}{direction[1:]}; the whole interval is on that side"


def _nice_step(span: float, target: int = 5) -> float:
    raw = span / target
    power = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if m * power >= raw:
            return m * power
    return 10 * power


def linear_ticks(lo: float, hi: float) -> list[float]:
    step = _nice_step(hi - lo)
    first = math.ceil(lo / step - 1e-9) * step
    ticks, t = [], first
    while t <= hi + 1e-9 * step:
        ticks.append(round(t, 10) + 0.0)  # + 0.0 turns -0.0 into 0.0
        t += step
    return ticks


def log_ticks(lo: float, hi: float) -> list[float]:
    ticks = []
    for exp in range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1):
        for m in (1, 2, 5):
            t = m * 10 ** exp
            if lo * (1 - 1e-9) <= t <= hi * (1 + 1e-9):
                ticks.append(float(f"{t:.6g}"))
    return ticks


def _domain(rows: list[Row], null: float, ratio: bool) -> tuple[float, float]:
    values = [null] + [x for r in rows for x in (r.low, r.value, r.high)]
    lo, hi = min(values), max(values)
    if ratio:
        lo, hi = math.log(lo), math.log(hi)
    pad = (hi - lo) * 0.08 or 0.5
    lo, hi = lo - pad, hi + pad
    return (math.exp(lo), math.exp(hi)) if ratio else (lo, hi)


def fit_text(text: str, width: float, size: float = FONT) -> str:
    """``text``, shortened with an ellipsis if it would be wider than ``width``."""
    if text_width(text, size) <= width:
        return text
    while text and text_width(text + "…", size) > width:
        text = text[:-1]
    return text.rstrip(" …") + "…"


def order_rows(rows: list[Row]) -> list[Row]:
    """Trials first, then pooled estimates, each group in the order given."""
    return [r for r in rows if not r.pooled] + [r for r in rows if r.pooled]


class _Scale:
    """Maps values to x positions on a linear or logarithmic axis."""

    def __init__(self, lo: float, hi: float, ratio: bool):
        self.lo, self.hi, self.ratio = lo, hi, ratio
        self.left, self.right = AXIS_PAD, WIDTH - AXIS_PAD

    def __call__(self, value: float) -> float:
        value = min(max(value, self.lo), self.hi)
        if self.ratio:
            frac = (math.log(value) - math.log(self.lo)) / (math.log(self.hi) - math.log(self.lo))
        else:
            frac = (value - self.lo) / (self.hi - self.lo)
        return round(self.left + frac * (self.right - self.left), 1)


def _row_tops(rows: list[Row]) -> tuple[list[float], float | None, float]:
    """The top of each row, where the rule between trials and pooled estimates goes (None:
    not both kinds), and the axis' y."""
    tops, y, rule = [], HEADER, None
    for i, r in enumerate(rows):
        if r.pooled and i > 0 and not rows[i - 1].pooled:  # trials above: set apart
            rule = y + 4
            y += POOLED_HEADER
        tops.append(y)
        y += ROW_HEIGHT
    return tops, rule, y + 6


def _draw_rows(rows: list[Row], tops: list[float], x_of: _Scale) -> list[str]:
    labels, numbers, lines, marks = [], [], [], []
    max_n = max((r.n for r in rows if r.n and not r.pooled), default=0)
    for r, y in zip(rows, tops):
        figures = interval_text(r)
        room = WIDTH - 2 * MARGIN - text_width(figures) - FONT
        suffix = " (pooled)" if r.pooled else ""
        label = fit_text(r.label, room - text_width(suffix)) + suffix
        labels.append(f'<text x="{MARGIN}" y="{y + 16}">{escape(label)}</text>')
        numbers.append(f'<text x="{WIDTH - MARGIN}" y="{y + 16}">{escape(figures)}</text>')
        cy, cx = y + 32, x_of(r.value)
        x1, x2 = x_of(min(r.low, r.high)), x_of(max(r.low, r.high))
        if r.pooled:
            # A diamond spanning the interval: the convention for a pooled estimate.
            marks.append(f'<path class="pooled" d="M{x1} {cy}L{cx} {cy - 7}L{x2} {cy}'
                         f'L{cx} {cy + 7}Z"/>')
            continue
        lines.append(f"M{x1} {cy - 5}v10M{x1} {cy}H{x2}M{x2} {cy - 5}v10")
        # Square area grows with the number of participants, as in meta-analysis plots.
        size = 9.0 if not (r.n and max_n) else round(6 + 8 * math.sqrt(r.n / max_n), 1)
        marks.append(f'<rect x="{round(cx - size / 2, 1)}" y="{round(cy - size / 2, 1)}" '
                     f'width="{size}" height="{size}"/>')
    return [f'<path d="{"".join(lines)}" fill="none" stroke-width="2"/>' if lines else "",
            '<g stroke="none">' + "".join(marks) + "".join(labels)
            + '<g class="figures" text-anchor="end">' + "".join(numbers) + "</g></g>"]


def _draw_axis(axis: Axis, x_of: _Scale, axis_y: float) -> list[str]:
    ticks = log_ticks(x_of.lo, x_of.hi) if axis.ratio else linear_ticks(x_of.lo, x_of.hi)
    out = ['<g stroke="none"><g text-anchor="middle">' + "".join(
        f'<text x="{x_of(t)}" y="{axis_y + 19}">{escape(number(t))}</text>' for t in ticks)
        + "</g>"]
    left, right = side_labels(axis)
    left, right = f"← {left}", f"{right} →"
    room = (WIDTH - 2 * MARGIN - FONT) / 2
    out.append(f'<g font-style="italic"><text x="{MARGIN}" y="{axis_y + 40}">'
               f'{escape(fit_text(left, room))}</text><text x="{WIDTH - MARGIN}" '
               f'y="{axis_y + 40}" text-anchor="end">{escape(fit_text(right, room))}</text>'
               "</g></g>")
    marks = "".join(f"M{x_of(t)} {axis_y}v5" for t in ticks)
    out.append(f'<path d="M{x_of.left} {axis_y}H{x_of.right}{marks}" fill="none" '
               'stroke-width="1"/>')
    return out


def render_forest_plot(rows: list[Row], axis: Axis) -> str:
    """An SVG forest plot of ``rows``, which all share ``axis``. It is hidden from screen
    readers: the page gives them the same numbers as a table (see ``table_rows``)."""
    if not rows:
        return ""
    rows = order_rows(rows)
    if axis.ratio and any(x <= 0 for r in rows for x in (r.low, r.value, r.high)):
        # A ratio with a non-positive bound cannot go on a log axis (validation rejects it).
        axis = Axis(axis.outcome, axis.measure, axis.measure_label, False, axis.intervention,
                    axis.comparator, axis.better)
    x_of = _Scale(*_domain(rows, axis.null, axis.ratio), axis.ratio)
    tops, rule, axis_y = _row_tops(rows)
    height = axis_y + AXIS_HEIGHT - 6
    out = [f'<svg class="forest" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} '
           f'{height}" width="{WIDTH}" height="{height}" aria-hidden="true" '
           f'font-size="{FONT}" fill="currentColor" stroke="currentColor">']
    # The line of no effect first, so that intervals are drawn over it; it runs through the
    # band of each row's interval only, so that it never crosses a row's text.
    nx = x_of(axis.null)
    null_path = "".join(f"M{nx} {y + 21}V{axis_y if i == len(rows) - 1 else y + ROW_HEIGHT + 2}"
                        for i, y in enumerate(tops))
    out.append(f'<path class="null" d="{null_path}" fill="none" stroke-dasharray="4 3" '
               'stroke-width="1"/>')
    if rule is not None:
        out.append(f'<path d="M{MARGIN} {rule}H{WIDTH - MARGIN}" fill="none" stroke-width="1" '
                   f'stroke-opacity=".5"/><text x="{MARGIN}" y="{rule + 15}" stroke="none" '
                   'font-weight="bold">Pooled (meta-analysis)</text>')
    out.extend(_draw_rows(rows, tops, x_of))
    out.extend(_draw_axis(axis, x_of, axis_y))
    out.append("</svg>")
    return "".join(out)


def table_rows(rows: list[Row], axis: Axis) -> list[dict]:
    """The plot's numbers as rows of a table, in the plot's order: the plot's text
    alternative, and what narrow screens show instead of the plot."""
    return [{"label": r.label, "pooled": r.pooled, "estimate": number(r.value),
             "low": number(r.low), "high": number(r.high), "n": r.n, "per_100": r.per_100,
             "reading": reading(r, axis)} for r in order_rows(rows)]
