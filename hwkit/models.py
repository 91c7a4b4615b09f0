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


# ----------------------------------------------------------------------------- Assignment A


# ----------------------------------------------------------------------------- Assignment C


# ----------------------------------------------------------------------------- Assignment D

# D6: a ResNet-9-like CIFAR-10 network (after Page's DAWNBench ResNet-9 and airbench), at half
# width so that ~10 epochs fit in an hour on 2 shared CPU cores.
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)   # per-channel training-set statistics of [0, 1] pixels
CIFAR10_STD = (0.2470, 0.2435, 0.2616)
CIFAR10_POLICY = "mixed_bfloat16"         # bf16 convolutions run ~2x faster than fp32 on AMX/AVX-512-BF16 CPUs


def _cbr(x, filters: int, policy: str):
    """3x3 conv (no bias) -> BatchNorm -> ReLU, computed in ``policy``."""
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False, dtype=policy)(x)
    x = layers.BatchNormalization(momentum=0.9, dtype=policy)(x)
    return layers.ReLU(dtype=policy)(x)


def cifar10_resnet(width: int = 32, policy: str = CIFAR10_POLICY) -> keras.Model:
    """D6: ResNet-9 layout (prep, 3 stages of width w*(2, 4, 8), residual blocks after stages 1 and 3).

    Input: float images in [0, 1] (N, 32, 32, 3), normalised inside the model so the saved
    ``.keras`` file is self-contained. Output: 10 *logits* in float32 (scaled by 1/8 as in
    ResNet-9, which keeps early softmax outputs soft). ``width=32`` gives ~1.65 M parameters.
    """
    inputs = keras.Input((32, 32, 3), name="image")
    x = layers.Normalization(mean=CIFAR10_MEAN, variance=[s * s for s in CIFAR10_STD])(inputs)
    x = _cbr(x, width, policy)                                     # prep: 32x32xw
    for stage, residual in ((2, True), (4, False), (8, True)):
        x = _cbr(x, width * stage, policy)
        x = layers.MaxPooling2D(2, dtype=policy)(x)                # 16, 8, 4 pixels
        if residual:
            r = _cbr(_cbr(x, width * stage, policy), width * stage, policy)
            x = layers.Add(dtype=policy)([x, r])
    x = layers.GlobalMaxPooling2D(dtype=policy)(x)
    x = layers.Dense(10, use_bias=False, dtype="float32")(x)
    outputs = layers.Rescaling(0.125, dtype="float32", name="logits")(x)
    return keras.Model(inputs, outputs, name="cifar10_resnet")


def compile_cifar10(model: keras.Model, learning_rate: float, label_smoothing: float = 0.2,
                    weight_decay: float = 5e-4) -> keras.Model:
    """SGD + Nesterov momentum 0.9, decoupled weight decay, label-smoothed cross-entropy on logits.

    ``learning_rate`` is the *peak* rate: train with ``hwkit.training.OneCycleWithinBudget``,
    which warms up to it and anneals it to zero. Labels are one-hot (label smoothing needs them).
    """
    model.compile(optimizer=keras.optimizers.SGD(learning_rate, momentum=0.9, nesterov=True,
                                                 weight_decay=weight_decay),
                  loss=keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=label_smoothing),
                  metrics=["accuracy"])
    return model


class Cifar10ResNetHyperModel(kt.HyperModel):
    """D6 search space: peak learning rate and label smoothing of ``cifar10_resnet`` (width is fixed by CPU time).

    Fit each trial with ``hwkit.training.OneCycleWithinBudget`` among the search callbacks.
    """

    def __init__(self, width: int = 32):
        super().__init__(name="cifar10_resnet")
        self.width = width

    def build(self, hp: kt.HyperParameters) -> keras.Model:
        return compile_cifar10(cifar10_resnet(self.width), hp.Choice("learning_rate", [0.05, 0.1, 0.2]),
                               label_smoothing=hp.Choice("label_smoothing", [0.1, 0.2]))


def cifar10_augmentation(shift_pixels: int = 4) -> keras.Sequential:
    """Random horizontal flip + random translation by up to 4 pixels with reflected borders (a 'random crop')."""
    f = shift_pixels / 32
    return keras.Sequential([layers.RandomFlip("horizontal"),
                             layers.RandomTranslation(f, f, fill_mode="reflect")], name="augment")



# ----------------------------------------------------------------------------- Assignment E
