"""Getting a built model ready to fit: transfer weights, adapt normalisation, class weights."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

from compiler.errors import ModelFileError, SpecError, did_you_mean


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
    return {c: float(n / (num_classes * counts[c])) if counts[c] else 0.0 for c in range(num_classes)}


def resolve_model_path(path: str, base_dir: Path | None) -> Path:
    """Resolve `init_from.model`: the working folder first, then the spec's folder."""
    candidate = Path(path)
    if candidate.is_absolute() or candidate.exists() or base_dir is None:
        return candidate
    return Path(base_dir) / candidate


def load_keras_model(path: str | Path, location=None) -> keras.Model:
    """Load a `.keras` file, turning every failure into a :class:`ModelFileError`."""
    import custom_layers  # noqa: F401 - registers the project's layers for loading

    from compiler.training import losses, metrics, schedules  # noqa: F401 - same, for training objects

    path = Path(path)
    if path.is_dir():
        path = path / "model.keras"
    if not path.is_file():
        raise ModelFileError(f"model file '{path}' does not exist", location)
    if path.suffix != ".keras":
        raise ModelFileError(
            f"model file '{path}' is not a .keras file (train writes saved_models/<name>/model.keras)",
            location,
        )
    from compiler.graph import allow_deep_model_file

    allow_deep_model_file(path)  # Keras rebuilds the graph recursively
    try:
        return keras.models.load_model(path, compile=True)
    except Exception as err:  # noqa: BLE001 - any failure here means a bad file
        detail = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ModelFileError(
            f"cannot load model file '{path}': it is truncated, corrupt or not a Keras model "
            f"({detail[:200]})",
            location,
        ) from err


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
    source = load_keras_model(
        resolve_model_path(init.model, base_dir), locate("training", "init_from", "model")
    )
    theirs = {layer.name: layer for layer in source.layers if layer.weights}
    ours = {layer.name: layer for layer in model.layers}
    names = init.layers if init.layers is not None else [n for n in ours if n in theirs]
    problems = []
    for i, name in enumerate(names):
        where = locate("training", "init_from", "layers", i)
        if name not in ours:
            problems.append((f"the model has no layer '{name}'{did_you_mean(name, ours)}", where))
        elif name not in theirs:
            problems.append(
                (f"'{init.model}' has no layer '{name}' with weights{did_you_mean(name, theirs)}", where)
            )
        else:
            mine = [tuple(w.shape) for w in ours[name].weights]
            other = [tuple(w.shape) for w in theirs[name].weights]
            if mine != other:
                problems.append(
                    (f"layer '{name}' has weight shapes {mine} but '{init.model}' has {other}", where)
                )
    if problems:
        from compiler.errors import Problem

        raise SpecError([Problem(msg, where) for msg, where in problems])
    for name in names:
        ours[name].set_weights(theirs[name].get_weights())
    return list(names)
