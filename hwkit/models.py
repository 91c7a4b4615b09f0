"""Keras model factories, named after what they build, with their KerasTuner search spaces beside them.

Factories return *uncompiled* ``keras.Model`` objects unless their name says otherwise;
``compile_classifier`` is the one place the classification recipe (optimizer, schedule,
loss) lives. Sections follow the assignments.
"""
from __future__ import annotations

from typing import Sequence

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
    lr = learning_rate
    if total_steps:
        warmup = max(1, int(total_steps * warmup_fraction))
        lr = keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=learning_rate / 10, decay_steps=max(1, total_steps - warmup),
            warmup_target=learning_rate, warmup_steps=warmup)
    model.compile(optimizer=keras.optimizers.Adam(lr), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def conv_bn_relu(x, filters: int, kernel_size: int = 3, name: str | None = None):
    """Conv (no bias: BatchNorm's shift replaces it) -> BatchNorm -> ReLU."""
    x = layers.Conv2D(filters, kernel_size, padding="same", use_bias=False, name=name)(x)
    x = layers.BatchNormalization()(x)
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
    x = layers.BatchNormalization()(x)
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


def dense_net(input_dim: int, widths: Sequence[int], output_dim: int = 1, activation: str = "relu",
              kernel_initializer: str = "glorot_uniform", kernel_regularizer=None, dropout: float = 0.0,
              input_scale: float = 1.0, output_activation: str | None = None,
              name: str = "dense_net") -> keras.Model:
    """B2–B4, B6–B8: a fully connected network, ``len(widths)`` hidden layers then the output layer.

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


def compile_regressor(model: keras.Model, learning_rate: float, total_steps: int | None = None,
                      **compile_kwargs) -> keras.Model:
    """Adam + cosine decay to 1% of the peak over ``total_steps`` + mean squared error."""
    lr = (keras.optimizers.schedules.CosineDecay(learning_rate, total_steps, alpha=0.01)
          if total_steps else learning_rate)
    model.compile(optimizer=keras.optimizers.Adam(lr), loss="mse", **compile_kwargs)
    return model


def dense_autoencoder(input_dim: int, latent_dim: int, hidden: Sequence[int] = (256,)) -> keras.Model:
    """B5: dense autoencoder input -> hidden ReLU layers -> linear code of ``latent_dim`` -> mirror -> sigmoid.

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


# ----------------------------------------------------------------------------- Assignment A


# ----------------------------------------------------------------------------- Assignment C


# ----------------------------------------------------------------------------- Assignment D


# ----------------------------------------------------------------------------- Assignment E
