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

# Coursework 1 models, exactly as the text specifies them. Every layer uses Keras' default
# kernel initializer, glorot_uniform = Xavier initialisation (Glorot & Bengio 2010), and zero
# biases. The models output *logits* (the input to the softmax): the softmax lives inside the
# cross-entropy (``from_logits=True``), which is the numerically stable form of the same loss.

def coursework_mlp(hidden_units: tuple[int, ...] = (), name: str = "mlp", l2: float = 0.0) -> keras.Model:
    """C models 1-3: flattened 28x28 image -> [Dense(h) + ReLU]* -> Dense(10) logits.

    Model 1: ``()`` (linear + softmax); model 2: ``(32,)``; model 3: ``(32, 32)``.
    ``l2`` > 0 adds l2 * sum(W^2) of every weight matrix to the loss once per batch (C3's fix).
    """
    reg = keras.regularizers.L2(l2) if l2 else None
    inputs = keras.Input((28, 28, 1), name="image")
    x = layers.Flatten()(inputs)
    for i, units in enumerate(hidden_units, 1):
        x = layers.Dense(units, activation="relu", kernel_initializer="glorot_uniform", kernel_regularizer=reg,
                         name=f"hidden{i}")(x)
    outputs = layers.Dense(10, kernel_initializer="glorot_uniform", kernel_regularizer=reg, name="logits")(x)
    return keras.Model(inputs, outputs, name=name)


def coursework_cnn() -> keras.Model:
    """C model 4: [conv 3x3x8 + ReLU, maxpool 2x2] x2 (SAME padding, stride 1) -> Dense(32) ReLU -> logits."""
    inputs = keras.Input((28, 28, 1), name="image")
    x = inputs
    for i in (1, 2):
        x = layers.Conv2D(8, 3, padding="same", activation="relu", name=f"conv{i}")(x)
        x = layers.MaxPooling2D(2, padding="same", name=f"pool{i}")(x)  # 28 -> 14 -> 7
    x = layers.Flatten()(x)
    x = layers.Dense(32, activation="relu", name="hidden")(x)
    outputs = layers.Dense(10, name="logits")(x)
    return keras.Model(inputs, outputs, name="model4_cnn")


def separable_cnn(filters: tuple[int, ...] = (8, 4), pool_after: tuple[bool, ...] = (False, True),
                  dense_units: int = 32, name: str = "separable_cnn", plain_first: bool = False) -> keras.Model:
    """Separable convs (depthwise 3x3 + pointwise 1x1, ReLU, SAME), optional 2x2 max-pool after each.

    The defaults are C model 5: sep-conv 3x3x8, sep-conv 3x3x4 + maxpool -> Dense(32) ReLU -> logits.
    ``plain_first`` makes the first layer a plain 3x3 conv: on a 1-channel input a separable conv
    saves almost nothing (9 + f weights instead of 9f) and its f maps are all multiples of one
    filtered image.
    """
    if len(filters) != len(pool_after):
        raise ValueError("filters and pool_after need one entry per separable conv")
    inputs = keras.Input((28, 28, 1), name="image")
    x = inputs
    for i, (f, pool) in enumerate(zip(filters, pool_after), 1):
        conv = layers.Conv2D if (plain_first and i == 1) else layers.SeparableConv2D
        x = conv(f, 3, padding="same", activation="relu", name=f"{'conv' if conv is layers.Conv2D else 'sepconv'}{i}")(x)
        if pool:
            x = layers.MaxPooling2D(2, padding="same", name=f"pool{i}")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(dense_units, activation="relu", name="hidden")(x)
    outputs = layers.Dense(10, name="logits")(x)
    return keras.Model(inputs, outputs, name=name)


def coursework_model(number: int, l2: float = 0.0) -> keras.Model:
    """C models 1-5 by their number in the coursework (``l2``: weight penalty, MLPs 1-3 only)."""
    if l2 and number > 3:
        raise ValueError("the l2 penalty is implemented for the MLP models 1-3 only")
    factories = {1: lambda: coursework_mlp((), "model1_linear", l2),
                 2: lambda: coursework_mlp((32,), "model2_mlp32", l2),
                 3: lambda: coursework_mlp((32, 32), "model3_mlp32x32", l2),
                 4: coursework_cnn,
                 5: lambda: separable_cnn(name="model5_separable")}
    if number not in factories:
        raise ValueError(f"the coursework has models 1-5, not {number}")
    return factories[number]()


def compile_coursework(model: keras.Model, learning_rate: float) -> keras.Model:
    """The coursework recipe: plain SGD, softmax cross-entropy *summed* over the batch.

    Summing (tf.reduce_sum in the text) instead of averaging makes each step 100x larger than
    the usual mean loss at batch size 100, which is why the text's learning rates look small.
    """
    model.compile(optimizer=keras.optimizers.SGD(learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="sum"),
                  metrics=["accuracy"], jit_compile=False)  # XLA costs more than it saves for these tiny models on CPU
    return model


class SeparableCnnHyperModel(kt.HyperModel):
    """C10 (Q3.4) search space: a plain 3x3 conv, then two separable-conv blocks, each block + 2x2 max-pool.

    Pooling after every block (28 -> 14 -> 7 -> 4) keeps the dense layer small, which is where
    models 4 and 5 keep most of their parameters; the largest model in this space
    (16-16-16 filters, 32 units) has 9.5 k parameters, below model 4's 13.6 k, so every trial
    qualifies. Trained with the coursework recipe (SGD, summed cross-entropy).
    """

    def __init__(self):
        super().__init__(name="separable_cnn")

    def build(self, hp: kt.HyperParameters) -> keras.Model:
        filters = tuple(hp.Choice(f"filters{i}", [8, 16]) for i in (1, 2, 3))
        model = separable_cnn(filters, (True, True, True), dense_units=hp.Choice("dense_units", [16, 32]),
                              name="q34_separable", plain_first=True)
        # Model 4 setting 1 (LR 0.01) shows what larger rates do to a summed loss: they diverge.
        return compile_coursework(model, hp.Choice("learning_rate", [1e-3, 2e-3, 4e-3]))



# ----------------------------------------------------------------------------- Assignment D


# ----------------------------------------------------------------------------- Assignment E
