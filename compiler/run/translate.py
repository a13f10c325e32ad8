"""Running a trained encoder–decoder on text: encode, decode greedily, plot the attention.

The vocabularies travel in the model folder's metadata.json (written by train
and export), so a folder alone is enough to translate and to draw the
attention heat-map.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from compiler.errors import DataError, ModelFileError


@dataclass
class Translation:
    source: str
    output: str
    source_tokens: list[str]
    output_tokens: list[str]
    attention: np.ndarray  # (output steps, source steps)


def vocabularies(metadata: dict) -> tuple[list[str], list[str], int]:
    """Input and output vocabularies and the stop id from a model's metadata."""
    data = metadata.get("preprocessing") or metadata.get("data") or metadata
    for key in ("input_vocabulary", "output_vocabulary", "stop_id"):
        if key not in data:
            raise ModelFileError(f"the model's metadata has no '{key}': is this a seq2seq model "
                                 "trained on text?")
    return data["input_vocabulary"], data["output_vocabulary"], int(data["stop_id"])


def _shown(text: str, limit: int = 40) -> str:
    """``text`` quoted for a message, shortened when long (a 10,000-character input)."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}… ({len(text)} characters)"


def encode(text: str, vocabulary: list[str], length: int | None, where: str = "the input"
           ) -> np.ndarray:
    """Ids of ``text``, 0-padded to ``length`` (None: no padding), as a (1, steps) array.

    Raises:
        DataError: the text is empty or only whitespace, has characters outside the
            vocabulary, or is longer than the model reads. ``where`` names the
            text in the message (e.g. ``TEXTS[2]``).
    """
    if not text.strip():
        what = "empty" if not text else "only whitespace"
        raise DataError(f"{where} is {what}: give the text to translate")
    index = {symbol: i for i, symbol in enumerate(vocabulary) if len(symbol) == 1}
    unknown = sorted({c for c in text if c not in index})
    if unknown:
        known = "".join(sorted(index))
        raise DataError(f"{where} {_shown(text)} has characters the model does not know: "
                        f"{_shown(''.join(unknown))}; it knows {_shown(known, 80)}")
    if length is not None and len(text) > length:
        shown = _shown(text) if len(text) <= 40 else f"{text[:40]!r}…"
        raise DataError(f"{where} {shown} is {len(text)} characters; the model reads at "
                        f"most {length}")
    ids = [index[c] for c in text]
    if length is not None:
        ids += [0] * (length - len(text))
    return np.asarray([ids], dtype="int32")


def translate(inference_model: Any, texts: list[str], in_vocab: list[str], out_vocab: list[str],
              stop_id: int) -> list[Translation]:
    """Greedy-decode each text with the inference graph (tokens, attention).

    An encoder input of variable length (shape ``[null]``) is padded to the
    longest of ``texts``.
    """
    static = inference_model.inputs[0].shape[1]
    length = int(static) if static is not None else max(len(t) for t in texts)
    batch = np.concatenate([
        encode(t, in_vocab, length, "the input" if len(texts) == 1 else f"TEXTS[{i + 1}]")
        for i, t in enumerate(texts)
    ])
    tokens, attention = inference_model.predict(batch, verbose=0)
    results = []
    for text, ids, alpha in zip(texts, tokens, attention):
        out = []
        for token in ids:
            if int(token) in (0, stop_id):
                break
            out.append(out_vocab[int(token)])
        steps = max(len(out), 1)
        results.append(Translation(text, "".join(out), list(text), out,
                                   np.asarray(alpha)[:steps, : len(text)]))
    return results


def plot_attention(translation: Translation, path: Path) -> None:
    """Heat-map of the attention weights: output characters × input characters.

    The picture is written atomically (a failed write leaves no partial file).
    """
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from compiler.atomic import write_bytes_atomic

    alpha = np.asarray(translation.attention, dtype=float)
    if alpha.ndim != 2 or alpha.size == 0:
        alpha = np.zeros((max(len(translation.output_tokens), 1),
                          max(len(translation.source_tokens), 1)))
    fig, ax = plt.subplots(figsize=(min(max(4, 0.35 * alpha.shape[1] + 1.5), 40),
                                    min(max(3, 0.35 * alpha.shape[0] + 1.2), 40)))
    image = ax.imshow(alpha, cmap="viridis", aspect="auto", vmin=0, vmax=max(alpha.max(), 1e-6))
    ax.set_xticks(range(len(translation.source_tokens)))
    ax.set_xticklabels([c if c != " " else "␣" for c in translation.source_tokens], fontsize=8)
    # An empty output still has one row: the step that produced <stop>.
    ax.set_yticks(range(len(translation.output_tokens) or 1))
    ax.set_yticklabels(translation.output_tokens or ["<stop>"], fontsize=8)
    ax.set_xlabel("input")
    ax.set_ylabel("output")
    ax.set_title(f"{_shown(translation.source)} → {_shown(translation.output)}", fontsize=9)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="attention α")
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=120, bbox_inches="tight")
    finally:
        plt.close(fig)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(path, buffer.getvalue())


def load_model_folder(folder: Path):
    """(spec, trained model, metadata) of a saved_models/<name>/ folder."""
    from compiler.api import load_spec
    from compiler.export.run import load_model_file

    folder = Path(folder)
    if not folder.is_dir():
        raise ModelFileError(f"'{folder}' is not a model folder (expected saved_models/<name>/)")
    spec_path = folder / "spec.resolved.yaml"
    if not spec_path.is_file():
        raise ModelFileError(f"'{folder}' has no spec.resolved.yaml: was it written by "
                             "`nncompile train`?")
    spec = load_spec(spec_path)
    model = load_model_file(folder / "model.keras")
    meta_path = folder / "metadata.json"
    metadata = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    if not metadata.get("preprocessing") and spec.data is not None:
        # A folder exported without its data: the vocabularies come from the spec's data.
        from compiler.data.pipeline import load_data

        metadata["preprocessing"] = load_data(spec).metadata
    return spec, model, metadata
