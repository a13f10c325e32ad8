"""Running a trained model on a file of inputs (`nncompile predict`).

Inputs: `.npy` (one array, for a one-input model), `.npz` (one array per
input name) or `.csv` (one example per row, an optional header; each row is
reshaped to the input's shape). Outputs: `.npy` (one-output models), `.npz`
(one array per output name) or `.csv` (one column per output value; a
classifier also gets `predicted` and `confidence`).

Inputs are encoded as in training, by the same encoder
(:class:`compiler.data.encoder.InputEncoder`): a model trained on a CSV reads
the training columns by name from a header row (other columns, such as the
target, are ignored), one-hot encodes categorical columns with the training
categories, and standardised inputs get the training constants. The encoder
comes from the model folder's metadata.json, else from the spec's training data.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from compiler.atomic import write_text_atomic, write_with
from compiler.errors import Location, NNCompileError, UsageError

OUTPUT_SUFFIXES = (".npy", ".npz", ".csv")


def write_outputs(
    path: Path, outputs: dict[str, np.ndarray], class_names: list[str] | None
) -> None:
    """Write predictions in the format named by `path`'s suffix.

    Raises:
        UsageError: an unknown suffix, or several outputs for an .npy file.
        NNCompileError: the file cannot be written (a missing folder is created).
    """
    from compiler.data.files import prepare_output, write_failed

    if path.suffix not in OUTPUT_SUFFIXES:
        raise UsageError(f"--output must be one of {', '.join(OUTPUT_SUFFIXES)}, got '{path.name}'")
    if path.suffix == ".npy" and len(outputs) != 1:
        raise UsageError(f"the model has {len(outputs)} outputs; write them to an .npz file")
    prepare_output(path)
    try:
        _write_outputs(path, outputs, class_names)
    except OSError as err:
        raise write_failed(path, err) from None


def _write_outputs(
    path: Path, outputs: dict[str, np.ndarray], class_names: list[str] | None
) -> None:
    if path.suffix == ".npy":
        write_with(path, lambda tmp: np.save(tmp, next(iter(outputs.values()))))
        return
    if path.suffix == ".npz":
        def save(tmp: Path) -> None:
            with open(tmp, "wb") as handle:
                np.savez(handle, **outputs)

        write_with(path, save)
        return
    columns, blocks = [], []
    for name, values in outputs.items():
        flat = values.reshape(len(values), -1)
        columns += [f"{name}_{i}" for i in range(flat.shape[1])]
        blocks.append(flat)
    table = np.concatenate(blocks, axis=1)
    only = next(iter(outputs.values()))
    add_class = class_names is not None and len(outputs) == 1 and only.ndim == 2
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns + (["predicted", "confidence"] if add_class else []))
    for i, row in enumerate(table):
        extra = []
        if add_class:
            from compiler.training.reports import predicted_classes

            cls, conf = predicted_classes(only[i : i + 1])
            label = class_names[int(cls[0])] if int(cls[0]) < len(class_names) else str(cls[0])
            extra = [label, f"{float(conf[0]):.6g}"]
        writer.writerow([f"{v:.7g}" for v in row] + extra)
    write_text_atomic(path, buffer.getvalue())


def predict_file(model_path: str | Path, input_path: str | Path, output_path: str | Path, *,
                 allow_outside: bool = False) -> int:
    """Predict every example of `input_path` and write `output_path`.

    ``model_path`` is a model folder or a `.keras` file; the inputs are
    encoded with the encoder of the folder it lies in (``allow_outside``: let
    the folder's spec read its training data from outside its folder, when
    they must be read again).

    Returns:
        The number of examples predicted.
    """
    from compiler.data.files import prepare_output
    from compiler.model_folder import ModelFolder, load_model_file

    model_path, output_path = Path(model_path), Path(output_path)
    if output_path.suffix not in OUTPUT_SUFFIXES:
        raise UsageError(f"--output must be one of {', '.join(OUTPUT_SUFFIXES)}, got '{output_path.name}'")
    input_path = Path(input_path)
    if input_path.exists() and output_path.exists() and output_path.samefile(input_path):
        raise NNCompileError(
            "--output is the --input file; writing the predictions would replace the examples, "
            "choose another file name",
            Location(str(output_path)),
        )
    prepare_output(output_path, create=False)  # fail before the model is loaded and run
    folder = ModelFolder(model_path if model_path.is_dir() else model_path.parent)
    model = load_model_file(model_path)
    encoder = folder.encoder(allow_outside)
    inputs = encoder.encode_file(input_path, model, where=model_path)
    predictions = model.predict(inputs if len(inputs) > 1 else next(iter(inputs.values())), verbose=0)
    if not isinstance(predictions, (list, tuple, dict)):
        predictions = [predictions]
    if isinstance(predictions, dict):
        outputs = {k: np.asarray(v) for k, v in predictions.items()}
    else:
        outputs = {n: np.asarray(v) for n, v in zip(model.output_names, predictions, strict=True)}
    write_outputs(output_path, outputs, folder.class_names())
    return len(next(iter(outputs.values())))
