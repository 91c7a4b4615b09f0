"""Assignment E: the convolutional autoencoder, classifier head and data split shared by E1-E5.

One small convolutional trunk shared by the autoencoder (E1), the classifier (E2-E5) and the
classifier-decoding decoder (E3): three 3x3 stride-2 convolutions 28 -> 14 -> 7 -> 4 with ReLU.
Strided convolutions downsample with learned filters (no pooling layer to undo in the decoder);
16/32/32 filters are plenty for MNIST strokes and keep a full epoch to seconds on 2 CPU cores.
"""
from __future__ import annotations

from hwkit import tf_runtime  # noqa: F401  (quiet TensorFlow import before Keras)

# isort: split

import dataclasses

import keras
import numpy as np
from keras import layers

from hwkit import data, models, training

E_FILTERS = (16, 32, 32)
E_LATENT_DIM = 12
IMAGE_SHAPE = (28, 28, 1)
# (input, output) shapes of a saved encoder (E1, E2) and decoder (E1): what E3 and E5 build on, checked when loaded.
ENCODER_SHAPES = (IMAGE_SHAPE, (E_LATENT_DIM,))
DECODER_SHAPES = ((E_LATENT_DIM,), IMAGE_SHAPE)
VALIDATION_FRACTION = 1 / 12     # 5 000 of the 60 000 training images are the validation split


@dataclasses.dataclass(frozen=True)
class AutoencoderRecipe:
    """The autoencoder recipe (E1, and E3's classifier-decoding decoder): Adam with a warm-up + cosine schedule."""

    epochs: int = 12                  # unsupervised reconstruction converges slower than E2's classifier
    batch_size: int = 128
    learning_rate: float = 2e-3       # peak of the warm-up + cosine schedule
    train_rows: int | None = None     # None: all 60 000 training images (55 000 fit + 5 000 validation)
    test_rows: int | None = None


AUTOENCODER = AutoencoderRecipe()
AUTOENCODER_QUICK = dataclasses.replace(AUTOENCODER, epochs=1, train_rows=2_000, test_rows=500)


def load_split(data_dir=None, train_rows: int | None = None, test_rows: int | None = None, seed: int = 0) -> tuple:
    """MNIST as floats in [0, 1]: (x_fit, y_fit), (x_val, y_val), (x_test, y_test); seeded subsets when rows
    are given."""
    (x_train, y_train), (x_test, y_test) = data.load_mnist(data_dir)
    x_train, y_train = data.subset(x_train, y_train, train_rows, seed=seed)
    x_test, y_test = data.subset(x_test, y_test, test_rows, seed=seed)
    x_train, x_test = data.to_float(x_train), data.to_float(x_test)
    fit, val = data.validation_split(x_train, y_train, VALIDATION_FRACTION, seed=seed)
    return fit, val, (x_test, y_test)


def train_autoencoder(model: keras.Model, x_fit: np.ndarray, x_val: np.ndarray, recipe: AutoencoderRecipe, seed: int,
                      callbacks: list | None = None) -> tuple[dict, float]:
    """The autoencoder recipe: compile with mean L1 and fit images onto themselves.

    Returns (Keras history dict, training seconds from ``WallClock``, which is added when absent).
    """
    steps = -(-len(x_fit) // recipe.batch_size)
    models.compile_autoencoder(model, recipe.learning_rate, total_steps=steps * recipe.epochs)
    callbacks = list(callbacks or [])
    if not any(isinstance(c, training.WallClock) for c in callbacks):
        callbacks.insert(0, training.WallClock())
    history = training.fit(model, training.dataset(x_fit, x_fit, recipe.batch_size, shuffle=True, seed=seed),
                           validation_data=(x_val, x_val), epochs=recipe.epochs, verbose=2, callbacks=callbacks)
    return history.history, float(history.history["time_s"][-1])


def compare_variants(results: dict[str, dict], val_l1_with_fc: list[float]) -> dict:
    """E1's answer from the numbers: does the FC bottleneck help, and by how much.

    ``results`` maps ``with_FC`` / ``no_FC`` to their ``val_l1`` and ``test_l1``; the better variant
    is chosen on the validation split (never the test set); the test difference is reported as
    ``no_FC - with_FC`` (positive: the FC layer reconstructs better). ``val_l1_with_fc`` is the FC
    variant's validation curve, for how much the last epoch still improved it.
    """
    better = min(results, key=lambda n: results[n]["val_l1"])
    gain = results["no_FC"]["test_l1"] - results["with_FC"]["test_l1"]
    return {"better_on_validation": better, "fc_helps_on_validation": better == "with_FC",
            "fc_gain_test_l1": gain, "test_l1_favours": "the FC layer" if gain > 0 else "no FC layer",
            "last_epoch_val_l1_change_with_FC": (float(val_l1_with_fc[-2] - val_l1_with_fc[-1])
                                                 if len(val_l1_with_fc) > 1 else None)}


def coarsest_map(filters: tuple = E_FILTERS, side: int = 28) -> tuple[int, int, int]:
    """Shape of ``conv_encoder``'s last feature map: each stride-2 "same" convolution halves the side, rounding up."""
    for _ in filters:
        side = -(-side // 2)
    return side, side, filters[-1]


def no_fc_map(latent_dim: int = E_LATENT_DIM) -> tuple[int, int, int]:
    """Shape of the latent map of the encoder without an FC layer (one more stride-2 convolution)."""
    side = -(-coarsest_map()[0] // 2)
    return side, side, latent_dim // (side * side)


# What E's PDF states about the shared trunk besides the runs (``facts`` in templates/E.html).
REPORT_FACTS = {
    "latent_dim": E_LATENT_DIM,
    "filters": list(E_FILTERS),
    "coarsest_map": list(coarsest_map()),
    "coarsest_map_values": int(np.prod(coarsest_map())),
    "no_fc_map": list(no_fc_map()),
    "shift_pixels": models.SHIFT_FRACTION * 28,     # E2's random_shift_augmentation, in pixels of a 28-pixel digit
}


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
    inputs = keras.Input(IMAGE_SHAPE, name="image")
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
    """Mirror of ``conv_encoder``: latent (latent_dim,) -> image (28, 28, 1), *linear* (unbounded) pixel values.

    Transposed stride-2 convolutions 4 -> 7 -> 14 -> 28 (``output_padding=0`` gives 7 from 4).
    The output layer is linear on purpose, not a sigmoid: with the mean L1 loss a sigmoid output
    falls onto the all-black plateau (the L1-optimal constant for mostly black images) and stays
    there - measured on the full E1 recipe, both variants ended every one of the 12 epochs at
    validation L1 0.1305 (the mean pixel value, i.e. a black image), while this linear output
    leaves the plateau after two epochs and reaches 0.041. Pixels come out close to [0, 1] but
    not inside it; clip for display (``np.clip``) or when a range matters.
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
    outputs = layers.Conv2DTranspose(1, 3, strides=2, padding="same", name="pixels")(x)  # linear: see above
    return keras.Model(inputs, outputs, name=name)


def mlp_head(latent_dim: int = E_LATENT_DIM, hidden: int = 64, classes: int = 10,
             name: str = "classifier_head") -> keras.Model:
    """E2: the small two-layer MLP that maps a latent vector to class probabilities."""
    inputs = keras.Input((latent_dim,), name="latent")
    x = layers.Dense(hidden, activation="relu")(inputs)
    outputs = layers.Dense(classes, activation="softmax", name="class_probabilities")(x)
    return keras.Model(inputs, outputs, name=name)
