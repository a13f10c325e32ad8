"""TFLite (LiteRT) export: builtin ops only, checked against Keras after writing.

The model is traced, its variables are frozen into constants, and the
frozen graph is converted. Freezing matters: a SavedModel or a Keras model
still holding resource variables converts, but the variables read inside a
WHILE body are not materialised and the model fails at run time.

The batch dimension stays free (the interpreter resizes its inputs at run
time) except for models with a loop: recurrent layers (LSTM, GRU, SimpleRNN,
Bidirectional, custom `keras.layers.RNN` cells) and the greedy decoder. There
an unknown batch keeps the TensorList ops of the loop from being lowered to
builtins (they would need Flex), so those are traced with a batch of 1, as
are int8 models (see :func:`tflite_batch`). A
model whose dynamic-batch conversion fails for another reason is converted
at batch 1 too, when that works. The check runs LiteRT at batch 1 and, for a
dynamic batch, at batch 4.

The frozen graph is wrapped in a small SavedModel with a `serving_default`
signature, so the flatbuffer's signature carries the spec's input and output
names (``interpreter.get_signature_runner()(**inputs) -> {name: array}``).
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from compiler.atomic import write_bytes_atomic
from compiler.errors import ExportError
from compiler.export.probe import PROBE_OUTPUT, varying_probe
from compiler.export.schema import DEFAULT_TOLERANCE
from compiler.export.signature import (
    ModelSignature,
    all_layers,
    checked_call,
    constant_outputs,
    max_abs_diff,
    max_relative_diff,
    model_signature,
    named_inputs,
    sample_inputs,
)
from compiler.export.tflite_ops import (
    layer_in_scope,
    layers_using_ops,
    list_ops,
    non_builtin_ops,
    unsupported_ops_from_error,
)

SIGNATURE_KEY = "serving_default"
CALIBRATION_SAMPLES = 100
CHECK_SAMPLES = 32
# The batch the check runs a dynamic-batch model at, besides batch 1.
CHECK_BATCH = 4
# Op types of a traced loop: frozen graphs hold v1 control flow (LoopCond), others While.
LOOP_OPS = ("LoopCond", "While", "StatelessWhile")


@dataclass
class TfliteReport:
    """What was written, which ops it uses and how closely it follows Keras."""

    path: Path
    quantize: str | None
    size_bytes: int
    ops: list[str]
    select_ops: list[str]
    tolerance: float
    batch: int | None = None
    """The flatbuffer's batch dimension: None when free (resized at run time), else 1."""
    samples: int = 0
    max_abs_diff: float | None = None
    max_rel_diff: float | None = None
    agreement: float | None = None
    """Share of samples whose top class (argmax of each output) matches Keras; for a
    model with integer outputs (token ids of greedy decoding), the share of equal ids."""
    agreement_kind: str = "top-1"
    accuracy: float | None = None
    keras_accuracy: float | None = None
    notes: list[str] = field(default_factory=list)
    weak: bool = False
    """True when Keras gave the same outputs for every sample, so agreement shows little."""
    probe_layer: str | None = None
    """With constant outputs, the layer (whose output varies) compared instead."""
    probe_rel_diff: float | None = None

    format: str = "tflite"

    def summary(self) -> str:
        """One line for the console."""
        mode = self.quantize or "float32"
        batch = "dynamic batch" if self.batch is None else f"batch {self.batch}"
        parts = [f"tflite ({mode}, {batch}): {self.path} ({self.size_bytes / 1e6:.2f} MB)"]
        flex = f", Flex: {self.select_ops}" if self.select_ops else ", builtin only"
        parts.append(f"{len(self.ops)} op types{flex}")
        if self.max_abs_diff is not None:
            parts.append(f"max |diff| vs Keras {self.max_abs_diff:.2e} on {self.samples} samples")
        if self.agreement is not None:
            parts.append(f"{self.agreement_kind} agreement {self.agreement:.1%}")
        if self.accuracy is not None:
            parts.append(f"accuracy {self.accuracy:.1%} (Keras {self.keras_accuracy:.1%})")
        parts.extend(self.notes)
        return "; ".join(parts)


