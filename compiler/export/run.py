"""Export a model the way its spec asks, into a model folder.

Layout of an export folder (``saved_models/<name>/`` by default)::

    saved_model/            SavedModel, signature `serving_default`, dynamic batch
    model.tflite            LiteRT flatbuffer, float32, dynamic batch (batch 1 with loops)
    model.<mode>.tflite     the same, quantised (dynamic, float16 or int8)
    model.keras             native Keras file
    metadata.json           names, shapes, dtypes, labels, preprocessing, spec
    spec.resolved.yaml      the spec after extends/variables/overrides

Each item is written atomically (see :mod:`compiler.atomic`), so an
earlier export stays intact until its replacement is complete and checked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from compiler.atomic import atomic_file
from compiler.errors import ExportError
from compiler.export.metadata import build_metadata, metadata_json
from compiler.export.schema import EXPORT_FORMATS, TfliteOptions
from compiler.export.signature import model_signature
from compiler.model_folder import ModelFolder


def distinct_output_names(refs: list[str], names: list[str]) -> list[str]:
    """Signature names for the outputs ``refs`` (``att``, ``att[1]``), one per output.

    An output ``name[i]`` is exported as ``name``; when two outputs would
    share a name (a layer and its attention weights, the two halves of an
    unmerged bidirectional layer), ``name[i]`` with i > 0 becomes ``name_i``.
    """
    out = []
    for ref, name in zip(refs, names, strict=True):
        base, _, index = ref.partition("[")
        index = index.rstrip("]")
        if names.count(name) > 1 and index not in ("", "0"):
            name = f"{base}_{index}"
        out.append(name)
    return out


def export_from_spec(
    model,
    spec: Any,
    folder: ModelFolder | str | Path,
    data_bundle: Any = None,
    formats: list[str] | None = None,
    *,
    tflite_options: TfliteOptions | None = None,
    preprocessing: dict | None = None,
) -> list[Any]:
    """Export `model` into `out_dir` in each format, with metadata; return one report each.

    Args:
        model: The built (usually trained) Keras model.
        spec: Its spec, or None when only a model file is known (names then
            come from the model, and no spec is written).
        folder: The export folder, e.g. ``ModelFolder("saved_models/<name>")`` (a path
            is taken as one).
        data_bundle: The spec's data; its training split calibrates int8,
            its test split (else validation, else train) measures accuracy,
            and its metadata (vocabularies, constants) goes into metadata.json.
        formats: Formats to write; default: the spec's `export:` list, else all.
        tflite_options: Overrides the spec's `tflite:` options (CLI flags).
        preprocessing: The encoding training recorded (a model folder's
            metadata.json), written instead of the data's.

    Returns:
        Reports (``.summary()`` gives one line each) in the order written.

    Raises:
        ExportError: A format is unknown or an export failed its check.
    """
    export_spec = spec.export if spec is not None else None
    if formats is None:
        formats = export_spec.formats() if export_spec is not None else list(EXPORT_FORMATS)
    unknown = [f for f in formats if f not in EXPORT_FORMATS]
    if unknown:
        raise ExportError(f"unknown export format(s) {unknown}, expected {list(EXPORT_FORMATS)}")
    options = tflite_options
    if options is None:
        options = export_spec.options("tflite") if export_spec is not None else TfliteOptions()

    trained = model
    input_names = list(spec.inputs) if spec is not None else None
    output_names = list(spec.outputs) if spec is not None else None
    if spec is not None:
        # Applications run the inference graph: for seq2seq that is greedy decoding
        # without the teacher-forcing input; for everything else the model itself.
        from compiler.build.graph import build_inference_model, decoder_entry

        model, output_names = build_inference_model(spec, trained)
        found = decoder_entry(spec)
        if found is not None:
            teacher = found[0].inputs[1]
            input_names = [n for n in input_names if n != teacher]
            data_bundle = _without_input(data_bundle, teacher)
        else:
            output_names = distinct_output_names(list(spec.outputs), output_names)
        from compiler.detection.export_graph import detection_export_model

        detector = detection_export_model(spec, model)  # decoding and NMS in the graph
        if detector is not None:
            model, output_names = detector
    sig = model_signature(model, input_names, output_names)
    from compiler.export.tflite import tflite_batch

    batch = tflite_batch(model, options.quantize)
    meta = build_metadata(sig, spec, data_bundle, preprocessing, tflite_batch=batch)
    folder = folder if isinstance(folder, ModelFolder) else ModelFolder(folder)
    # One writer per folder, for a Python caller as for `nncompile export`.
    with folder.lock("export"):
        folder.create()
        # Written first: they describe the model whatever becomes of the exports below.
        folder.write_metadata(metadata_json(meta))
        if spec is not None:
            folder.write_resolved_spec(spec)

        reports: list[Any] = []
        calibration, samples, targets = _data_for_tflite(data_bundle)
        for fmt in formats:
            if fmt == "saved_model":
                from compiler.export.saved_model import export_saved_model

                free = any(None in info.shape[1:] for info in sig.inputs)
                reports.append(
                    export_saved_model(
                        model,
                        folder.saved_model_dir,
                        input_names=sig.input_names,
                        output_names=sig.output_names,
                        metadata=meta,
                        # Random inputs have one length for every free dimension; the data
                        # have the lengths the model was built for.
                        sample_data=samples if free else None,
                    )
                )
            elif fmt == "tflite":
                from compiler.export.tflite import export_tflite

                reports.append(
                    export_tflite(
                        model,
                        folder.tflite_file(options.quantize),
                        quantize=options.quantize,
                        representative_data=calibration,
                        allow_select_ops=options.allow_select_ops,
                        tolerance=options.effective_tolerance(),
                        input_names=sig.input_names,
                        output_names=sig.output_names,
                        sample_data=samples,
                        sample_targets=targets,
                    )
                )
                if reports[-1].batch != batch:
                    # The converter needed batch 1 after all: say so where applications read it.
                    meta["tflite"]["batch"] = reports[-1].batch
                    folder.write_metadata(metadata_json(meta))
            else:
                reports.append(export_keras(trained, folder.model_file))
        return reports


class _InferenceData:
    """A data bundle seen through an inference graph: inputs only, no targets."""

    def __init__(self, bundle: Any, drop: str):
        self.metadata = bundle.metadata
        self.class_names = bundle.class_names
        self.task = bundle.task
        self.arrays = {}
        for split, (inputs, _targets) in bundle.arrays.items():
            if isinstance(inputs, dict):
                inputs = {k: v for k, v in inputs.items() if k != drop}
                if len(inputs) == 1:
                    inputs = next(iter(inputs.values()))
            self.arrays[split] = (inputs, None)


def _without_input(bundle: Any, drop: str) -> Any:
    return None if bundle is None else _InferenceData(bundle, drop)


def _data_for_tflite(bundle: Any) -> tuple[Any, Any, Any]:
    if bundle is None or not bundle.arrays:
        return None, None, None
    calibration = bundle.arrays["train"][0] if "train" in bundle.arrays else None
    for split in ("test", "validation", "train"):
        if split in bundle.arrays:
            inputs, targets = bundle.arrays[split]
            return calibration, inputs, targets
    return calibration, None, None


class KerasReport:
    """What was written for the `.keras` format."""

    format = "keras"

    def __init__(self, path: Path, size_bytes: int):
        self.path = path
        self.size_bytes = size_bytes

    def summary(self) -> str:
        """One line for the console."""
        return f"keras: {self.path} ({self.size_bytes / 1e6:.2f} MB)"


def export_keras(model, path: Path | str) -> KerasReport:
    """Save `model` as a `.keras` file atomically and check that it loads back."""
    from compiler.model_folder import load_model_file

    path = Path(path)
    with atomic_file(path) as tmp:
        model.save(tmp)
        load_model_file(tmp)
    return KerasReport(path, path.stat().st_size)
