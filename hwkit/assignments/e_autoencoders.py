"""Assignment E: the convolutional autoencoder, classifier head and data split shared by E1-E5.

One small convolutional trunk shared by the autoencoder (E1), the classifier (E2-E5) and the
classifier-decoding decoder (E3): three 3x3 stride-2 convolutions 28 -> 14 -> 7 -> 4 with ReLU.
Strided convolutions downsample with learned filters (no pooling layer to undo in the decoder);
16/32/32 filters are plenty for MNIST strokes and keep a full epoch to seconds on 2 CPU cores.
"""
from __future__ import annotations

from hwkit import tf_runtime  # noqa: F401  (quiet TensorFlow import before Keras)

import time

import keras
import numpy as np
from keras import layers

from hwkit import data, models, training

E_FILTERS = (16, 32, 32)
E_LATENT_DIM = 12
VALIDATION_FRACTION = 1 / 12     # 5 000 of the 60 000 training images are the validation split
QUICK_ROWS = dict(train=2_000, test=500)   # rows kept by a quick (smoke) run

# The autoencoder recipe (E1, and E3's classifier-decoding decoder): Adam with a warm-up + cosine schedule.
AUTOENCODER_BATCH_SIZE = 128
AUTOENCODER_EPOCHS = 12          # unsupervised reconstruction converges slower than E2's classifier
AUTOENCODER_LEARNING_RATE = 2e-3 # peak of the warm-up + cosine schedule


def load_split(data_dir=None, quick: bool = False, seed: int = 0) -> tuple:
    """MNIST as floats in [0, 1]: (x_fit, y_fit), (x_val, y_val), (x_test, y_test); tiny in quick mode."""
    (x_train, y_train), (x_test, y_test) = data.load_mnist(data_dir)
    if quick:
        x_train, y_train = data.subset(x_train, y_train, QUICK_ROWS["train"], seed=seed)
        x_test, y_test = data.subset(x_test, y_test, QUICK_ROWS["test"], seed=seed)
    x_train, x_test = data.to_float(x_train), data.to_float(x_test)
    fit, val = data.validation_split(x_train, y_train, VALIDATION_FRACTION, seed=seed)
    return fit, val, (x_test, y_test)


def train_autoencoder(model: keras.Model, x_fit: np.ndarray, x_val: np.ndarray, epochs: int, seed: int,
                      callbacks: list | None = None) -> tuple[dict, float]:
    """The autoencoder recipe: compile with mean L1 and fit images onto themselves.

    Returns (Keras history dict, training seconds).
    """
    steps = -(-len(x_fit) // AUTOENCODER_BATCH_SIZE)
    models.compile_autoencoder(model, AUTOENCODER_LEARNING_RATE, total_steps=steps * epochs)
    started = time.perf_counter()
    history = model.fit(training.dataset(x_fit, x_fit, AUTOENCODER_BATCH_SIZE, shuffle=True, seed=seed),
                        validation_data=(x_val, x_val), epochs=epochs, verbose=2, callbacks=callbacks or [])
    return history.history, time.perf_counter() - started


def per_class_examples(y: np.ndarray, per_class: int) -> np.ndarray:
    """Indices of the first ``per_class`` examples of each digit, ordered digit by digit."""
    return np.concatenate([np.flatnonzero(y == c)[:per_class] for c in range(10)])


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
    outputs = layers.Conv2DTranspose(1, 3, strides=2, padding="same", activation="sigmoid", name="pixels")(x)
    return keras.Model(inputs, outputs, name=name)


def mlp_head(latent_dim: int = E_LATENT_DIM, hidden: int = 64, classes: int = 10,
             name: str = "classifier_head") -> keras.Model:
    """E2: the small two-layer MLP that maps a latent vector to class probabilities."""
    inputs = keras.Input((latent_dim,), name="latent")
    x = layers.Dense(hidden, activation="relu")(inputs)
    outputs = layers.Dense(classes, activation="softmax", name="class_probabilities")(x)
    return keras.Model(inputs, outputs, name=name)