def export_tflite(
    model,
    path: Path | str,
    *,
    quantize: str | None = None,
    representative_data: dict[str, np.ndarray] | np.ndarray | None = None,
    allow_select_ops: bool = False,
    tolerance: float | None = None,
    input_names: list[str] | None = None,
    output_names: list[str] | None = None,
    sample_data: dict[str, np.ndarray] | np.ndarray | None = None,
    sample_targets: Any = None,
) -> TfliteReport:
    """Convert `model` to a `.tflite` file at `path`, verify it, and write it atomically.

    Args:
        model: A built Keras model.
        path: The `.tflite` file to create or replace.
        quantize: None (float32), ``"dynamic"``, ``"float16"`` or ``"int8"``.
        representative_data: Inputs (a ``{name: array}`` mapping, or one array
            for a one-input model) of training samples; required for int8.
        allow_select_ops: Permit TensorFlow (Flex) ops the builtin runtime lacks.
        tolerance: Largest accepted |TFLite - Keras| / max(1, peak |Keras|);
            by default it depends on `quantize`.
        input_names: Names for the inputs (default: the Keras input names).
        output_names: Names for the outputs (default: ``model.output_names``).
        sample_data: Inputs to compare TFLite with Keras on (default: the
            representative data, else random inputs).
        sample_targets: Targets for `sample_data`; when given for a
            classifier, the accuracy of both models is reported.

    Returns:
        A :class:`TfliteReport`.

    Raises:
        ExportError: The model needs non-builtin ops (naming the ops and the
            layers they come from), int8 was asked without data, or the
            converted model disagrees with Keras beyond the tolerance. Nothing
            is written at `path` in that case.
    """
    if quantize not in (None, "dynamic", "float16", "int8"):
        raise ExportError(
            f"unknown quantisation `{quantize}`, expected one of dynamic, float16, int8"
        )
    sig = model_signature(model, input_names, output_names)
    calibration = named_inputs(representative_data, sig, "representative_data")
    if quantize == "int8" and calibration is None:
        raise ExportError(
            "int8 quantisation needs representative training data to calibrate with; "
            "export from a spec with a `data:` section, or choose --quantize dynamic"
        )
    convert = {"quantize": quantize, "calibration": calibration,
               "allow_select_ops": allow_select_ops}
    batch = tflite_batch(model, quantize)
    notes = []
    try:
        content = convert_to_tflite(model, sig, batch=batch, **convert)
    except ExportError as dynamic_err:
        if batch is not None:
            raise
        # Some converter passes fail only with a free batch; batch 1 may still work.
        try:
            content = convert_to_tflite(model, sig, batch=1, **convert)
        except ExportError:
            raise dynamic_err from None
        batch = 1
        notes.append(f"converted at batch 1: with a free batch, {dynamic_err.problems[0].message}")
    ops = list_ops(content)
    select_ops = non_builtin_ops(ops)
    if select_ops and not allow_select_ops:
        # The converter was told builtins only; this guards against its surprises.
        raise ExportError(
            f"the converted model contains non-builtin ops {select_ops}; "
            "rerun with --allow-select-ops to accept them"
        )
    limit = tolerance if tolerance is not None else DEFAULT_TOLERANCE[quantize]
    report = TfliteReport(
        path=Path(path),
        quantize=quantize,
        size_bytes=len(content),
        ops=ops,
        select_ops=select_ops,
        tolerance=limit,
        batch=batch,
        notes=notes,
    )
    samples = named_inputs(sample_data, sig, "sample_data")
    what = "the sample data"
    if samples is None:
        samples, what = calibration, "the representative data"
    if samples is None:
        samples, what = sample_inputs(model, sig, 16, seed=2), "random inputs"
    _compare_with_keras(report, content, model, sig, samples, sample_targets, what)
    if report.weak:
        _compare_probe(report, model, sig, samples, batch, convert)
    write_bytes_atomic(path, content)
    return report


