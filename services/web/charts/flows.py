"""A Sankey diagram of flows (home region → region of realisation) and a heat map of a grid of counts."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from markupsafe import Markup

from services.web.charts.svg import INK, PRIMARY, SUPPRESSED_FILL, blend, chart, number, rect, text

WIDTH = 640
SUPPRESSED_WEIGHT = 1.5  # how thick a band of "<3" leads is drawn


@dataclass(frozen=True)
class Link:
    source: str
    target: str
    value: int | None  # None: suppressed


def sankey(title: str, links: Sequence[Link], names: Mapping[str, str]) -> Markup:
    """Sources on the left, targets on the right, bands as thick as the number of leads."""
    if not links:
        return chart(WIDTH, 40, title, "Nog geen uitkomsten.", [text(10, 24, "Nog geen uitkomsten.")])
    weight = {link: SUPPRESSED_WEIGHT if link.value is None else float(link.value) for link in links}
    total = sum(weight.values())
    gap, height = 10, 260
    scale = (height - gap * 6) / total
    links = sorted(links, key=lambda link: (_rank(link.source, names), _rank(link.target, names)))
    left = _stack([link.source for link in links], weight, links, scale, gap, side="source")
    right = _stack(
        sorted({link.target for link in links}, key=lambda k: _rank(k, names)),
        weight,
        links,
        scale,
        gap,
        side="target",
    )
    body: list[str] = []
    offsets = {**{("s", k): v[0] for k, v in left.items()}, **{("t", k): v[0] for k, v in right.items()}}
    for link in links:
        band = weight[link] * scale
        y1, y2 = offsets[("s", link.source)], offsets[("t", link.target)]
        offsets[("s", link.source)] += band
        offsets[("t", link.target)] += band
        body.append(_band(y1 + band / 2, y2 + band / 2, band, link.value is None))
    body += _nodes(left, names, x=150, anchor="end")
    body += _nodes(right, names, x=WIDTH - 150, anchor="start")
    summary = "; ".join(f"{names[x.source]} naar {names[x.target]}: {number(x.value)}" for x in links)
    return chart(WIDTH, height, title, summary, body)


def _rank(key: str, names: Mapping[str, str]) -> int:
    """Nodes keep the order of `names` on both sides, so bands cross as little as they can."""
    order = list(names)
    return order.index(key) if key in order else len(order)


def _stack(
    keys: list[str], weight: Mapping[Link, float], links: Sequence[Link], scale: float, gap: int, side: str
) -> dict[str, tuple[float, float]]:
    """Each node's top and height, stacked from the top in order of first appearance."""
    nodes: dict[str, tuple[float, float]] = {}
    y = 0.0
    for key in dict.fromkeys(keys):
        size = sum(w for link, w in weight.items() if getattr(link, side) == key) * scale
        nodes[key] = (y, size)
        y += size + gap
    return nodes


def _band(y1: float, y2: float, thickness: float, hidden: bool) -> str:
    x1, x2, middle = 160, WIDTH - 160, WIDTH / 2
    colour = SUPPRESSED_FILL if hidden else PRIMARY
    return (
        f'<path d="M{x1},{y1:.1f} C{middle},{y1:.1f} {middle},{y2:.1f} {x2},{y2:.1f}" fill="none" '
        f'stroke="{colour}" stroke-opacity="0.45" stroke-width="{max(thickness, 1):.1f}"/>'
    )


def _nodes(
    nodes: Mapping[str, tuple[float, float]], names: Mapping[str, str], x: int, anchor: str
) -> list[str]:
    bar_x = x + 2 if anchor == "end" else x - 12
    shapes = []
    for key, (top, size) in nodes.items():
        shapes.append(rect(bar_x, top, 10, max(size, 2), INK))
        shapes.append(
            text(x - 4 if anchor == "end" else x + 4, top + size / 2 + 4, names[key], anchor=anchor)
        )
    return shapes


def heatmap(
    title: str,
    grid: Mapping[str, Mapping[str, int | None]],
    row_names: Mapping[str, str],
    column_names: Mapping[str, str],
) -> Markup:
    """Rows x columns of counts; darker is more; suppressed cells grey with "<3"."""
    columns = list(column_names)
    label_width, cell_w, cell_h, head = 90, (WIDTH - 90) / len(columns), 34, 44
    largest = max([v for row in grid.values() for v in row.values() if v] + [1])
    body = [_column_head(label_width + cell_w * (i + 0.5), column_names[c]) for i, c in enumerate(columns)]
    for r, (row_key, row) in enumerate(grid.items()):
        y = head + r * cell_h
        body.append(text(label_width - 8, y + cell_h / 2 + 4, row_names[row_key], anchor="end"))
        for c, column in enumerate(columns):
            body += _cell(label_width + c * cell_w, y, cell_w, cell_h, row.get(column), largest)
    cells = [
        f"{row_names[r]}, {column_names[c]}: {number(row.get(c))}" for r, row in grid.items() for c in columns
    ]
    return chart(WIDTH, head + cell_h * len(grid) + 4, title, "; ".join(cells), body)


def _column_head(x: float, name: str) -> str:
    words = name.split(" ", 1)
    lines = [text(x, 16, words[0], anchor="middle")]
    if len(words) > 1:
        lines.append(text(x, 32, words[1], anchor="middle"))
    return "".join(lines)


def _cell(x: float, y: float, w: float, h: float, value: int | None, largest: int) -> list[str]:
    if value is None:
        return [
            rect(x + 1, y + 1, w - 2, h - 2, SUPPRESSED_FILL),
            text(x + w / 2, y + h / 2 + 4, "<3", anchor="middle"),
        ]
    share = value / largest
    fill = blend("#f3f6fa", PRIMARY, share) if value else "#ffffff"
    ink = "#ffffff" if share > 0.45 else INK
    border = 'stroke="#c8d1dc"'
    return [
        rect(x + 1, y + 1, w - 2, h - 2, fill, border),
        text(x + w / 2, y + h / 2 + 4, value, anchor="middle", fill=ink),
    ]
