"""Getting a built model ready to fit: transfer weights, adapt normalisation, class weights."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

from compiler.errors import Problem, SpecError, did_you_mean


def adapt_normalization(model: keras.Model, train_inputs) -> list[str]:
    """Adapt every not-yet-adapted ``Normalization`` layer on the training inputs.

    A layer deep in the graph sees what the layers before it produce, so its
    input is computed with a sub-model. Only the training split is used:
    statistics from validation or test data would leak them into training.

    Returns:
        The names of the adapted layers.
    """
    adapted = []
    for layer in model.layers:  # functional models list layers in graph order
        if not isinstance(layer, keras.layers.Normalization) or _has_fixed_stats(layer):
            continue
        feeder = keras.Model(model.inputs, layer.input)
        values = feeder.predict(train_inputs, verbose=0, batch_size=1024)
        layer.adapt(values)
        adapted.append(layer.name)
    return adapted


def _has_fixed_stats(layer: keras.layers.Normalization) -> bool:
    # Mean and variance given in the spec must not be overwritten.
    return getattr(layer, "input_mean", None) is not None


def balanced_class_weights(labels: np.ndarray, num_classes: int) -> dict[int, float]:
    """Return ``n / (num_classes · count_c)`` per class (scikit-learn's 'balanced')."""
    labels = np.asarray(labels).reshape(-1).astype(int)
    counts = np.bincount(labels, minlength=num_classes)
    n = labels.size
    return {c: float(n / (num_classes * counts[c])) if counts[c] else 0.0
            for c in range(num_classes)}


def resolve_model_path(path: str, base_dir: Path | None) -> Path:
    """Resolve `init_from.model`: the working folder first, then the spec's folder."""
    candidate = Path(path)
    if candidate.is_absolute() or candidate.exists() or base_dir is None:
        return candidate
    return Path(base_dir) / candidate


def init_from(model: keras.Model, init, base_dir: Path | None, locate) -> list[str]:
    """Copy weights layer by layer, by name, from another trained model.

    Args:
        model: The freshly built model.
        init: The validated `training.init_from` value.
        base_dir: The spec's folder (a fallback for relative paths).
        locate: ``spec.locate`` (to place errors).

    Returns:
        The names of the layers whose weights were copied.
    """
    from compiler.model_folder import load_model_file

    source = load_model_file(
        resolve_model_path(init.model, base_dir), locate("training", "init_from", "model")
    )
    theirs = {layer.name: layer for layer in source.layers if layer.weights}
    ours = {layer.name: layer for layer in model.layers}
    names = init.layers if init.layers is not None else [n for n in ours if n in theirs]
    if not names:
        mine = [name for name, layer in ours.items() if layer.weights]
        raise SpecError(
            f"no layer of this model has a namesake with weights in '{init.model}', so nothing "
            f"would be copied; its layers with weights are: {', '.join(theirs) or 'none'} "
            f"(this model's: {', '.join(mine) or 'none'}). Name the layers alike, or list "
            "them in `init_from.layers`",
            locate("training", "init_from", "model"),
        )
    problems = []
    for i, name in enumerate(names):
        where = locate("training", "init_from", "layers", i)
        if name not in ours:
            problems.append((f"the model has no layer '{name}'{did_you_mean(name, ours)}", where))
        elif name not in theirs:
            problems.append(
                (f"'{init.model}' has no layer '{name}' with weights"
                 f"{did_you_mean(name, theirs)}", where)
            )
        else:
            mine = [tuple(w.shape) for w in ours[name].weights]
            other = [tuple(w.shape) for w in theirs[name].weights]
            if mine != other:
                problems.append(
                    (f"layer '{name}' has weight shapes {mine} but '{init.model}' has {other}",
                     where)
                )
    if problems:
        from compiler.errors import Problem

        raise SpecError([Problem(msg, where) for msg, where in problems])
    for name in names:
        ours[name].set_weights(theirs[name].get_weights())
    return list(names)


# ------------------------------------------------------------ loss, metrics and data

REGRESSION_LOSSES = ("mse", "mae", "huber")
# Losses whose targets have their own layout, built to fit the output (the YOLO grid).
OWN_TARGET_LOSSES = ("yolo",)
CLASS_METRICS = ("accuracy", "precision", "recall", "f1", "auc", "top_k")


def _loss_of(spec, name: str):
    """(loss choice, spec path of the loss) of model output `name`."""
    loss = spec.training.loss
    if isinstance(loss, dict):
        return loss.get(name), ("training", "loss", name)
    return loss, ("training", "loss")


def _per_output_targets(bundle, names: list[str]) -> dict:
    targets = bundle.arrays["train"][1]
    if isinstance(targets, dict):
        return targets
    return {names[0]: targets}


def _fits(got: tuple, wanted: tuple) -> bool:
    """Whether per-example shapes agree (None matches any size; a trailing 1 is ignored)."""

    def same(a, b):
        return len(a) == len(b) and all(x is None or y is None or x == y
                                        for x, y in zip(a, b, strict=True))

    return same(got, wanted) or same(got + (1,), wanted) or same(got, wanted + (1,))


def check_targets_fit_outputs(spec, bundle, model) -> None:
    """Check each output's targets against the output's shape and its loss.

    ``sparse_categorical_crossentropy`` takes one class index where the output
    gives one score per class; every other loss compares targets with outputs
    value by value. Keras would otherwise broadcast a (batch,) target against
    a (batch, 3) output without a word (``mse``), or fail deep inside the
    first batch (``categorical_crossentropy``).

    Raises:
        SpecError: located at the output's loss, with the loss that fits the data.
    """
    names = list(model.output_names)
    targets = _per_output_targets(bundle, names)
    problems = []
    for name, tensor in zip(names, model.outputs, strict=True):
        if name not in targets:
            continue
        choice, path = _loss_of(spec, name)
        loss = choice.name if choice is not None else None
        if loss is None or loss in OWN_TARGET_LOSSES:
            continue
        out = tuple(None if d is None else int(d) for d in tensor.shape[1:])
        got = tuple(int(d) for d in np.asarray(targets[name]).shape[1:])
        sparse = loss == "sparse_categorical_crossentropy"
        wanted = out[:-1] if sparse and out else out
        if _fits(got, wanted):
            continue
        values = np.asarray(targets[name])
        whole = values.dtype.kind in "iub" or (
            values.size and values.dtype.kind == "f" and np.all(values == np.round(values))
        )
        if not sparse and out and _fits(got, out[:-1]) and whole and (out[-1] or 0) > 1:
            hint = ("; the targets are class indices: use sparse_categorical_crossentropy "
                    "(or one-hot targets)")
        elif sparse and _fits(got, out):
            hint = "; the targets look one-hot: use categorical_crossentropy"
        else:
            hint = "; change the output layer or the data so that they agree"
        source = bundle.target_where.get(name)
        source = f" ({source.prefix()})" if source is not None and source.file else ""
        shown_wanted = f"{wanted}" if not sparse else f"{wanted} (one class index per {out})"
        problems.append(Problem(
            f"output '{name}' gives shape {out} per example, so {loss} needs targets of shape "
            f"{shown_wanted}, but its targets{source} have shape {got}{hint}",
            spec.locate(*path),
        ))
    if problems:
        raise SpecError(problems)


def check_metrics_fit(spec, bundle, model) -> None:
    """Refuse metrics that cannot mean anything for an output.

    A classification metric (accuracy, precision, ...) on an output trained
    with a regression loss on continuous targets is always 0 or meaningless;
    ``top_k`` with k at or above the number of classes is always 1.

    Raises:
        SpecError: located at the metric, suggesting one that fits.
    """
    metrics = spec.training.metrics
    names = list(model.output_names)
    targets = _per_output_targets(bundle, names)
    units = {
        name: int(t.shape[-1]) if len(t.shape) > 1 and t.shape[-1] else 1
        for name, t in zip(names, model.outputs, strict=True)
    }
    per_output = (
        {name: (metrics.get(name) or [], ("training", "metrics", name)) for name in names}
        if isinstance(metrics, dict)
        else {name: (metrics, ("training", "metrics")) for name in names}
    )
    problems = []
    for name, (choices, path) in per_output.items():
        choice, _ = _loss_of(spec, name)
        loss = choice.name if choice is not None else None
        values = np.asarray(targets.get(name, np.zeros(0)))
        continuous = (
            values.size > 0 and values.dtype.kind == "f" and not np.isin(values, (0.0, 1.0)).all()
        )
        for index, metric in enumerate(choices):
            where = spec.locate(*path, index)
            if metric.name in CLASS_METRICS and loss in REGRESSION_LOSSES and continuous:
                first = float(values[~np.isin(values, (0.0, 1.0))].flat[0])
                problems.append(Problem(
                    f"'{metric.name}' measures classification, but output '{name}' is trained "
                    f"with {loss} on continuous targets (for example {first:g}); use mae, mse "
                    "or rmse",
                    where,
                ))
            elif metric.name == "top_k" and metric.params.k >= units[name]:
                classes = f"{units[name]} classes" if units[name] > 1 else "a single unit"
                problems.append(Problem(
                    f"top_k with k={metric.params.k} on output '{name}' of {classes} is always 1; "
                    + (f"choose k below {units[name]}" if units[name] > 2 else "use accuracy"),
                    where,
                ))
    if problems:
        raise SpecError(problems)


def check_embedding_ids(spec, bundle) -> None:
    """Token ids fed straight into an embedding must lie in [0, input_dim).

    Keras would fail inside the first batch ("indices[0,1] = 28 is not in
    [0, 20)"); here the embedding's `input_dim` is named with the id it needs.

    Raises:
        SpecError: located at the embedding's `input_dim`.
    """
    inputs = bundle.arrays["train"][0]
    names = list(spec.inputs)
    arrays = inputs if isinstance(inputs, dict) else {names[0]: inputs} if names else {}
    problems = []
    for entry, layer in spec.entries:
        if entry.type != "embedding" or len(entry.inputs) != 1 or entry.inputs[0] not in arrays:
            continue
        values = np.asarray(arrays[entry.inputs[0]])
        if values.size == 0 or values.dtype.kind not in "iuf":
            continue
        low, top = int(np.min(values)), int(np.max(values))
        if low >= 0 and top < layer.input_dim:
            continue
        mark, display = entry.where("input_dim")
        loc = mark.location(display) if mark else None
        if low < 0:
            message = (f"the training data of input '{entry.inputs[0]}' hold the token id {low}; "
                       "an embedding takes ids from 0 up")
        else:
            message = (f"input_dim {layer.input_dim} is too small for input '{entry.inputs[0]}': "
                       f"its training data hold token ids up to {top}; set input_dim to at "
                       f"least {top + 1}")
        problems.append(Problem(message, loc) if loc else Problem(f"{display}: {message}"))
    if problems:
        raise SpecError(problems)
