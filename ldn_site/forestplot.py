"""Forest plots: numeric effects with confidence intervals drawn as inline SVG at build time.

Owns the geometry of the plot (one row per effect: its label and numbers on one line, the
interval and point estimate under it, so that it stays legible when a phone shrinks it), the
axis and its ticks (linear for differences, logarithmic for ratios), and the plot's text
alternative: an SVG <title> and a <desc> that state every row in words, so a screen reader
gets the same facts as a sighted reader. Everything is drawn in ``currentColor`` so that the
stylesheet decides the colours for light, dark and print. Pure: numbers in, an SVG string out;
every piece of text is XML-escaped here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

WIDTH = 480
MARGIN = 12
ROW_HEIGHT = 46
HEADER = 8
AXIS_HEIGHT = 50
FONT = 13
LABEL_CHARS = 40  # longer labels are shortened on the plot; the <desc> keeps them whole
MINUS = "\u2212"


@dataclass(frozen=True)
class Row:
    """One effect estimate: whose it is, what was measured, and the numbers."""

    label: str
    outcome: str
    value: float
    low: float
    high: float
    n: int | None = None


def number(x: float) -> str:
    """A number as a reader expects it: no trailing zeros, a true minus sign."""
    text = f"{x:.3g}" if abs(x) < 1000 else f"{x:.0f}"
    if "e" in text:
        text = f"{x:.4f}".rstrip("0").rstrip(".")
    return text.replace("-", MINUS)


def interval_text(row: Row) -> str:
    return f"{number(row.value)} ({number(row.low)} to {number(row.high)})"


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


def describe(rows: list[Row], measure: str, measure_label: str, null: float) -> str:
    """The plot in words: one sentence per row, with whether its interval includes 'no
    difference'."""
    sentences = [f"Forest plot of {len(rows)} "
                 f"{'estimate' if len(rows) == 1 else 'estimates'} of the {measure_label} "
                 f"({measure}) with 95% confidence intervals; {number(null)} means no "
                 "difference."]
    for r in rows:
        crosses = r.low <= null <= r.high
        who = f"{r.label}, {r.outcome}" if r.outcome else r.label
        n = f", {r.n} participants" if r.n else ""
        sentences.append(f"{who}: {number(r.value)} (95% CI {number(r.low)} to "
                         f"{number(r.high)}){n}; the interval "
                         f"{'includes' if crosses else 'excludes'} no difference.")
    return " ".join(sentences)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def render_forest_plot(rows: list[Row], measure: str, measure_label: str, ratio: bool,
                       ident: str) -> str:
    """An accessible SVG forest plot of ``rows`` on one axis (all rows share ``measure``)."""
    if not rows:
        return ""
    null = 1.0 if ratio else 0.0
    if ratio and any(x <= 0 for r in rows for x in (r.low, r.value, r.high)):
        ratio = False  # a ratio with a non-positive bound cannot go on a log axis
    lo, hi = _domain(rows, null, ratio)
    left, right = MARGIN, WIDTH - MARGIN

    def x_of(value: float) -> float:
        if ratio:
            frac = (math.log(value) - math.log(lo)) / (math.log(hi) - math.log(lo))
        else:
            frac = (value - lo) / (hi - lo)
        return round(left + frac * (right - left), 1)

    top = HEADER
    height = top + len(rows) * ROW_HEIGHT + AXIS_HEIGHT
    axis_y = top + len(rows) * ROW_HEIGHT + 6
    max_n = max((r.n for r in rows if r.n), default=0)
    title = f"Forest plot: {measure_label} ({measure}) with 95% confidence intervals"
    out = [f'<svg class="forest" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} '
           f'{height}" width="{WIDTH}" height="{height}" role="img" '
           f'aria-labelledby="{ident}-title" aria-describedby="{ident}-desc" '
           f'font-size="{FONT}" fill="currentColor" stroke="currentColor">',
           f'<title id="{ident}-title">{escape(title)}</title>',
           f'<desc id="{ident}-desc">{escape(describe(rows, measure, measure_label, null))}'
           "</desc>"]
    # The 'no difference' line first, so that intervals are drawn over it; it is drawn in the
    # band of each row's interval only, so that it never crosses a row's text.
    nx = x_of(null)
    null_path = []
    for i in range(len(rows)):
        y = top + i * ROW_HEIGHT
        bottom = axis_y if i == len(rows) - 1 else y + ROW_HEIGHT + 2
        null_path.append(f"M{nx} {y + 21}V{bottom}")
    out.append(f'<path class="null" d="{"".join(null_path)}" fill="none" '
               'stroke-dasharray="4 3" stroke-width="1"/>')
    labels, numbers, intervals, squares = [], [], [], []
    for i, r in enumerate(rows):
        y = top + i * ROW_HEIGHT
        label = _shorten(f"{r.label} · {r.outcome}" if r.outcome else r.label, LABEL_CHARS)
        labels.append(f'<text x="{left}" y="{y + 16}">{escape(label)}</text>')
        numbers.append(f'<text x="{right}" y="{y + 16}">{escape(interval_text(r))}</text>')
        cy = y + 32
        x1, x2 = x_of(max(min(r.low, r.high), lo)), x_of(min(max(r.low, r.high), hi))
        intervals.append(f"M{x1} {cy - 5}v10M{x1} {cy}H{x2}M{x2} {cy - 5}v10")
        # Square area grows with the number of participants, as in meta-analysis plots.
        size = 9.0 if not (r.n and max_n) else round(6 + 8 * math.sqrt(r.n / max_n), 1)
        cx = x_of(r.value)
        squares.append(f'<rect x="{round(cx - size / 2, 1)}" y="{round(cy - size / 2, 1)}" '
                       f'width="{size}" height="{size}"/>')
    out.append(f'<path d="{"".join(intervals)}" fill="none" stroke-width="2"/>')
    out.append('<g stroke="none">' + "".join(squares) + "".join(labels))
    out.append('<g text-anchor="end" font-variant-numeric="tabular-nums">' + "".join(numbers)
               + "</g>")
    ticks = log_ticks(lo, hi) if ratio else linear_ticks(lo, hi)
    out.append('<g text-anchor="middle">' + "".join(
        f'<text x="{x_of(t)}" y="{axis_y + 19}">{escape(number(t))}</text>' for t in ticks)
        + "</g>")
    anchor = "start" if nx < left + 50 else "end" if nx > right - 50 else "middle"
    out.append(f'<text x="{nx}" y="{axis_y + 38}" text-anchor="{anchor}" '
               f'font-style="italic">no difference</text></g>')
    axis = "".join(f"M{x_of(t)} {axis_y}v5" for t in ticks)
    out.append(f'<path d="M{left} {axis_y}H{right}{axis}" fill="none" stroke-width="1"/>')
    out.append("</svg>")
    return "".join(out)
