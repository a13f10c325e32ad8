"""The table `nncompile build` prints: layer, type, output shape, parameters, totals."""

from __future__ import annotations


def format_summary(spec, result) -> str:
    headers = ("Layer", "Type", "Output shape", "Params")
    rows = [(r.name, r.type, r.output_shape, f"{r.params:,}") for r in result.rows]
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h)
              for i, h in enumerate(headers)]

    def line(cells) -> str:
        return "  ".join(
            cell.rjust(widths[i]) if i == 3 else cell.ljust(widths[i])
            for i, cell in enumerate(cells)).rstrip()

    rule = "-" * (sum(widths) + 2 * (len(widths) - 1))
    total, trainable = result.total_params, result.trainable_params
    out = [f"Model: {spec.name}", rule, line(headers), rule]
    out += [line(row) for row in rows]
    out += [rule,
            "Inputs:  " + ", ".join(f"{n} {tuple(s.shape)} {s.dtype}"
                                    for n, s in spec.inputs.items()),
            "Outputs: " + ", ".join(spec.outputs),
            f"Total params:         {total:,}",
            f"Trainable params:     {trainable:,}",
            f"Non-trainable params: {total - trainable:,}"]
    if result.unused:
        out.append(f"Not connected to any output, so not in the model: {', '.join(result.unused)}")
    return "\n".join(out)
