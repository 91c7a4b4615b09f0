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

from hwkit import data, findings, models, training

E_FILTERS = (16, 32, 32)
E_LATENT_DIM = 12
IMAGE_SHAPE = (28, 28, 1)
# (input, output) shapes of a saved encoder (E1, E2) and decoder (E1): what E3 and E5 build on, checked when loaded.
ENCODER_SHAPES = (IMAGE_SHAPE, (E_LATENT_DIM,))
DECODER_SHAPES = ((E_LATENT_DIM,), IMAGE_SHAPE)
VALIDATION_FRACTION = 1 / 12     # 5 000 of the 60 000 training images are the validation split
# Fit check: a trained autoencoder must end below this share of the best constant image's validation L1 (the
# all-black plateau, 0.125 on MNIST); trained ones reach about a third of it, stuck ones stay at 1.0.
PLATEAU_FRACTION = 0.75
# The decoder's hidden activation (keras' "leaky_relu": slope 0.2 below 0): a leaky unit never dies, see conv_decoder.
DECODER_ACTIVATION = "leaky_relu"
DECODER_NEGATIVE_SLOPE = 0.2
# Fit check of a classifier (E2, and E4/E5 on their 100 images): final training cross-entropy below this; a classifier
# that learnt nothing sits at ln 10 = 2.30.
CLASSIFIER_FIT_LOSS = 0.5


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


def l1_per_image(x: np.ndarray, reconstruction: np.ndarray) -> np.ndarray:
    """Mean L1 of each image (per pixel): the per-example scores a bootstrap interval is drawn from."""
    return np.abs(np.asarray(x) - np.asarray(reconstruction)).reshape(len(x), -1).mean(1)


def plateau_l1(x_fit: np.ndarray, x_val: np.ndarray) -> float:
    """Validation L1 of the best *constant* output: the per-pixel median of the training images (the L1-optimal
    constant; for MNIST nearly all black). An autoencoder stuck on this plateau draws no digit."""
    return float(np.abs(np.asarray(x_val) - np.median(x_fit, axis=0)).mean())


def fit_check(val_l1: float, plateau: float, fraction: float = PLATEAU_FRACTION) -> findings.Finding:
    """Did an autoencoder leave the all-black plateau? Its final validation L1 must be below ``fraction`` times
    the validation L1 of the best constant image (``plateau_l1``)."""
    threshold = fraction * plateau
    ok = bool(np.isfinite(val_l1) and val_l1 < threshold)
    return findings.Finding(findings.FITS if ok else findings.FAILED,
                            {"val_l1": float(val_l1), "plateau_l1": float(plateau), "threshold": float(threshold),
                             "fraction": fraction},
                            criterion=f"validation L1 below {fraction:g} x the validation L1 of the best constant "
                                      f"image (the per-pixel median of the training images)")


def classifier_fit_check(final_training_loss: float, threshold: float = CLASSIFIER_FIT_LOSS) -> findings.Finding:
    """Did a classifier fit its training images? Final training cross-entropy below ``threshold`` (chance: ln 10)."""
    return findings.fit_check(final_training_loss, threshold,
                              criterion=f"final training cross-entropy below {threshold:g} (guessing: ln 10 = 2.30)")


REACHED, NOT_REACHED = "reached", "not reached"


def target_check(test_accuracy: float, target: float) -> findings.Finding:
    """E2's aim: test accuracy at least ``target`` (checked after training; nothing is stopped or chosen on it)."""
    return findings.Finding(REACHED if test_accuracy >= target else NOT_REACHED,
                            {"test_accuracy": float(test_accuracy), "target": float(target)},
                            criterion=f"test accuracy at least {target:.0%}")


def compare_reconstructions(l1_a: np.ndarray, l1_b: np.ndarray, fit_a, fit_b) -> findings.Finding:
    """Does model A reconstruct better (lower L1) than model B on the same test images? A 95% paired bootstrap
    over the images; "not comparable" when either failed its fit check (a plateau is not a result)."""
    if not findings.fitted(fit_a, fit_b):
        return findings.Finding(findings.NOT_COMPARABLE,
                                {"a": float(np.mean(l1_a)), "b": float(np.mean(l1_b)), "examples": int(len(l1_a))},
                                criterion="a model that failed its fit check is not compared")
    return findings.compare_paired(l1_a, l1_b, higher_is_better=False)


def dead_channels(decoder: keras.Model, codes: np.ndarray) -> list[float]:
    """Fraction of each hidden (ReLU-family) layer's channels in ``decoder`` that output 0 for every one of the
    ``codes``: a dead channel passes no gradient, and a decoder whose last hidden layer is all dead can only draw
    a constant image (the plateau)."""
    hidden = [layer for layer in decoder.layers
              if isinstance(layer, (layers.Dense, layers.Conv2DTranspose)) and layer.name != "pixels"]
    outputs = keras.Model(decoder.inputs, [layer.output for layer in hidden])(codes)
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    result = []
    for a in outputs:
        a = np.asarray(a)
        result.append(float(np.mean(np.all(a.reshape(-1, a.shape[-1]) <= 0.0, axis=0))))
    return result


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
    "decoder_activation": "leaky ReLU",
    "decoder_negative_slope": DECODER_NEGATIVE_SLOPE,
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
                 name: str = "decoder", activation: str = DECODER_ACTIVATION) -> keras.Model:
    """Mirror of ``conv_encoder``: latent (latent_dim,) -> image (28, 28, 1), *linear* (unbounded) pixel values.

    Transposed stride-2 convolutions 4 -> 7 -> 14 -> 28 (``output_padding=0`` gives 7 from 4).
    The output layer is linear on purpose, not a sigmoid: with the mean L1 loss a sigmoid output
    fell onto the all-black plateau (the L1-optimal constant for mostly black images) and stayed
    there in one full E1 run (both variants at validation L1 0.1305 every epoch), while a linear
    output left it. The hidden layers use leaky ReLU (``DECODER_ACTIVATION``), not ReLU: with ReLU the
    variant without FC sometimes stayed on the same plateau (in development runs, not rerun by the tasks)
    with every channel of its last hidden layer dead (0 for every image), so the decoder could only draw
    a constant; each run reports its own dead channels. Pixels come out close to [0, 1] but not inside
    it; clip for display (``np.clip``).
    """
    inputs = keras.Input((latent_dim,), name="latent")
    if fc:
        x = layers.Dense(4 * 4 * filters[-1], activation=activation)(inputs)
        x = layers.Reshape((4, 4, filters[-1]))(x)
    else:
        x = layers.Reshape((2, 2, latent_dim // 4))(inputs)
        x = layers.Conv2DTranspose(filters[-1], 3, strides=2, padding="same", activation=activation)(x)
    x = layers.Conv2DTranspose(filters[-2], 3, strides=2, padding="same", output_padding=0, activation=activation)(x)
    x = layers.Conv2DTranspose(filters[-3], 3, strides=2, padding="same", activation=activation)(x)
    outputs = layers.Conv2DTranspose(1, 3, strides=2, padding="same", name="pixels")(x)  # linear: see above
    return keras.Model(inputs, outputs, name=name)


def mlp_head(latent_dim: int = E_LATENT_DIM, hidden: int = 64, classes: int = 10,
             name: str = "classifier_head") -> keras.Model:
    """E2: the small two-layer MLP that maps a latent vector to class probabilities."""
    inputs = keras.Input((latent_dim,), name="latent")
    x = layers.Dense(hidden, activation="relu")(inputs)
    outputs = layers.Dense(classes, activation="softmax", name="class_probabilities")(x)
    return keras.Model(inputs, outputs, name=name)
