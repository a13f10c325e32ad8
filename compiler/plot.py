"""`nncompile plot`: the layer graph drawn with matplotlib (no system packages needed).

Layers are placed in rows by their depth in the graph (longest path from an
input), boxes show name, type and output shape, arrows show connections.
"""

from __future__ import annotations

from pathlib import Path


def _depths(spec) -> dict[str, int]:
    depth = {name: 0 for name in spec.inputs}
    for entry, _ in spec.entries:
        parents = [ref.split("[")[0] for ref in entry.inputs]
        depth[entry.name] = 1 + max((depth.get(p, 0) for p in parents), default=0)
    return depth


def plot_graph(spec, result, output: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    shapes = {row.name: row.output_shape for row in result.rows}
    types = {row.name: row.type for row in result.rows}
    for name, inp in spec.inputs.items():
        shapes[name] = "(None, " + ", ".join("None" if d is None else str(d) for d in inp.shape) + ")"
        types[name] = "input"
    depth = _depths(spec)
    rows: dict[int, list[str]] = {}
    for name in list(spec.inputs) + [e.name for e, _ in spec.entries]:
        rows.setdefault(depth[name], []).append(name)
    width = max(len(r) for r in rows.values())
    box_w, box_h, gap_x, gap_y = 3.2, 0.9, 0.5, 0.7
    fig_w = max(4.0, width * (box_w + gap_x))
    fig_h = max(3.0, len(rows) * (box_h + gap_y))
    fig, ax = plt.subplots(figsize=(min(fig_w, 60), min(fig_h, 300)))
    pos = {}
    for level, names in rows.items():
        offset = (width - len(names)) * (box_w + gap_x) / 2
        for i, name in enumerate(names):
            x = offset + i * (box_w + gap_x)
            y = -level * (box_h + gap_y)
            pos[name] = (x, y)
            color = "#dbe9f6" if types[name] == "input" else (
                "#fde2c8" if name in {o.split("[")[0] for o in spec.outputs} else "#eeeeee")
            ax.add_patch(FancyBboxPatch((x, y), box_w, box_h, boxstyle="round,pad=0.05",
                                        fc=color, ec="#555555", lw=0.8))
            ax.text(x + box_w / 2, y + box_h * 0.66, f"{name}", ha="center", va="center",
                    fontsize=7, weight="bold")
            ax.text(x + box_w / 2, y + box_h * 0.28, f"{types[name]} {shapes.get(name, '')}",
                    ha="center", va="center", fontsize=6)
    for entry, _ in spec.entries:
        for ref in entry.inputs:
            src = ref.split("[")[0]
            if src not in pos:
                continue
            (x0, y0), (x1, y1) = pos[src], pos[entry.name]
            ax.annotate("", xy=(x1 + box_w / 2, y1 + box_h), xytext=(x0 + box_w / 2, y0),
                        arrowprops=dict(arrowstyle="->", lw=0.6, color="#333333"))
    ax.set_xlim(-gap_x, width * (box_w + gap_x))
    ax.set_ylim(-(len(rows)) * (box_h + gap_y), box_h + gap_y)
    ax.axis("off")
    ax.set_title(f"{spec.name} — {result.total_params:,} parameters", fontsize=9)
    output.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(output, format=output.suffix.lstrip(".").lower(), bbox_inches="tight", dpi=110)
    plt.close(fig)