def _compare_probe(report: TfliteReport, model, sig: ModelSignature, samples: dict,
                   batch: int | None, convert: dict) -> None:
    """Constant outputs prove nothing: convert up to a layer that varies and compare that.

    Raises:
        ExportError: The converted graph differs from Keras at that layer.
    """
    count = min(CHECK_SAMPLES, len(next(iter(samples.values()))))
    inputs = {name: np.asarray(array[:count]).astype(_dtype(sig, name))
              for name, array in samples.items()}
    probe = varying_probe(model, sig, inputs)
    if probe is None:
        report.notes.append("no layer's output varies over the samples either")
        return
    probe_sig = model_signature(probe.model, sig.input_names, [PROBE_OUTPUT])
    content = convert_to_tflite(probe.model, probe_sig, batch=batch, **convert)
    check = TfliteReport(path=report.path, quantize=report.quantize, size_bytes=len(content),
                         ops=[], select_ops=report.select_ops, tolerance=report.tolerance,
                         batch=batch)
    try:
        _compare_with_keras(check, content, probe.model, probe_sig, inputs, None)
    except ExportError as err:
        raise ExportError(
            f"the outputs are constant, and at layer '{probe.layer}', whose output varies, "
            f"{err.problems[0].message}") from None
    report.probe_layer = probe.layer
    report.probe_rel_diff = check.max_rel_diff
    report.notes.append(
        f"layer '{probe.layer}', whose output varies, was compared instead: "
        f"max |diff| vs Keras {check.max_abs_diff:.2e} "
        f"({check.max_rel_diff:.2e} of its scale)")


def tflite_batch(model, quantize: str | None = None) -> int | None:
    """The batch a model is converted at: 1 for a model with a loop or int8, else None (free).

    Loops are recurrent layers (every ``keras.layers.RNN``, wrapped or not),
    layers that decode step by step (the attention decoder's greedy loop) and a
    detector's non-max suppression, which runs image by image.
    Full-integer models are for microcontrollers and accelerators (TFLite
    Micro, the Edge TPU compiler) that want static shapes, and a free batch
    adds shape arithmetic that is a large share of a small int8 file.
    """
    import keras

    from compiler.detection.decode import DecodeDetections  # NMS image by image
    from custom_layers.attention_decoder import AttentionDecoder

    if quantize == "int8":
        return 1
    loops = (keras.layers.RNN, AttentionDecoder, DecodeDetections)
    return 1 if any(isinstance(layer, loops) for layer in all_layers(model)) else None


def convert_to_tflite(
    model,
    sig: ModelSignature,
    *,
    batch: int | None = 1,
    quantize: str | None = None,
    calibration: dict[str, np.ndarray] | None = None,
    allow_select_ops: bool = False,
) -> bytes:
    """Return the flatbuffer bytes of `model`; see the module docstring for the route.

    Args:
        batch: The batch dimension of the inputs: 1, or None for a free one.

    Raises:
        ExportError: The conversion failed, or a free batch was asked for a
            model with a loop.
    """
    import tensorflow as tf

    # Freezing has no public API in TF 2; this is the function the converter
    # itself uses on concrete functions.
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    specs = [
        tf.TensorSpec([batch, *info.shape[1:]], tf.as_dtype(info.dtype), name=info.name)
        for info in sig.inputs
    ]

    def forward(*tensors):
        result = model(list(tensors) if len(tensors) > 1 else tensors[0], training=False)
        if isinstance(result, dict):
            result = [result[k] for k in model.output_names]
        return dict(zip(sig.output_names, tf.nest.flatten(result), strict=True))

    with _no_dropout_masks(model):
        traced = tf.function(forward, input_signature=specs).get_concrete_function()
    frozen = convert_variables_to_constants_v2(traced)
    if batch is None and any(n.op in LOOP_OPS for n in _all_nodes(frozen.graph.as_graph_def())):
        raise ExportError("the model has a loop, which converts to builtin ops at batch 1 only")
    if quantize == "int8":
        _refuse_int8_loops(frozen, model)
    # The frozen function returns its outputs flat, in sorted-key order.
    ordered_names = sorted(sig.output_names)
    holder = tf.Module()
    holder.frozen = frozen
    serve = tf.function(
        lambda *tensors: dict(zip(ordered_names, holder.frozen(*tensors), strict=True)),
        input_signature=specs,
        autograph=False,
    )
    with tempfile.TemporaryDirectory(prefix="nncompile-tflite-") as tmp:
        tf.saved_model.save(holder, tmp, signatures={SIGNATURE_KEY: serve.get_concrete_function()})
        converter = tf.lite.TFLiteConverter.from_saved_model(tmp)
        _configure(converter, sig, quantize, calibration, allow_select_ops)
        try:
            with _silenced_stderr():
                return converter.convert()
        except Exception as err:  # noqa: BLE001 - ConverterError and friends; re-raised below
            raise _conversion_error(err, frozen, model, allow_select_ops) from err


