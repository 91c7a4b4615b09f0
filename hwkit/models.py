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
import numpy as np


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
    n_in = w1.shape[1]
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
