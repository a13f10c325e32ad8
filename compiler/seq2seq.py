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


def encode(text: str, vocabulary: list[str], length: int) -> np.ndarray:
    index = {symbol: i for i, symbol in enumerate(vocabulary)}
    unknown = sorted({c for c in text if c not in index})
    if unknown:
        raise DataError(f"the input {text!r} has characters the model does not know: "
                        f"{''.join(unknown)!r}")
    if len(text) > length:
        raise DataError(f"the input {text!r} is {len(text)} characters; the model reads at "
                        f"most {length}")
    ids = [index[c] for c in text] + [0] * (length - len(text))
    return np.asarray([ids], dtype="int32")


def translate(inference_model: Any, texts: list[str], in_vocab: list[str], out_vocab: list[str],
              stop_id: int) -> list[Translation]:
    """Greedy-decode each text with the inference graph (tokens, attention)."""
    length = int(inference_model.inputs[0].shape[1])
    batch = np.concatenate([encode(t, in_vocab, length) for t in texts])
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
    """Heat-map of the attention weights: output characters × input characters."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    alpha = translation.attention
    fig, ax = plt.subplots(figsize=(max(4, 0.35 * alpha.shape[1] + 1.5),
                                    max(3, 0.35 * alpha.shape[0] + 1.2)))
    image = ax.imshow(alpha, cmap="viridis", aspect="auto", vmin=0, vmax=max(alpha.max(), 1e-6))
    ax.set_xticks(range(len(translation.source_tokens)))
    ax.set_xticklabels([c if c != " " else "␣" for c in translation.source_tokens], fontsize=8)
    ax.set_yticks(range(len(translation.output_tokens)))
    ax.set_yticklabels(translation.output_tokens, fontsize=8)
    ax.set_xlabel("input")
    ax.set_ylabel("output")
    ax.set_title(f"{translation.source!r} → {translation.output!r}", fontsize=9)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="attention α")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


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
