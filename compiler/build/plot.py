"""`nncompile plot`: the layer graph drawn with matplotlib (no system packages needed).

Layers are placed in rows by their depth in the graph (longest path from an
input), boxes show name, type and output shape, arrows show connections.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


def _depths(spec) -> dict[str, int]:
    depth = {name: 0 for name in spec.inputs}
    for entry, _ in spec.entries:
        parents = [ref.split("[")[0] for ref in entry.inputs]
        depth[entry.name] = 1 + max((depth.get(p, 0) for p in parents), default=0)
    return depth


BOX_W, BOX_H, GAP_X, GAP_Y = 3.2, 0.9, 0.5, 0.7


def _layout(spec) -> tuple[dict[str, int], dict[int, list[str]], dict[str, tuple[float, float]]]:
    """Depth of each layer, the rows of names by depth, and each box's lower-left corner."""
    depth = _depths(spec)
    rows: dict[int, list[str]] = {}
    for name in list(spec.inputs) + [e.name for e, _ in spec.entries]:
        rows.setdefault(depth[name], []).append(name)
    width = max(len(r) for r in rows.values())
    pos = {}
    for level, names in rows.items():
        offset = (width - len(names)) * (BOX_W + GAP_X) / 2
        for i, name in enumerate(names):
            pos[name] = (offset + i * (BOX_W + GAP_X), -level * (BOX_H + GAP_Y))
    return depth, rows, pos


@dataclass
class Edge:
    """One arrow: from `start` to `end`, bent by `rad` (0: straight), labelled."""

    src: str
    dst: str
    start: tuple[float, float]
    end: tuple[float, float]
    rad: float = 0.0
    label: str = ""

    @property
    def control(self) -> tuple[float, float]:
        """The control point of matplotlib's arc3 curve (a quadratic Bézier)."""
        return _control(self.start, self.end, self.rad)


def _control(start, end, rad: float) -> tuple[float, float]:
    (x0, y0), (x1, y1) = start, end
    return (x0 + x1) / 2 + rad * (y1 - y0), (y0 + y1) / 2 - rad * (x1 - x0)


def _edges(spec, depth: dict[str, int], pos: dict[str, tuple[float, float]],
           box_w: float, box_h: float) -> list[Edge]:
    """The arrows of the graph, drawn so that none hides behind a box or another arrow.

    An arrow between adjacent rows runs from the bottom of its source to the top
    of its target; several arrows into one box (or out of one) are spread along
    its edge, so the three inputs `enc`, `enc[1]`, `enc[2]` show as three arrows.
    An arrow that skips rows (a skip connection) goes straight when that passes
    no box; otherwise it leaves and enters the boxes on one side and bends
    around the boxes between, whichever way crosses the fewest.
    """
    wanted = []
    for entry, _ in spec.entries:
        for ref in entry.inputs:
            src = ref.split("[")[0]
            if src in pos and entry.name in pos:
                wanted.append((src, entry.name, ref[len(src):]))
    outgoing: dict[str, list[int]] = {}
    incoming: dict[str, list[int]] = {}
    for i, (src, dst, _) in enumerate(wanted):
        if depth.get(dst, 0) - depth.get(src, 0) <= 1:
            outgoing.setdefault(src, []).append(i)
            incoming.setdefault(dst, []).append(i)

    def spread(name: str, i: int, group: dict[str, list[int]]) -> float:
        members = group[name]
        return pos[name][0] + box_w * (members.index(i) + 1) / (len(members) + 1)

    edges = []
    for i, (src, dst, index) in enumerate(wanted):
        (x0, y0), (x1, y1) = pos[src], pos[dst]
        if i in incoming.get(dst, []):
            edges.append(Edge(src, dst, (spread(src, i, outgoing), y0),
                              (spread(dst, i, incoming), y1 + box_h), 0.0, index))
            continue
        others = [p for name, p in pos.items() if name not in (src, dst)]
        length = max(abs(y1 - y0), 1e-6)
        candidates = [((x0 + box_w / 2, y0), (x1 + box_w / 2, y1 + box_h), 0.0)]
        for bulge in (0.3, 0.6, 1.0):  # sideways, in box widths; arc3 bulges rad·length/2
            rad = min(0.9, 2 * bulge * box_w / length)
            candidates.append(((x0 + box_w, y0 + box_h / 2), (x1 + box_w, y1 + box_h / 2), -rad))
            candidates.append(((x0, y0 + box_h / 2), (x1, y1 + box_h / 2), rad))
        best = min(candidates, key=lambda c: _crossings(c[0], c[1], c[2], others, box_w, box_h))
        edges.append(Edge(src, dst, best[0], best[1], best[2], index))
    return edges


