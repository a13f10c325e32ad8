"""Reports written after training: history table, curves, confusion matrix, worst examples.

Every file goes through :mod:`compiler.atomic`; the plots are
:mod:`compiler.figures` figures (no pyplot), so every training process writes them.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from compiler.atomic import write_text_atomic
from compiler.figures import new_figure, save_figure


def write_history_csv(path: Path, history: list[dict]) -> None:
    """Write one row per completed epoch (epoch, loss, metrics, val_*)."""
    columns = ["epoch"] + sorted({k for row in history for k in row} - {"epoch"})
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in history:
        writer.writerow({k: row.get(k, "") for k in columns})
    write_text_atomic(path, buffer.getvalue())


def plot_training_curves(path: Path, history: list[dict]) -> None:
    """Plot the loss and each metric per epoch, training against validation."""
    names = sorted(
        {k for row in history for k in row
         if k not in ("epoch", "learning_rate") and not k.startswith("val_")},
        key=lambda k: (k != "loss", k),
    )
    epochs = [row["epoch"] for row in history]
    fig = new_figure(4.5 * max(1, len(names)), 3.6)
    axes = np.atleast_1d(fig.subplots(1, max(1, len(names))))
    for ax, name in zip(axes, names, strict=False):
        ax.plot(epochs, [row.get(name, np.nan) for row in history], label="train")
        if any(f"val_{name}" in row for row in history):
            ax.plot(epochs, [row.get(f"val_{name}", np.nan) for row in history], label="validation")
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.legend()
        ax.grid(alpha=0.3)
    fig.tight_layout()
    save_figure(path, fig)


def confusion_matrix(true: np.ndarray, predicted: np.ndarray, num_classes: int) -> np.ndarray:
    """Return counts[true, predicted]."""
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(counts, (true.astype(int), predicted.astype(int)), 1)
    return counts


def plot_confusion_matrix(path: Path, counts: np.ndarray, class_names: list[str]) -> None:
    """Draw the confusion matrix with counts in the cells."""
    size = max(4.0, 0.45 * len(class_names) + 2)
    fig = new_figure(size, size)
    ax = fig.subplots()
    ax.imshow(counts, cmap="Blues")
    ticks = range(len(class_names))
    ax.set_xticks(ticks, class_names, rotation=45, ha="right")
    ax.set_yticks(ticks, class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    # The layout only depends on the tick labels and axis titles: computed before the
    # counts are written into the cells, it does not measure one text per cell.
    fig.tight_layout()
    limit = counts.max() / 2 if counts.size else 0
    for (i, j), value in np.ndenumerate(counts):
        ax.text(j, i, str(value), ha="center", va="center",
                color="white" if value > limit else "black", fontsize=8)
    save_figure(path, fig)


def worst_examples(
    probabilities: np.ndarray, true: np.ndarray, class_names: list[str], limit: int = 50
) -> list[dict]:
    """Return the most confident wrong predictions, most confident first.

    Args:
        probabilities: (n, classes) scores, or (n,) / (n, 1) for a binary model.
        true: (n,) integer labels.
        class_names: Names by class index.
        limit: How many rows at most.
    """
    predicted, confidence = predicted_classes(probabilities)
    true = np.asarray(true).reshape(-1).astype(int)
    wrong = np.flatnonzero(predicted != true)
    order = wrong[np.argsort(-confidence[wrong], kind="stable")][:limit]
    return [
        {
            "index": int(i),
            "true": class_names[true[i]],
            "predicted": class_names[predicted[i]],
            "confidence": round(float(confidence[i]), 6),
        }
        for i in order
    ]


def predicted_classes(probabilities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (predicted class, its probability) for multi-class or binary scores."""
    scores = np.asarray(probabilities)
    if scores.ndim == 1 or scores.shape[-1] == 1:
        p = scores.reshape(-1)
        predicted = (p >= 0.5).astype(int)
        return predicted, np.where(predicted == 1, p, 1 - p)
    return scores.argmax(-1), scores.max(-1)


def write_worst_examples_csv(path: Path, rows: list[dict]) -> None:
    """Write rows of :func:`worst_examples` as CSV."""
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=["index", "true", "predicted", "confidence"], lineterminator="\n"
    )
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(path, buffer.getvalue())
