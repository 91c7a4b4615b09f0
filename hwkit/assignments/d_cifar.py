"""Assignment D, problem 2 (D6): an airbench-style CIFAR-10 network, its recipe and search space.

After Keller Jordan's airbench94 (Jordan 2024, "94% on CIFAR-10 in 3.29 seconds on a single GPU"):
a frozen 2x2 patch-whitening first convolution computed from training images, identity-initialised
convolutions, BatchNorm without a learned scale, label smoothing, a flip + 2-pixel crop
augmentation and flip/translate test-time augmentation. On 2 CPU cores (bfloat16) one epoch takes
~115 s, and 6 epochs reach ~90% (README: "D6 recipe: what each trick buys").
"""
from __future__ import annotations

from hwkit import tf_runtime  # noqa: F401  (quiet TensorFlow import before Keras)

# isort: split

import keras
import keras_tuner as kt
import numpy as np
from keras import layers, ops

CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)   # per-channel training-set statistics of [0, 1] pixels
CIFAR10_STD = (0.2470, 0.2435, 0.2616)
CIFAR10_POLICY = "mixed_bfloat16"         # bf16 convolutions: 114 s/epoch against 152 s in float32 on this CPU
WIDTH_MULTIPLES = (1, 4, 4)               # the three conv groups' channels, in multiples of the base width (64)
WHITENING_PATCH = 2                       # the whitening convolution sees 2x2 patches: 12 values, 24 filters (+/-)
WHITENING_EPS = 5e-4                      # added to the patch covariance's eigenvalues before 1/sqrt
WHITENING_IMAGES = 5_000                  # training images whose patches give the covariance
BATCHNORM_MOMENTUM = 0.4                  # Keras' momentum (PyTorch's 0.6): moving statistics track the
                                          # fast-changing net
LOGIT_SCALE = 1 / 9                       # airbench's final scaling of the logits (keeps early softmax outputs soft)
SGD_MOMENTUM = 0.85                       # Nesterov momentum of compile_cifar10
LEARNING_RATE = 1.5                       # peak learning rate at batch 1024 (airbench's 11.5 per 1024 summed examples)
DECAY_PER_STEP = 0.0133                   # share of each weight decayed per step at the peak rate, batch 1024
REFERENCE_BATCH = 1024                    # the batch at which LEARNING_RATE and DECAY_PER_STEP are stated
WARMUP_FRACTION = 0.23                    # the one-cycle schedule peaks after 23% of the steps (airbench)
SHIFT_PIXELS = 2                          # FlipAndCrop: random crops of the image padded by 2 reflected pixels

# What D's PDF states about the D6 recipe that its runs do not record (``facts`` in templates/D.html).
REPORT_FACTS = {"sgd_momentum": SGD_MOMENTUM, "decay_per_step": DECAY_PER_STEP, "reference_batch": REFERENCE_BATCH,
                "shift_pixels": SHIFT_PIXELS, "warmup_fraction": WARMUP_FRACTION, "logit_scale": LOGIT_SCALE,
                "whitening_patch": WHITENING_PATCH, "whitening_images": WHITENING_IMAGES,
                "batchnorm_momentum": BATCHNORM_MOMENTUM}


def whitening_kernel(images: np.ndarray, patch: int = WHITENING_PATCH, eps: float = WHITENING_EPS) -> np.ndarray:
    """Conv kernel (patch, patch, 3, 2 * 3 * patch**2) that whitens the normalised images' patches.

    Each filter is an eigenvector of the patch covariance divided by sqrt(eigenvalue + eps), and
    its negative, so that a ReLU-like activation after it keeps both signs. Images: float [0, 1]
    (N, H, W, 3), normalised here as the model normalises them.
    """
    x = (images - np.asarray(CIFAR10_MEAN, np.float32)) / np.asarray(CIFAR10_STD, np.float32)
    windows = np.lib.stride_tricks.sliding_window_view(x, (patch, patch), axis=(1, 2))   # N, H', W', 3, p, p
    patches = windows.transpose(0, 1, 2, 4, 5, 3).reshape(-1, patch * patch * 3).astype(np.float64)
    eigenvalues, eigenvectors = np.linalg.eigh(patches.T @ patches / len(patches))
    kernel = (eigenvectors / np.sqrt(eigenvalues + eps)).reshape(patch, patch, 3, -1)   # same (h, w, c) order
    return np.concatenate([kernel, -kernel], axis=-1).astype(np.float32)


