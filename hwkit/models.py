"""Keras model factories, named after what they build, with their KerasTuner search spaces beside them.

Factories return *uncompiled* ``keras.Model`` objects unless their name says otherwise;
``compile_classifier`` is the one place the classification recipe (optimizer, schedule,
loss) lives. Sections follow the assignments.
"""
from __future__ import annotations

import keras
import keras_tuner as kt
from keras import layers


# ----------------------------------------------------------------------------- shared recipe

def compile_classifier(model: keras.Model, learning_rate: float, total_steps: int | None = None,
                       warmup_fraction: float = 0.1) -> keras.Model:
    """Adam + (warm-up then cosine decay to 0) + sparse cross-entropy on softmax outputs.

    A one-cycle-like schedule reaches a given accuracy in far fewer epochs than a constant
    rate, which matters on 2 CPU cores. ``total_steps=None`` keeps the rate constant.
    """
    model.compile(optimizer=keras.optimizers.Adam(warmup_cosine(learning_rate, total_steps, warmup_fraction)),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def warmup_cosine(learning_rate: float, total_steps: int | None = None, warmup_fraction: float = 0.1):
    """The learning rate of ``compile_classifier``: linear warm-up to ``learning_rate``, cosine decay to 0.

    ``total_steps=None`` returns the constant rate.
    """
    if not total_steps:
        return learning_rate
    warmup = max(1, int(total_steps * warmup_fraction))
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=learning_rate / 10, decay_steps=max(1, total_steps - warmup),
        warmup_target=learning_rate, warmup_steps=warmup)


def conv_bn_relu(x, filters: int, kernel_size: int = 3, name: str | None = None):
    """Conv (no bias: BatchNorm's shift replaces it) -> BatchNorm -> ReLU.

    BatchNorm momentum 0.9 (Keras default 0.99): the moving statistics used at evaluation time
    must settle within the ~100 steps of a one-epoch tuning trial.
    """
    x = layers.Conv2D(filters, kernel_size, padding="same", use_bias=False, name=name)(x)
    x = layers.BatchNormalization(momentum=0.9)(x)
    return layers.ReLU()(x)


# ----------------------------------------------------------------------------- Assignment B

def mnist_cnn(filters: int = 32, dense_units: int = 128, dropout: float = 0.25) -> keras.Model:
    """B1: two conv-BN-ReLU blocks of (filters, 2*filters), each 2 convs + 2x2 max-pool, then dense.

    ~0.1-0.3 M parameters: small enough for 2 CPU cores, enough for >99.5% on MNIST.
    """
    inputs = keras.Input((28, 28, 1), name="image")
    x = inputs
    for width in (filters, 2 * filters):
        x = conv_bn_relu(x, width)
        x = conv_bn_relu(x, width)
        x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(dense_units, use_bias=False)(x)
    x = layers.BatchNormalization(momentum=0.9)(x)
    x = layers.ReLU()(x)
    x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(10, activation="softmax", name="class_probabilities")(x)
    return keras.Model(inputs, outputs, name="mnist_cnn")


class MnistCnnHyperModel(kt.HyperModel):
    """B1 search space: width, head size, dropout and peak learning rate of ``mnist_cnn``."""

    def __init__(self, steps_per_epoch: int, epochs: int):
        super().__init__(name="mnist_cnn")
        self.total_steps = steps_per_epoch * epochs

    def build(self, hp: kt.HyperParameters) -> keras.Model:
        model = mnist_cnn(filters=hp.Choice("filters", [16, 32]),
                          dense_units=hp.Choice("dense_units", [64, 128]),
                          dropout=hp.Float("dropout", 0.0, 0.4, step=0.2))
        return compile_classifier(model, hp.Choice("learning_rate", [1e-3, 3e-3, 1e-2]), self.total_steps)


def mnist_augmentation(shift: float = 0.08) -> keras.Sequential:
    """Random shifts of up to ~2 pixels: the one augmentation that is safe for digits."""
    return keras.Sequential([layers.RandomTranslation(shift, shift, fill_mode="constant")],
                            name="augment")


# ----------------------------------------------------------------------------- Assignment A


# ----------------------------------------------------------------------------- Assignment C


# ----------------------------------------------------------------------------- Assignment D