def _refuse_int8_loops(frozen, model) -> None:
    # The TFLite calibrator crashes the process (SIGSEGV) on models with a
    # WHILE loop, so recurrent layers are refused before it can run.
    loops = list(LOOP_OPS)
    layer_names = [layer.name for layer in all_layers(model)]
    where = layers_using_ops(frozen.graph.as_graph_def(), loops, layer_names)
    found = sorted({name for names in where.values() for name in names})
    if found or any(n.op in loops for n in frozen.graph.as_graph_def().node):
        named = f" (layers {', '.join(repr(n) for n in found)})" if found else ""
        raise ExportError(
            f"int8 quantisation does not support recurrent loops{named}: the TFLite "
            "calibrator cannot run WHILE ops; use --quantize dynamic or float16 instead"
        )


def _all_nodes(graph_def) -> list:
    nodes = list(graph_def.node)
    for function in graph_def.library.function:
        nodes.extend(function.node_def)
    return nodes


def _configure(converter, sig, quantize, calibration, allow_select_ops) -> None:
    import tensorflow as tf

    opsets = tf.lite.OpsSet
    builtins = opsets.TFLITE_BUILTINS_INT8 if quantize == "int8" else opsets.TFLITE_BUILTINS
    ops = [builtins]
    if allow_select_ops:
        ops.append(tf.lite.OpsSet.SELECT_TF_OPS)
    converter.target_spec.supported_ops = ops
    if quantize is not None:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantize == "float16":
        converter.target_spec.supported_types = [tf.float16]
    if quantize == "int8":
        count = min(CALIBRATION_SAMPLES, len(next(iter(calibration.values()))))

        def representative_dataset():
            for i in range(count):
                yield {name: calibration[name][i : i + 1] for name in sig.input_names}

        converter.representative_dataset = representative_dataset


def _conversion_error(err: Exception, frozen, model, allow_select_ops: bool) -> ExportError:
    message = str(err)
    ops = unsupported_ops_from_error(message)
    layer_names = [layer.name for layer in all_layers(model)]
    if not ops:
        return ExportError(_located_failure(message, layer_names, model))
    where = layers_using_ops(frozen.graph.as_graph_def(), ops, layer_names)
    described = ", ".join(
        f"{op} (from layer {', '.join(repr(n) for n in where[op])})" if where.get(op) else op
        for op in ops
    )
    if allow_select_ops:
        return ExportError(f"TFLite conversion failed even with select TF ops: {described}")
    return ExportError(
        f"the model needs TensorFlow ops that LiteRT has no builtin kernel for: {described}. "
        "Rerun with --allow-select-ops (or `allow_select_ops: true`) to embed them as Flex "
        "ops; applications then need the Flex delegate"
    )


# A node's name in an MLIR diagnostic: `loc(... "net_1/add_1_1/BiasAdd@__inference_...`.
_NODE_NAME = re.compile(r'"([^"@]*/[^"@]*)(?:@[^"]*)?"')


def _located_failure(message: str, layer_names: list[str], model=None) -> str:
    """The converter's failure as which layer failed and what to try.

    MLIR diagnostics start with the location of the failing node; its name
    scope is the Keras layer. The converter fuses ops of neighbouring layers,
    so the layers feeding it are named too. The diagnostic itself talks about
    TensorFlow ops the spec never mentions, so it is left out (--debug shows it).
    """
    layers = set(layer_names)
    layer = next(
        (found for scope in _NODE_NAME.findall(message)
         if (found := layer_in_scope(scope, layers))), None)
    if layer is None:
        where = "(the converter names no layer of the model)"
    else:
        feeding = _feeding_layers(model, layer) if model is not None else []
        also = f" (or a layer feeding it: {', '.join(repr(n) for n in feeding)})" \
            if feeding else ""
        where = f"at layer '{layer}'{also}"
    return (
        f"TFLite conversion failed {where}; try another configuration of that layer "
        "(sizes, a fixed input length) or a layer of the same role, export the SavedModel "
        "only (`--format saved_model`), or allow TensorFlow ops (`--allow-select-ops`)"
    )