def identity_init(conv: layers.Conv2D) -> None:
    """Make the first ``in_channels`` filters of a 3x3 conv (all, if fewer) pass their input channel through unchanged.

    airbench's "dirac" initialisation: an implicit residual connection without an Add layer.
    """
    kernel = ops.convert_to_numpy(conv.kernel).copy()
    k, n = kernel.shape[0], min(kernel.shape[2:])
    kernel[..., :n] = 0.0
    kernel[k // 2, k // 2, np.arange(n), np.arange(n)] = 1.0
    conv.kernel.assign(kernel)


def cifar10_net(whitening_images: np.ndarray, width: int = 64, policy: str = CIFAR10_POLICY, whitening: bool = True,
                identity: bool = True) -> keras.Model:
    """D6: whitening conv -> 3 conv groups (conv, 2x2 max-pool, BN, GELU, conv, BN, GELU) -> max-pool -> linear.

    Input: float images in [0, 1] (N, 32, 32, 3), normalised inside the model so the saved
    ``.keras`` file is self-contained (only built-in layers: it loads in safe mode). Output: 10
    *logits* in float32, scaled by 1/9. ``width=64`` gives channels 64/256/256 and ~2.0 M
    parameters. The frozen whitening kernel comes from ``whitening_images`` (training images).
    ``whitening=False`` / ``identity=False`` keep Keras' random initialisation of the first conv
    (then trained) / of the others: the ablations of ``benchmarks/cifar10_tricks.py``.
    """
    inputs = keras.Input((32, 32, 3), name="image")
    x = layers.Normalization(mean=CIFAR10_MEAN, variance=[s * s for s in CIFAR10_STD])(inputs)
    whiten = layers.Conv2D(2 * 3 * WHITENING_PATCH ** 2, WHITENING_PATCH, trainable=not whitening, dtype=policy,
                           name="whitening")
    x = layers.Activation("gelu", dtype=policy)(whiten(x))
    convs = []
    for multiple in WIDTH_MULTIPLES:
        for first in (True, False):
            convs.append(layers.Conv2D(width * multiple, 3, padding="same", use_bias=False, dtype=policy))
            x = convs[-1](x)
            if first:
                x = layers.MaxPooling2D(2, dtype=policy)(x)
            x = layers.BatchNormalization(momentum=BATCHNORM_MOMENTUM, scale=False, dtype=policy)(x)
            x = layers.Activation("gelu", dtype=policy)(x)
    x = layers.GlobalMaxPooling2D(dtype=policy)(x)                 # the last 3x3 map: airbench's MaxPool2d(3)
    x = layers.Dense(10, use_bias=False, dtype="float32")(x)
    outputs = layers.Rescaling(LOGIT_SCALE, dtype="float32", name="logits")(x)
    model = keras.Model(inputs, outputs, name="cifar10_net")
    if whitening:
        whiten.kernel.assign(whitening_kernel(whitening_images[:WHITENING_IMAGES]))
    for conv in convs if identity else ():
        identity_init(conv)
    return model


def compile_cifar10(model: keras.Model, learning_rate: float = LEARNING_RATE, batch_size: int = REFERENCE_BATCH,
                    label_smoothing: float = 0.2) -> keras.Model:
    """SGD + Nesterov momentum 0.85, decoupled weight decay, label-smoothed cross-entropy on logits.

    ``learning_rate`` is the *peak* rate for a batch of 1024 and scales linearly with
    ``batch_size`` (airbench's per-example parametrisation, so a search trial with small batches
    means the same as the full run); the weight decay is set so that each step decays
    ``DECAY_PER_STEP * batch_size / 1024`` of every weight at the peak, whatever the rate.
    Train with ``hwkit.training.OneCycleWithinBudget(warmup_fraction=WARMUP_FRACTION)``.
    Labels are one-hot (label smoothing needs them).
    """
    model.compile(optimizer=keras.optimizers.SGD(learning_rate * batch_size / REFERENCE_BATCH, momentum=SGD_MOMENTUM,
                                                 nesterov=True, weight_decay=DECAY_PER_STEP / learning_rate),
                  loss=keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=label_smoothing),
                  metrics=["accuracy"])
    return model


class Cifar10HyperModel(kt.HyperModel):
    """D6 search space: peak learning rate (per 1024 images) and label smoothing of ``cifar10_net``.

    Fit each trial with ``hwkit.training.OneCycleWithinBudget`` among the search callbacks.
    """

    def __init__(self, whitening_images: np.ndarray, batch_size: int, width: int = 64):
        super().__init__(name="cifar10_net")
        self.whitening_images, self.batch_size, self.width = whitening_images, batch_size, width

    def build(self, hp: kt.HyperParameters) -> keras.Model:
        return compile_cifar10(cifar10_net(self.whitening_images, self.width),
                               hp.Choice("learning_rate", [1.0, 1.5, 2.0]), self.batch_size,
                               label_smoothing=hp.Choice("label_smoothing", [0.1, 0.2]))


class FlipAndCrop(layers.Layer):
    """Random horizontal flip, then a random ``size``-pixel crop of the image padded by ``pad`` reflected pixels.

    Whole-pixel shifts (Keras' RandomTranslation interpolates, which blurs); vectorised over the
    batch, so it runs per batch in the tf.data pipeline.
    """

    def __init__(self, pad: int = SHIFT_PIXELS, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.pad = pad
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=True):
        if not training:
            return images
        n, height, width = ops.shape(images)[0], images.shape[1], images.shape[2]
        flip = keras.random.uniform((n, 1, 1, 1), seed=self.seed_generator) < 0.5
        images = ops.where(flip, ops.flip(images, axis=2), images)
        p = self.pad
        padded = ops.pad(images, ((0, 0), (p, p), (p, p), (0, 0)), mode="reflect")
        offsets = keras.random.randint((n, 2), 0, 2 * p + 1, seed=self.seed_generator)
        rows = offsets[:, :1] + ops.arange(height)[None, :]
        columns = offsets[:, 1:] + ops.arange(width)[None, :]
        padded = ops.take_along_axis(padded, rows[:, :, None, None], axis=1)
        return ops.take_along_axis(padded, columns[:, None, :, None], axis=2)


def cifar10_augmentation(pad: int = SHIFT_PIXELS) -> FlipAndCrop:
    """D6's training augmentation: random flip + random crop after ``pad`` pixels of reflected padding."""
    return FlipAndCrop(pad, name="augment")


def tta_views(images: np.ndarray, shift: int = 1) -> dict[str, np.ndarray]:
    """The test-time views: the image, its mirror, and each shifted by +-``shift`` pixels both ways
    (reflected borders)."""
    padded = np.pad(images, ((0, 0), (shift, shift), (shift, shift), (0, 0)), mode="reflect")
    h, w = images.shape[1:3]
    views = {"image": images, "down-right": padded[:, :h, :w], "up-left": padded[:, 2 * shift:, 2 * shift:]}
    return {**views, **{f"{name}, mirrored": v[:, :, ::-1] for name, v in views.items()}}
