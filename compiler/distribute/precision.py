"""Mixed precision: 16-bit compute with float32 weights, outputs and losses.

``training.precision`` sets Keras's global dtype policy before the model is
built. The layers that produce the model's outputs are rebuilt with the
float32 policy, so that a softmax or sigmoid never saturates in 16 bits and
what an application reads is float32; the losses compute in float32 anyway
(a Keras loss casts its inputs to its own float32 dtype). ``model.compile``
wraps the optimiser in a ``LossScaleOptimizer`` under ``mixed_float16``,
whose range needs it; bfloat16 has float32's range and needs no scaling.
"""

from __future__ import annotations

FLOAT32 = "float32"


def set_precision(policy: str) -> None:
    """Make `policy` the global dtype policy of the layers built from now on."""
    import keras

    keras.config.set_dtype_policy(policy)


def output_layers(model) -> list:
    """The layers whose outputs are the model's outputs, in output order, each once."""
    layers = []
    for tensor in model.outputs:
        layer = tensor._keras_history.operation
        if layer not in layers:
            layers.append(layer)
    return layers


def outputs_in_float32(model):
    """`model` with its output layers computing in float32 (the same model under float32).

    The functional graph is rebuilt from its config with the output layers'
    policy changed, and the weights are copied over, so the symbolic output
    dtypes (and the saved file) say float32 too.
    """
    import keras

    if model.dtype_policy.name == FLOAT32:
        return model
    names = {layer.name for layer in output_layers(model) if layer.dtype_policy.name != FLOAT32}
    if not names:
        return model
    config = model.get_config()
    float32 = keras.dtype_policies.serialize(keras.DTypePolicy(FLOAT32))
    for layer in config["layers"]:
        if layer["config"].get("name") in names:
            layer["config"]["dtype"] = float32
    rebuilt = model.__class__.from_config(config)
    rebuilt.set_weights(model.get_weights())
    return rebuilt


def describe(policy: str, model) -> str:
    """One line for the console."""
    if policy == FLOAT32:
        return "precision float32"
    compute = "float16" if policy == "mixed_float16" else "bfloat16"
    names = ", ".join(layer.name for layer in output_layers(model))
    scaling = "; dynamic loss scaling" if policy == "mixed_float16" else ""
    return (f"precision {policy}: layers compute in {compute} with float32 weights; "
            f"output layer(s) {names} and the losses in float32{scaling}")