# ----------------------------------------------------------------------------- Assignment E
# One small convolutional trunk shared by the autoencoder (E1), the classifier (E2-E5) and the
# classifier-decoding decoder (E3): three 3x3 stride-2 convolutions 28 -> 14 -> 7 -> 4 with ReLU.
# Strided convolutions downsample with learned filters (no pooling layer to undo in the decoder);
# 16/32/32 filters are plenty for MNIST strokes and keep a full epoch to seconds on 2 CPU cores.

E_FILTERS = (16, 32, 32)
E_LATENT_DIM = 12


def conv_encoder(latent_dim: int = E_LATENT_DIM, filters: tuple = E_FILTERS, fc: bool = True,
                 name: str = "encoder") -> keras.Model:
    """E1/E2 encoder: image (28, 28, 1) -> latent vector (latent_dim,).

    ``fc=True``: flatten the 4x4 coarsest map and reach ``latent_dim`` through one linear Dense layer.
    ``fc=False``: stay convolutional: one more stride-2 conv to a 2x2 map of ``latent_dim / 4``
    channels, flattened (same d, no fully-connected layer) - the comparison E1 asks for.
    The latent layer is linear: the code may use any real value.
    """
    inputs = keras.Input((28, 28, 1), name="image")
    x = inputs
    for width in filters:
        x = layers.Conv2D(width, 3, strides=2, padding="same", activation="relu")(x)
    if fc:
        x = layers.Flatten()(x)
        z = layers.Dense(latent_dim, name="latent")(x)
    else:
        if latent_dim % 4:
            raise ValueError("without the FC layer the latent is a 2x2 map: latent_dim must be a multiple of 4")
        x = layers.Conv2D(latent_dim // 4, 3, strides=2, padding="same", name="latent_map")(x)
        z = layers.Flatten(name="latent")(x)
    return keras.Model(inputs, z, name=name)


def conv_decoder(latent_dim: int = E_LATENT_DIM, filters: tuple = E_FILTERS, fc: bool = True,
                 name: str = "decoder") -> keras.Model:
    """Mirror of ``conv_encoder``: latent (latent_dim,) -> image (28, 28, 1) in [0, 1].

    Transposed stride-2 convolutions 4 -> 7 -> 14 -> 28 (``output_padding=0`` gives 7 from 4);
    a sigmoid output matches the pixel range.
    """
    inputs = keras.Input((latent_dim,), name="latent")
    if fc:
        x = layers.Dense(4 * 4 * filters[-1], activation="relu")(inputs)
        x = layers.Reshape((4, 4, filters[-1]))(x)
    else:
        x = layers.Reshape((2, 2, latent_dim // 4))(inputs)
        x = layers.Conv2DTranspose(filters[-1], 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Conv2DTranspose(filters[-2], 3, strides=2, padding="same", output_padding=0, activation="relu")(x)
    x = layers.Conv2DTranspose(filters[-3], 3, strides=2, padding="same", activation="relu")(x)
    outputs = layers.Conv2DTranspose(1, 3, strides=2, padding="same", name="pixels")(x)
    return keras.Model(inputs, outputs, name=name)


def mlp_head(latent_dim: int = E_LATENT_DIM, hidden: int = 64, classes: int = 10,
             name: str = "classifier_head") -> keras.Model:
    """E2: the small two-layer MLP that maps a latent vector to class probabilities."""
    inputs = keras.Input((latent_dim,), name="latent")
    x = layers.Dense(hidden, activation="relu")(inputs)
    outputs = layers.Dense(classes, activation="softmax", name="class_probabilities")(x)
    return keras.Model(inputs, outputs, name=name)


def chain(first: keras.Model, second: keras.Model, name: str) -> keras.Model:
    """``second(first(x))`` as one model whose parts stay separate (saved/loaded/frozen on their own).

    encoder + decoder = autoencoder; encoder + mlp_head = classifier.
    """
    inputs = keras.Input(first.input_shape[1:], name=first.inputs[0].name.split(":")[0])
    return keras.Model(inputs, second(first(inputs)), name=name)


def compile_autoencoder(model: keras.Model, learning_rate: float, total_steps: int | None = None) -> keras.Model:
    """Adam + ``warmup_cosine`` + mean L1 (mean absolute error per pixel) reconstruction loss."""
    model.compile(optimizer=keras.optimizers.Adam(warmup_cosine(learning_rate, total_steps)),
                  loss="mean_absolute_error")
    return model


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
