"""Keras model factories, named after what they build, with their KerasTuner search spaces beside them.

Factories return *uncompiled* ``keras.Model`` objects unless their name says otherwise;
``compile_classifier`` is the one place the classification recipe (optimizer, schedule,
loss) lives. Sections follow the assignments.
"""
from __future__ import annotations

import keras
import keras_tuner as kt
from keras import layers
import numpy as np


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

def identity_mlp(hidden_layers: int = 6, units: int = 4, image_shape=(28, 28, 1)) -> keras.Model:
    """A1: h: [0,1]^28x28 -> [0,1]^28x28, ``hidden_layers`` Dense(units, ReLU) then Dense(784, sigmoid).

    7 trainable dense layers by default; the sigmoid keeps every output pixel in [0, 1] like the
    targets, and the Reshape gives the prediction the input's shape.
    """
    inputs = keras.Input(image_shape, name="image")
    x = layers.Flatten()(inputs)
    for i in range(hidden_layers):
        x = layers.Dense(units, activation="relu", name=f"hidden{i + 1}")(x)
    height, width, channels = image_shape
    x = layers.Reshape(image_shape)(layers.Dense(height * width * channels, name="pixels")(x))
    # The sigmoid comes last, after the Reshape: Keras' binary cross-entropy then works on the logits it
    # keeps on a sigmoid's output. Behind a Reshape it would clip probabilities instead, and a pixel
    # saturated at the wrong end would get zero gradient and stay wrong for good.
    outputs = layers.Activation("sigmoid", name="sigmoid")(x)
    return keras.Model(inputs, outputs, name="identity_mlp")


def identity_cnn(hidden_layers: int = 1, filters: int = 10, kernel_size: int = 5,
                 image_shape=(28, 28, 1)) -> keras.Model:
    """A2 (and the A5 depth sweep): ``hidden_layers`` x Conv(filters, k x k, "same", ReLU), then the output conv.

    Output layer: 1 filter (one grey channel, like the input), the same k x k kernel with "same"
    padding and stride 1 (so the output is 28x28 again), and a sigmoid so that g maps into [0,1].
    """
    inputs = keras.Input(image_shape, name="image")
    x = inputs
    for i in range(hidden_layers):
        x = layers.Conv2D(filters, kernel_size, padding="same", activation="relu", name=f"conv{i + 1}")(x)
    outputs = layers.Conv2D(image_shape[-1], kernel_size, padding="same", activation="sigmoid", name="pixels")(x)
    return keras.Model(inputs, outputs, name=f"identity_cnn_{hidden_layers}")



# A3 / A4: networks whose weights are SET, not learnt. W (out x in, as in the formulas) is stored
# transposed in a Dense kernel (in x out); conv kernels are (d, d, in_channels, filters).

def two_hidden_relu_net(w1, b1, w2, b2, w3, b3) -> keras.Model:
    """A3: h(x) = W3 ReLU(W2 ReLU(W1 x + b1) + b2) + b3 as a Keras model with these exact weights."""
    n_in, n_out = w1.shape[1], w3.shape[0]
    inputs = keras.Input((n_in,), name="x")
    x = inputs
    for i, (w, b, act) in enumerate([(w1, b1, "relu"), (w2, b2, "relu"), (w3, b3, None)]):
        layer = layers.Dense(w.shape[0], activation=act, name=f"W{i + 1}")
        x = layer(x)
        layer.set_weights([w.T, b])
    return keras.Model(inputs, x, name="two_hidden_relu_net")


def conv_identity_net(d: int = 3, relu: bool = False, filters: int | None = None) -> keras.Model:
    """A4: g = 1x1 output conv o hidden conv (``filters`` delta filters d x d, "same", stride 1).

    Hidden layer: filter k is s_k * delta (1 at the centre of the d x d window, 0 elsewhere) with
    s = (+1,) or, by default with ``relu``, (+1, -1); zero bias; identity or ReLU activation.
    Output: Conv2D(1 filter, 1x1, linear) with weights s and zero bias, so
    g(x) = sum_k s_k act(s_k x) = x  (act = identity: 1*x; ReLU: ReLU(x) - ReLU(-x) = x).
    ``filters=1`` with ``relu`` gives ReLU(x): the identity only for x >= 0.
    Input is (H, W, 1) with any H, W: the construction does not depend on the image size.
    """
    if d < 3 or d % 2 == 0:
        raise ValueError(f"d must be an odd number > 1, got {d}")
    signs = [1.0, -1.0][: filters or (2 if relu else 1)]
    kernel = np.zeros((d, d, 1, len(signs)), dtype="float32")
    for k, s in enumerate(signs):
        kernel[d // 2, d // 2, 0, k] = s
    inputs = keras.Input((None, None, 1), name="image")
    hidden = layers.Conv2D(len(signs), d, strides=1, padding="same", activation="relu" if relu else None,
                           name="hidden")
    output = layers.Conv2D(1, 1, strides=1, padding="same", activation=None, name="output")
    outputs = output(hidden(inputs))
    hidden.set_weights([kernel, np.zeros(len(signs), "float32")])
    output.set_weights([np.array(signs, "float32").reshape(1, 1, len(signs), 1), np.zeros(1, "float32")])
    return keras.Model(inputs, outputs, name=f"conv_identity_d{d}_c{len(signs)}_{'relu' if relu else 'linear'}")


# ----------------------------------------------------------------------------- Assignment C


# ----------------------------------------------------------------------------- Assignment D


# ----------------------------------------------------------------------------- Assignment E