def _feeding_layers(model, name: str) -> list[str]:
    """Names of the layers whose outputs layer `name` of `model` reads (not plain inputs)."""
    try:
        layer = model.get_layer(name)
    except ValueError:
        return []
    found = []
    for node in getattr(layer, "_inbound_nodes", []):
        for tensor in getattr(node, "input_tensors", []):
            history = getattr(tensor, "_keras_history", None)
            source = getattr(history, "operation", None)
            if source is not None and not type(source).__name__ == "InputLayer" \
                    and source.name not in found:
                found.append(source.name)
    return found


@contextlib.contextmanager
def _no_dropout_masks(model):
    """Trace with the recurrent cells' dropout rates at 0.

    Keras's RNN layer draws its cells' dropout masks before every call, even
    with ``training=False`` where they go unused; each draw advances a seed
    variable, and that assignment cannot be frozen into a TFLite graph. The
    inference graph is the same without it.
    """
    from keras.src.layers.rnn.dropout_rnn_cell import DropoutRNNCell

    saved = []
    for layer in all_layers(model):
        if isinstance(layer, DropoutRNNCell) and (layer.dropout or layer.recurrent_dropout):
            saved.append((layer, layer.dropout, layer.recurrent_dropout))
            layer.dropout = layer.recurrent_dropout = 0.0
    try:
        yield
    finally:
        for layer, dropout, recurrent_dropout in saved:
            layer.dropout, layer.recurrent_dropout = dropout, recurrent_dropout


def _compare_with_keras(report: TfliteReport, content: bytes, model, sig, samples, targets,
                        what: str = "the sample inputs") -> None:
    try:
        runner = _signature_runner(content, bool(report.select_ops))
    except (RuntimeError, ValueError) as err:
        if report.select_ops:
            report.notes.append(f"not run: no interpreter with Flex ops is available ({err})")
            return
        raise ExportError(f"the converted TFLite model does not load: {err}") from err
    count = min(CHECK_SAMPLES, len(next(iter(samples.values()))))
    batch = {name: np.asarray(array[:count]).astype(_dtype(sig, name))
             for name, array in samples.items()}
    expected = checked_call(model, sig, batch, what)
    expected = {name: np.asarray(value) for name, value in expected.items()}
    got = _run_in_batches(runner, sig, batch, count, 1)
    if report.batch is None and count > 1:
        # A free batch must give the same numbers as one example at a time.
        wide = _run_in_batches(runner, sig, batch, count, CHECK_BATCH)
        got = {name: _worse(expected[name], got[name], wide[name]) for name in got}
    constant = constant_outputs(expected)
    if constant and len(constant) == len([v for v in expected.values() if not _is_discrete(v)]):
        report.weak = True
        report.notes.append(
            f"weak check: Keras gives the same {', '.join(repr(n) for n in constant)} for all "
            f"{count} samples (untrained or saturated weights?), so agreeing with it shows little")
    report.samples = count
    discrete = [name for name, ref in expected.items() if _is_discrete(ref)]
    if discrete:
        _compare_discrete(report, expected, got, discrete)
    else:
        report.max_abs_diff = max_abs_diff(expected, got)
        report.max_rel_diff = max_relative_diff(expected, got)
        report.agreement = _agreement(expected, got)
    if targets is not None:
        first = sig.output_names[0]
        report.keras_accuracy = _accuracy(expected[first], targets, count)
        report.accuracy = _accuracy(got[first], targets, count)
    if report.max_rel_diff > report.tolerance:
        raise ExportError(
            f"the TFLite model ({report.quantize or 'float32'}) differs from Keras by "
            f"{report.max_rel_diff:.3g} relative to the output scale, more than the tolerance "
            f"{report.tolerance:g}; it was not written (raise `tolerance` to accept it)"
        )


def _run_in_batches(runner, sig, inputs: dict, count: int, size: int) -> dict[str, np.ndarray]:
    """Run LiteRT on `inputs` `size` examples at a time (the runner resizes its inputs)."""
    rows = [runner(**{name: array[i : i + size] for name, array in inputs.items()})
            for i in range(0, count, size)]
    return {name: np.concatenate([row[name] for row in rows]) for name in sig.output_names}


