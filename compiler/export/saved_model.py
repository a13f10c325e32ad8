"""SavedModel export: a `serving_default` signature under the spec's names.

The folder loads with plain ``tf.saved_model.load`` in a program that has
neither this project nor its custom layers installed: the graph is traced,
so custom layers live on as TensorFlow ops, and ``assets.extra/metadata.json``
carries everything else an application needs (names, labels, preprocessing).
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from compiler.atomic import atomic_folder
from compiler.errors import ExportError
from compiler.export.probe import PROBE_OUTPUT, varying_probe
from compiler.export.signature import (
    ModelSignature,
    checked_call,
    constant_outputs,
    max_abs_diff,
    max_relative_diff,
    model_signature,
    name_outputs,
    named_inputs,
    sample_inputs,
)

SIGNATURE_KEY = "serving_default"
METADATA_ASSET = "assets.extra/metadata.json"
# Float32 kernels differ slightly between eager Keras and the traced graph
# (fused vs. unfused ops); anything past this is a real mismatch.
SAVED_MODEL_TOLERANCE = 1e-5


@dataclass
class SavedModelReport:
    """What was written and how closely it matches Keras."""

    path: Path
    max_abs_diff: float
    size_bytes: int
    weak: bool = False
    """True when Keras gave the same outputs for every check input, so the diff shows little."""
    probe_layer: str | None = None
    """With constant outputs, the layer (whose output varies) compared instead."""
    probe_diff: float | None = None

    format: str = "saved_model"

    def summary(self) -> str:
        """One line for the console."""
        line = (
            f"saved_model: {self.path} ({self.size_bytes / 1e6:.2f} MB), "
            f"signature '{SIGNATURE_KEY}', max |diff| vs Keras {self.max_abs_diff:.2e}"
        )
        if self.weak:
            line += ("; weak check: Keras gives the same outputs for every check input "
                     "(untrained or saturated weights?), so the equality shows little")
            if self.probe_layer is not None:
                line += (f"; layer '{self.probe_layer}', whose output varies, was compared "
                         f"instead: max |diff| {self.probe_diff:.2e}")
        return line


def export_saved_model(
    model,
    path: Path | str,
    *,
    input_names: list[str] | None = None,
    output_names: list[str] | None = None,
    metadata: dict[str, Any] | None = None,
    sample_data: dict[str, Any] | Any = None,
) -> SavedModelReport:
    """Write `model` as a SavedModel folder at `path`, atomically, and verify it.

    Args:
        model: A built Keras model.
        path: The folder to create or replace.
        input_names: Signature input names (default: the Keras input names).
        output_names: Signature output names, in the model's output order
            (default: ``model.output_names``).
        metadata: JSON-ready dict stored as ``assets.extra/metadata.json``.
        sample_data: Inputs to check with (a ``{name: array}`` mapping, or one
            array for one input), e.g. the spec's test split; by default
            random inputs of a length the model accepts.

    Returns:
        A report with the largest difference from Keras on random inputs.

    Raises:
        ExportError: Tracing, saving or the check after writing failed.
    """
    import keras
    import tensorflow as tf

    sig = model_signature(model, input_names, output_names)
    _check_identifiers(sig)
    specs = [
        tf.TensorSpec(list(info.shape), tf.as_dtype(info.dtype), name=info.name)
        for info in sig.inputs
    ]

    def serve(*tensors):
        result = model(list(tensors) if len(tensors) > 1 else tensors[0], training=False)
        return name_outputs(model, sig, result)

    # The endpoint's argument names become the signature's input names, so
    # give the traced function real parameters named after the inputs.
    serve = _with_parameter_names(serve, sig.input_names)

    path = Path(path)
    try:
        with atomic_folder(path) as tmp:
            archive = keras.export.ExportArchive()
            archive.track(model)
            archive.add_endpoint(SIGNATURE_KEY, serve, input_signature=specs)
            _quietly(archive.write_out, str(tmp), verbose=False)
            if metadata is not None:
                target = tmp / METADATA_ASSET
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(json.dumps(metadata, indent=2, sort_keys=True))
            samples = named_inputs(sample_data, sig, "sample_data")
            diff, weak = verify_saved_model(tmp, model, sig, samples=samples)
            probe = _probe_check(model, sig, samples) if weak else None
    except ExportError:
        raise
    except (ValueError, TypeError, NotImplementedError, tf.errors.OpError) as err:
        raise ExportError(f"cannot export the model as a SavedModel: {err}") from err
    size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    report = SavedModelReport(path=path, max_abs_diff=diff, size_bytes=size, weak=weak)
    if probe is not None:
        report.probe_layer, report.probe_diff = probe
    return report


def _probe_check(model, sig: ModelSignature, samples: dict | None,
                 batch: int = 3) -> tuple[str, float] | None:
    """Constant outputs prove nothing: export up to a layer that varies and compare that.

    Returns:
        The layer compared and the largest difference there, or None when no
        layer's output varies.

    Raises:
        ExportError: The traced graph differs from Keras at that layer.
    """
    if samples is not None:
        dtypes = {info.name: info.dtype for info in sig.inputs}
        inputs = {k: np.asarray(v[:batch]).astype(dtypes[k]) for k, v in samples.items()}
    else:
        inputs = sample_inputs(model, sig, batch, seed=1)
    probe = varying_probe(model, sig, inputs)
    if probe is None:
        return None
    with tempfile.TemporaryDirectory(prefix="nncompile-probe-") as tmp:
        try:
            report = export_saved_model(probe.model, Path(tmp) / "probe",
                                        input_names=sig.input_names,
                                        output_names=[PROBE_OUTPUT], sample_data=inputs)
        except ExportError as err:
            raise ExportError(
                f"the outputs are constant, and at layer '{probe.layer}', whose output "
                f"varies, {err.problems[0].message}") from None
    return probe.layer, report.max_abs_diff


def verify_saved_model(
    path: Path, model, sig: ModelSignature, batch: int = 3, samples: dict | None = None
) -> tuple[float, bool]:
    """Load the folder with plain TensorFlow and compare `serving_default` with Keras.

    Args:
        samples: Named inputs whose first `batch` rows are compared; by
            default random inputs of a length the model accepts.

    Returns:
        The largest absolute difference over all outputs, and whether the
        check was weak (Keras gave the same outputs for every input).

    Raises:
        ExportError: Names, dtypes or the batch dimension are wrong, or the
            outputs differ by more than ``SAVED_MODEL_TOLERANCE``.
    """
    import tensorflow as tf

    loaded = tf.saved_model.load(str(path))
    fn = loaded.signatures[SIGNATURE_KEY]
    _, kwargs = fn.structured_input_signature
    if sorted(kwargs) != sorted(sig.input_names):
        raise ExportError(
            f"SavedModel signature inputs are {sorted(kwargs)}, expected {sig.input_names}"
        )
    for info in sig.inputs:
        got = kwargs[info.name]
        if got.dtype.name != info.dtype or got.shape[0] is not None:
            raise ExportError(
                f"SavedModel input '{info.name}' is {got.dtype.name}{got.shape}, "
                f"expected {info.dtype} with a free batch dimension"
            )
    if samples is not None:
        what = "the sample data"
        dtypes = {info.name: info.dtype for info in sig.inputs}
        inputs = {k: np.asarray(v[:batch]).astype(dtypes[k]) for k, v in samples.items()}
    else:
        what, inputs = "random inputs", sample_inputs(model, sig, batch, seed=1)
    expected = checked_call(model, sig, inputs, what)
    got = {k: v.numpy() for k, v in fn(**{k: tf.constant(v) for k, v in inputs.items()}).items()}
    if sorted(got) != sorted(sig.output_names):
        raise ExportError(
            f"SavedModel signature outputs are {sorted(got)}, expected {sig.output_names}"
        )
    diff = max_abs_diff(expected, got)
    # Relative to max(1, peak |output|): outputs in pixels (a detector's boxes)
    # differ by one float32 step, 7.6e-6 at 100, where probabilities differ by 6e-8.
    if max_relative_diff(expected, got) > SAVED_MODEL_TOLERANCE:
        raise ExportError(
            f"the SavedModel differs from the Keras model by {diff:.3g} "
            f"(more than {SAVED_MODEL_TOLERANCE:g} relative to the outputs' scale); the export "
            "was not kept"
        )
    floats = [n for n, v in expected.items() if np.issubdtype(np.asarray(v).dtype, np.floating)]
    weak = bool(floats) and len(inputs[sig.input_names[0]]) > 1 and \
        sorted(constant_outputs(expected)) == sorted(floats)
    return diff, weak


def _check_identifiers(sig: ModelSignature) -> None:
    bad = [n for n in sig.input_names + sig.output_names if not n.isidentifier()]
    if bad:
        raise ExportError(
            f"signature names must be identifiers (letters, digits, underscores), got {bad}"
        )


def _with_parameter_names(fn, names: list[str]):
    """Return a function with positional parameters called `names` that calls `fn`."""
    import inspect

    def named(*args):
        return fn(*args)

    named.__signature__ = inspect.Signature(
        [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in names]
    )
    return named


def _quietly(fn, *args, **kwargs):
    # ExportArchive prints the endpoint list to stdout; the CLI prints its own summary.
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args, **kwargs)
