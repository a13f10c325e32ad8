"""Small hand-built Keras models the export tests share (one of each layer family)."""

from __future__ import annotations


def make_model(kind: str):
    """A tiny model ending in a softmax layer named `out`, with input `seq` (12, 5)."""
    import keras

    inp = keras.Input((12, 5), name="seq")
    if kind == "mlp":
        x = keras.layers.Dense(8, activation="relu")(keras.layers.Flatten()(inp))
    elif kind == "cnn":
        x = keras.layers.Reshape((12, 5, 1))(inp)
        x = keras.layers.Conv2D(4, 3, activation="relu")(x)
        x = keras.layers.Flatten()(keras.layers.MaxPooling2D()(x))
    elif kind == "lstm":
        x = keras.layers.LSTM(8, name="my_lstm")(inp)
    elif kind == "gru":
        x = keras.layers.GRU(8)(inp)
    elif kind == "simple_rnn":
        x = keras.layers.SimpleRNN(8)(inp)
    elif kind == "bidirectional":
        x = keras.layers.Bidirectional(keras.layers.LSTM(6, return_sequences=True))(inp)
        x = keras.layers.GRU(4)(x)
    elif kind == "minimal_gru":
        from custom_layers import MinimalGRU

        x = MinimalGRU(8)(inp)
    elif kind == "attention":  # Keras's attention layers, as a Transformer encoder uses them
        x = keras.layers.MultiHeadAttention(2, 4)(inp, inp)
        x = keras.layers.LayerNormalization()(keras.layers.Add()([inp, x]))
        x = keras.layers.Attention(use_scale=True)([x, inp])
        x = keras.layers.Conv1DTranspose(4, 3, strides=2)(x)
        x = keras.layers.GroupNormalization(2)(keras.layers.Cropping1D((1, 2))(x))
        x = keras.layers.GlobalAveragePooling1D()(x)
    else:
        raise ValueError(kind)
    return keras.Model(inp, keras.layers.Dense(3, activation="softmax", name="out")(x))


def make_two_headed():
    """Two inputs (float `left`, int `tokens`) and two outputs (`score`, `prob`)."""
    import keras

    left = keras.Input((4,), name="left")
    tokens = keras.Input((6,), dtype="int32", name="tokens")
    t = keras.layers.GlobalAveragePooling1D()(keras.layers.Embedding(20, 3)(tokens))
    x = keras.layers.Concatenate()([left, t])
    score = keras.layers.Dense(2, name="score")(x)
    prob = keras.layers.Dense(1, activation="sigmoid", name="prob")(x)
    return keras.Model([left, tokens], [score, prob])