def _worse(expected: np.ndarray, one: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Whichever of two LiteRT results is further from Keras, so both are held to the tolerance."""
    def distance(got):
        if _is_discrete(expected):
            return float(np.mean(got.reshape(expected.shape) != expected))
        return float(np.max(np.abs(got.reshape(expected.shape).astype(np.float64) - expected),
                            initial=0.0))
    return other if distance(other) > distance(one) else one


def _is_discrete(array: np.ndarray) -> bool:
    """Integer or boolean outputs: ids (greedy-decoded tokens), not measurements."""
    return np.issubdtype(array.dtype, np.integer) or array.dtype == np.bool_


def _compare_discrete(report: TfliteReport, expected: dict, got: dict, discrete: list) -> None:
    """Compare a model with integer outputs (e.g. the tokens of greedy decoding).

    An id is right or wrong: its difference says nothing (token 7 is not
    closer to token 8 than to token 1), and after one differing token a
    decoder reads a different history, so the float outputs of that example
    (its attention weights) differ legitimately. So the share of differing
    ids must stay under the tolerance, and the float outputs are compared,
    relative to their scale, on the examples whose ids all agree.
    """
    same_rows = None
    worst_share, worst_name = 0.0, discrete[0]
    for name in discrete:
        ref = expected[name]
        equal = got[name].reshape(ref.shape) == ref
        share = 1.0 - float(np.mean(equal)) if equal.size else 0.0
        if share > worst_share:
            worst_share, worst_name = share, name
        rows = equal.reshape(len(equal), -1).all(axis=1) if equal.ndim else equal
        same_rows = rows if same_rows is None else same_rows & rows
    report.agreement = 1.0 - worst_share
    report.agreement_kind = "token"
    agreeing = {name: ref[same_rows] for name, ref in expected.items()}
    agreeing_got = {name: got[name].reshape(ref.shape)[same_rows] for name, ref in expected.items()}
    report.max_abs_diff = max_abs_diff(agreeing, agreeing_got)
    report.max_rel_diff = max_relative_diff(
        {n: v for n, v in agreeing.items() if n not in discrete},
        {n: v for n, v in agreeing_got.items() if n not in discrete},
    )
    if worst_share > report.tolerance:
        raise ExportError(
            f"the TFLite model ({report.quantize or 'float32'}) gives other ids than Keras in "
            f"{worst_share:.1%} of the values of output '{worst_name}' on {len(same_rows)} "
            f"samples, more than the tolerance {report.tolerance:g}; it was not written "
            "(raise `tolerance` to accept it)"
        )
    if not np.any(same_rows):
        report.notes.append("no sample had all its ids equal to Keras's, so the float outputs "
                            "were not compared")


def _signature_runner(content: bytes, needs_flex: bool):
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=content)
    if needs_flex:
        # Flex kernels are bound when tensors are allocated; neither the LiteRT
        # wheel nor TensorFlow's Python interpreter links them, so say so
        # instead of failing an export the user explicitly allowed.
        interpreter.allocate_tensors()
    return interpreter.get_signature_runner(SIGNATURE_KEY)


def _dtype(sig: ModelSignature, name: str) -> str:
    return next(info.dtype for info in sig.inputs if info.name == name)


def _agreement(expected: dict, got: dict) -> float | None:
    shares = [
        float(np.mean(np.argmax(ref, -1) == np.argmax(got[name].reshape(ref.shape), -1)))
        for name, ref in expected.items()
        if ref.ndim >= 2 and ref.shape[-1] > 1
    ]
    return min(shares) if shares else None


def _accuracy(predictions: np.ndarray, targets: Any, count: int) -> float | None:
    if isinstance(targets, dict):
        targets = next(iter(targets.values()))
    targets = np.asarray(targets)[:count]
    predictions = np.asarray(predictions)
    if predictions.ndim < 2 or len(targets) != len(predictions):
        return None
    if not np.all(np.mod(targets, 1) == 0):
        return None  # real-valued targets: a regression, which has no accuracy
    if predictions.shape[-1] > 1:
        predicted = np.argmax(predictions, -1)
        truth = np.argmax(targets, -1) if targets.shape == predictions.shape else targets
    else:  # one sigmoid unit: a binary classifier
        predicted = (predictions[..., 0] > 0.5).astype(int)
        truth = targets.reshape(predicted.shape)
    if truth.shape != predicted.shape or not np.issubdtype(truth.dtype, np.number):
        return None
    return float(np.mean(predicted == truth))


@contextlib.contextmanager
def _silenced_stderr():
    # The MLIR converter writes pages of diagnostics straight to fd 2; they
    # are repeated in the exception we turn into a one-line error.
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    with open(os.devnull, "w") as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
