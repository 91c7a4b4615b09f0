"""Generic Keras building blocks and compile recipes shared by the assignments' models.

Factories return *uncompiled* ``keras.Model`` objects unless their name says otherwise; each
``compile_*`` function is the one place its training recipe (optimizer, schedule, loss) lives.
The models of a particular assignment, and their KerasTuner search spaces, live beside its
science in ``hwkit.assignments``.
"""
from __future__ import annotations

from typing import Sequence

from hwkit import tf_runtime  # noqa: F401  (TensorFlow imported quietly, before Keras)

# isort: split
import keras
import numpy as np
from keras import layers

# ----------------------------------------------------------------------------- compile recipes

WARMUP_FRACTION = 0.1    # share of training spent warming the learning rate up (warmup_cosine)
SHIFT_FRACTION = 0.08    # random_shift_augmentation: translations of up to 8% of the image side (~2 pixels of 28)

def compile_classifier(model: keras.Model, learning_rate: float, total_steps: int | None = None,
                       warmup_fraction: float = WARMUP_FRACTION) -> keras.Model:
    """Adam + (warm-up then cosine decay to 0) + sparse cross-entropy on softmax outputs.

    A one-cycle-like schedule reaches a given accuracy in far fewer epochs than a constant
    rate, which matters on 2 CPU cores. ``total_steps=None`` keeps the rate constant.
    """
    model.compile(optimizer=keras.optimizers.Adam(warmup_cosine(learning_rate, total_steps, warmup_fraction)),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def warmup_cosine(learning_rate: float, total_steps: int | None = None, warmup_fraction: float = WARMUP_FRACTION):
    """The learning rate of ``compile_classifier``: linear warm-up to ``learning_rate``, cosine decay to 0.

    ``total_steps=None`` returns the constant rate.
    """
    if not total_steps:
        return learning_rate
    warmup = max(1, int(total_steps * warmup_fraction))
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=learning_rate / 10, decay_steps=max(1, total_steps - warmup),
        warmup_target=learning_rate, warmup_steps=warmup)


def compile_regressor(model: keras.Model, learning_rate: float, total_steps: int | None = None,
                      **compile_kwargs) -> keras.Model:
    """Adam + cosine decay to 1% of the peak over ``total_steps`` + mean squared error."""
    lr = (keras.optimizers.schedules.CosineDecay(learning_rate, total_steps, alpha=0.01)
          if total_steps else learning_rate)
    model.compile(optimizer=keras.optimizers.Adam(lr), loss="mse", **compile_kwargs)
    return model


def compile_autoencoder(model: keras.Model, learning_rate: float, total_steps: int | None = None) -> keras.Model:
    """Adam + ``warmup_cosine`` + mean L1 (mean absolute error per pixel) reconstruction loss."""
    model.compile(optimizer=keras.optimizers.Adam(warmup_cosine(learning_rate, total_steps)),
                  loss="mean_absolute_error")
    return model


# ----------------------------------------------------------------------------- blocks

def conv_bn_relu(x, filters: int, kernel_size: int = 3, name: str | None = None, dtype: str | None = None):
    """Conv (no bias: BatchNorm's shift replaces it) -> BatchNorm -> ReLU, computed in ``dtype`` (a policy name).

    BatchNorm momentum 0.9 (Keras default 0.99): the moving statistics used at evaluation time
    must settle within the ~100 steps of a one-epoch tuning trial.
    """
    x = layers.Conv2D(filters, kernel_size, padding="same", use_bias=False, name=name, dtype=dtype)(x)
    x = layers.BatchNormalization(momentum=0.9, dtype=dtype)(x)
    return layers.ReLU(dtype=dtype)(x)


def random_shift_augmentation(shift: float = SHIFT_FRACTION) -> keras.Sequential:
    """Random translations of up to ``shift`` of the image size (0.08 = ~2 pixels of 28), zero-filled.

    The one augmentation that is safe for digits (flips and rotations change their meaning).
    """
    return keras.Sequential([layers.RandomTranslation(shift, shift, fill_mode="constant")],
                            name="augment")