def _crossings(start, end, rad: float, boxes, box_w: float, box_h: float) -> int:
    """How many boxes the arrow passes through (matplotlib's arc3: a quadratic Bézier)."""
    (x0, y0), (x1, y1) = start, end
    cx, cy = _control(start, end, rad)
    hit = set()
    for k in range(1, 40):
        t = k / 40
        x = (1 - t) ** 2 * x0 + 2 * (1 - t) * t * cx + t ** 2 * x1
        y = (1 - t) ** 2 * y0 + 2 * (1 - t) * t * cy + t ** 2 * y1
        for j, (bx, by) in enumerate(boxes):
            if bx - 0.05 <= x <= bx + box_w + 0.05 and by - 0.05 <= y <= by + box_h + 0.05:
                hit.add(j)
    return len(hit)


def plot_graph(spec, result, output: Path) -> None:
    from matplotlib.patches import FancyBboxPatch

    from compiler.figures import new_figure, save_figure

    shapes = {row.name: row.output_shape for row in result.rows}
    types = {row.name: row.type for row in result.rows}
    for name, inp in spec.inputs.items():
        dims = ", ".join("None" if d is None else str(d) for d in inp.shape)
        shapes[name] = f"(None, {dims})"
        types[name] = "input"
    depth, rows, pos = _layout(spec)
    width = max(len(r) for r in rows.values())
    fig_w = max(4.0, width * (BOX_W + GAP_X))
    fig_h = max(3.0, len(rows) * (BOX_H + GAP_Y))
    fig = new_figure(min(fig_w, 60), min(fig_h, 300))
    ax = fig.subplots()
    box_w, box_h, gap_x, gap_y = BOX_W, BOX_H, GAP_X, GAP_Y
    for names in rows.values():
        for name in names:
            x, y = pos[name]
            color = "#dbe9f6" if types[name] == "input" else (
                "#fde2c8" if name in {o.split("[")[0] for o in spec.outputs} else "#eeeeee")
            ax.add_patch(FancyBboxPatch((x, y), box_w, box_h, boxstyle="round,pad=0.05",
                                        fc=color, ec="#555555", lw=0.8))
            ax.text(x + box_w / 2, y + box_h * 0.66, f"{name}", ha="center", va="center",
                    fontsize=7, weight="bold")
            ax.text(x + box_w / 2, y + box_h * 0.28, f"{types[name]} {shapes.get(name, '')}",
                    ha="center", va="center", fontsize=6)
    edges = _edges(spec, depth, pos, box_w, box_h)
    # Bent arrows need room at the sides: a Bézier stays within its control points.
    xs = [x for e in edges for x in (e.start[0], e.end[0], e.control[0])]
    for edge in edges:
        ax.annotate("", xy=edge.end, xytext=edge.start,
                    arrowprops=dict(arrowstyle="->", lw=0.6, color="#333333",
                                    connectionstyle=f"arc3,rad={edge.rad}"))
        if edge.label:
            ax.text(edge.end[0], edge.end[1] + 0.12, edge.label, ha="center", va="bottom",
                    fontsize=5, color="#333333")
    ax.set_xlim(min([-gap_x, *xs]), max([width * (box_w + gap_x), *xs]))
    ax.set_ylim(-(len(rows)) * (box_h + gap_y), box_h + gap_y)
    ax.axis("off")
    ax.set_title(f"{spec.name} — {result.total_params:,} parameters", fontsize=9)
    output.parent.mkdir(parents=True, exist_ok=True)
    save_figure(output, fig, dpi=110, tight=True)
