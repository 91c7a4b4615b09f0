"""Assignment D, problem 2 (D6): a ResNet-9-like CIFAR-10 network, its recipe and search space.

After Page's DAWNBench ResNet-9 and airbench, at half width so that ~10 epochs fit in an hour
on 2 shared CPU cores.
"""
from __future__ import annotations

from hwkit import tf_runtime  # noqa: F401  (quiet TensorFlow import before Keras)

import keras
import keras_tuner as kt
from keras import layers

from hwkit.models import conv_bn_relu
from hwkit.training import ONE_CYCLE_WARMUP

CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)   # per-channel training-set statistics of [0, 1] pixels
CIFAR10_STD = (0.2470, 0.2435, 0.2616)
CIFAR10_POLICY = "mixed_bfloat16"         # bf16 convolutions run ~2x faster than fp32 on AMX/AVX-512-BF16 CPUs
STAGES = ((2, True), (4, False), (8, True))   # (width multiple, residual block after it) of the three stages
LOGIT_SCALE = 0.125                       # ResNet-9's final scaling of the logits (keeps early softmax outputs soft)
SGD_MOMENTUM = 0.9                        # Nesterov momentum of compile_cifar10
WEIGHT_DECAY = 5e-4                       # decoupled weight decay of compile_cifar10
SHIFT_PIXELS = 4                          # cifar10_augmentation: random translation by up to this many pixels

# What D's PDF states about the D6 recipe that its runs do not record (``facts`` in templates/D.html).
REPORT_FACTS = {"sgd_momentum": SGD_MOMENTUM, "weight_decay": WEIGHT_DECAY, "shift_pixels": SHIFT_PIXELS,
                "warmup_fraction": ONE_CYCLE_WARMUP, "logit_scale": LOGIT_SCALE}


def cifar10_resnet(width: int = 32, policy: str = CIFAR10_POLICY) -> keras.Model:
    """D6: ResNet-9 layout (prep, 3 stages of width w*(2, 4, 8), residual blocks after stages 1 and 3).

    Input: float images in [0, 1] (N, 32, 32, 3), normalised inside the model so the saved
    ``.keras`` file is self-contained. Output: 10 *logits* in float32 (scaled by 1/8 as in
    ResNet-9, which keeps early softmax outputs soft). ``width=32`` gives ~1.65 M parameters.
    """
    inputs = keras.Input((32, 32, 3), name="image")
    x = layers.Normalization(mean=CIFAR10_MEAN, variance=[s * s for s in CIFAR10_STD])(inputs)
    x = conv_bn_relu(x, width, dtype=policy)                                     # prep: 32x32xw
    for stage, residual in STAGES:
        x = conv_bn_relu(x, width * stage, dtype=policy)
        x = layers.MaxPooling2D(2, dtype=policy)(x)                # 16, 8, 4 pixels
        if residual:
            r = conv_bn_relu(conv_bn_relu(x, width * stage, dtype=policy), width * stage, dtype=policy)
            x = layers.Add(dtype=policy)([x, r])
    x = layers.GlobalMaxPooling2D(dtype=policy)(x)
    x = layers.Dense(10, use_bias=False, dtype="float32")(x)
    outputs = layers.Rescaling(LOGIT_SCALE, dtype="float32", name="logits")(x)
    return keras.Model(inputs, outputs, name="cifar10_resnet")


def compile_cifar10(model: keras.Model, learning_rate: float, label_smoothing: float = 0.2,
                    weight_decay: float = WEIGHT_DECAY) -> keras.Model:
    """SGD + Nesterov momentum 0.9, decoupled weight decay, label-smoothed cross-entropy on logits.

    ``learning_rate`` is the *peak* rate: train with ``hwkit.training.OneCycleWithinBudget``,
    which warms up to it and anneals it to zero. Labels are one-hot (label smoothing needs them).
    """
    model.compile(optimizer=keras.optimizers.SGD(learning_rate, momentum=SGD_MOMENTUM, nesterov=True,
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


def cifar10_augmentation(shift_pixels: int = SHIFT_PIXELS) -> keras.Sequential:
    """Random horizontal flip + random translation by up to 4 pixels with reflected borders (a 'random crop')."""
    f = shift_pixels / 32
    return keras.Sequential([layers.RandomFlip("horizontal"),
                             layers.RandomTranslation(f, f, fill_mode="reflect")], name="augment")