def dense_net(input_dim: int, widths: Sequence[int], output_dim: int = 1, activation: str = "relu",
              kernel_initializer: str = "glorot_uniform", kernel_regularizer=None, dropout: float = 0.0,
              input_scale: float = 1.0, output_activation: str | None = None,
              name: str = "dense_net") -> keras.Model:
    """A fully connected network, ``len(widths)`` hidden layers then the output layer.

    ``input_scale`` multiplies the input first (x / pi maps [-pi, pi] onto [-1, 1], where ReLU
    kinks placed by the usual initialisers can cover the whole domain). ``dropout`` is applied
    after every hidden layer; ``kernel_regularizer`` (L1 / L2) to every hidden kernel.
    """
    inputs = keras.Input((input_dim,), name="x")
    x = layers.Rescaling(input_scale)(inputs) if input_scale != 1.0 else inputs
    for i, width in enumerate(widths):
        x = layers.Dense(width, activation=activation, kernel_initializer=kernel_initializer,
                         kernel_regularizer=kernel_regularizer, name=f"hidden_{i + 1}")(x)
        if dropout:
            x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(output_dim, activation=output_activation, kernel_initializer=kernel_initializer,
                           name="output")(x)
    return keras.Model(inputs, outputs, name=name)


def dense_autoencoder(input_dim: int, latent_dim: int, hidden: Sequence[int] = (256,)) -> keras.Model:
    """Dense autoencoder: input -> hidden ReLU layers -> linear code of ``latent_dim`` -> mirror -> sigmoid.

    The code layer is linear, like PCA's projection, so the two differ only by the nonlinear
    layers around it; the sigmoid output matches pixels in [0, 1].
    """
    inputs = keras.Input((input_dim,), name="image")
    x = inputs
    for width in hidden:
        x = layers.Dense(width, activation="relu")(x)
    code = layers.Dense(latent_dim, name="code")(x)
    x = code
    for width in reversed(hidden):
        x = layers.Dense(width, activation="relu")(x)
    outputs = layers.Dense(input_dim, activation="sigmoid", name="reconstruction")(x)
    return keras.Model(inputs, outputs, name=f"autoencoder_{latent_dim}")


def chain(first: keras.Model, second: keras.Model, name: str) -> keras.Model:
    """``second(first(x))`` as one model whose parts stay separate (saved/loaded/frozen on their own).

    e.g. encoder + decoder = autoencoder; encoder + head = classifier.
    """
    inputs = keras.Input(first.input_shape[1:], name=first.inputs[0].name.split(":")[0])
    return keras.Model(inputs, second(first(inputs)), name=name)


def architecture_rows(model: keras.Model) -> list[dict]:
    """One row per layer of ``model`` (nested models expanded): type, output shape, filters/units,
    kernel, stride, activation and parameter count, read from the layers themselves for the report."""
    rows = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            rows += [{**r, "part": layer.name} for r in architecture_rows(layer)]
            continue
        if isinstance(layer, keras.layers.InputLayer):
            continue
        cfg = layer.get_config()
        activation = cfg.get("activation")
        rows.append({
            "part": model.name, "layer": layer.name, "type": type(layer).__name__,
            "output": "x".join(str(d) for d in layer.output.shape[1:]),
            "filters/units": cfg.get("filters", cfg.get("units")),
            "kernel": "x".join(map(str, cfg["kernel_size"])) if "kernel_size" in cfg else None,
            "stride": "x".join(map(str, cfg["strides"])) if "strides" in cfg else None,
            "activation": activation if activation not in (None, "linear") else None,
            "params": layer.count_params(),
        })
    return rows


# ----------------------------------------------------------------------------- dead ReLU units

def relu_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """The layers of ``model`` whose output is a plain ReLU, in order.

    Dense / Conv layers built with ``activation="relu"``, ``Activation("relu")`` layers and
    ``ReLU()`` layers without a negative slope or cap (a leaky ReLU never dies).
    """
    relu = keras.activations.relu
    found = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.ReLU):
            if not layer.negative_slope and layer.max_value is None and not layer.threshold:
                found.append(layer)
        elif getattr(layer, "activation", None) is relu:
            found.append(layer)
    return found


def dead_relu_units(model: keras.Model, x: np.ndarray) -> list[np.ndarray]:
    """For each layer of ``relu_layers(model)``: a bool array over its units (Dense) or channels (conv),
    True where the unit outputs 0 for every input of ``x`` (and, for a conv channel, at every position).

    A dead unit passes no gradient for any of these inputs, so gradient descent cannot revive it;
    a layer that is dead throughout cuts the output off from the input (a constant map).
    """
    hidden = relu_layers(model)
    if not hidden:
        return []
    probe = keras.Model(model.input, [layer.output for layer in hidden])
    outputs = probe(x, training=False)
    # A functional model with ONE output returns a tensor, not a list of one: iterating over it would
    # walk the batch instead of the layers.
    outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    return [np.all(np.asarray(out).reshape(-1, out.shape[-1]) <= 0.0, axis=0) for out in outputs]
