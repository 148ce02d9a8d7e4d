"""Small building blocks for server-side SVG charts: no JavaScript, no CDN, printable.

Every chart is an `<svg role="img">` with a title and a description; the pages show the same numbers
as text or tables beside it, so nothing is conveyed by the picture alone.
"""

import itertools
from collections.abc import Iterable

from markupsafe import Markup, escape

INK = "#1a1a1a"
MUTED = "#595959"
PRIMARY = "#154273"
ACCENT = "#01689b"
GOOD = "#2b6e0b"
TRACK = "#e3e8ef"
SUPPRESSED_FILL = "#d0d0d0"
_ids = itertools.count(1)


def chart(width: int, height: int, title: str, description: str, body: Iterable[str]) -> Markup:
    """A complete SVG element; `body` is already-escaped SVG markup."""
    ident = f"grafiek-{next(_ids)}"
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'class="grafiek" role="img" aria-labelledby="{ident}-t {ident}-d" '
        f'font-family="system-ui, sans-serif" font-size="13">'
        f'<title id="{ident}-t">{escape(title)}</title><desc id="{ident}-d">{escape(description)}</desc>'
        + "".join(body)
        + "</svg>"
    )


def rect(x: float, y: float, width: float, height: float, fill: str, extra: str = "") -> str:
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(width, 0):.1f}" height="{height:.1f}" '
        f'fill="{fill}" {extra}/>'
    )


def text(
    x: float, y: float, content: object, *, anchor: str = "start", fill: str = INK, extra: str = ""
) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}" {extra}>'
        f"{escape(str(content))}</text>"
    )


def line(x1: float, y1: float, x2: float, y2: float, stroke: str = INK, width: float = 2) -> str:
    return (
        f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
        f'stroke="{stroke}" stroke-width="{width}"/>'
    )


def blend(low: str, high: str, share: float) -> str:
    """The colour `share` (0..1) of the way from `low` to `high`."""
    a = [int(low[i : i + 2], 16) for i in (1, 3, 5)]
    b = [int(high[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * share):02x}" for x, y in zip(a, b, strict=True))


def number(value: float | None, *, decimals: int = 0) -> str:
    """Dutch number formatting: 1.234.567,8; None as the suppression marker."""
    if value is None:
        return "<3"
    formatted = f"{value:,.{decimals}f}"
    return formatted.replace(",", "_").replace(".", ",").replace("_", ".")


def euros(value: float | None) -> str:
    """Amounts in millions above one million: € 12,5 mln."""
    if value is None:
        return "<3"
    if abs(value) >= 1_000_000:
        return f"€ {number(value / 1_000_000, decimals=1)} mln"
    return f"€ {number(value)}"
