"""FLOPs of a Keras model, counted exactly from its convolution and dense layers (no profiler).

Convention (the one airbench and most speed-run write-ups use):

* a multiply-add is 2 FLOPs;
* only Conv1D/2D/3D (incl. grouped) and Dense layers are counted; BatchNorm, activations,
  pooling, the loss and the optimizer update are left out (elementwise, a few % of the total);
* one training step costs 3x its forward pass: the backward pass computes a gradient for the
  layer's input and one for its weights, each as many multiply-adds as the forward pass. This is
  the usual approximation; the first layer needs no input gradient and a frozen layer no weight
  gradient, so the exact work of such models is slightly below it (``training_flops`` counts both ways).

Nested models (a ``keras.Model`` used as a layer) are walked into.
"""
from __future__ import annotations

import math

import keras

TRAINING_MULTIPLIER = 3   # forward + input gradient + weight gradient


def _shape(tensor_or_shape) -> tuple:
    shape = getattr(tensor_or_shape, "shape", tensor_or_shape)
    return tuple(shape)


def layer_macs(layer: keras.layers.Layer) -> int:
    """Multiply-adds of one example through ``layer`` (0 for layers that are not conv or dense).

    Conv: output positions x output channels x kernel volume x input channels / groups.
    Dense: the leading (non-batch) positions x input units x output units.
    """
    if isinstance(layer, keras.layers.Dense):
        out = _shape(layer.output)
        positions = math.prod(out[1:-1])
        return int(positions * layer.kernel.shape[0] * layer.kernel.shape[1])
    if isinstance(layer, (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)) and \
            not isinstance(layer, (keras.layers.DepthwiseConv2D, keras.layers.SeparableConv2D)):
        out = _shape(layer.output)
        channels_last = layer.data_format == "channels_last"
        spatial = out[1:-1] if channels_last else out[2:]
        kernel = layer.kernel.shape          # (*kernel_size, in_channels / groups, filters)
        return int(math.prod(spatial) * math.prod(kernel))
    return 0


def _leaf_layers(model: keras.Model):
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _leaf_layers(layer)
        else:
            yield layer


def model_macs(model: keras.Model) -> dict[str, int]:
    """Layer name -> multiply-adds per example, for every counted layer."""
    return {layer.name: macs for layer in _leaf_layers(model) if (macs := layer_macs(layer))}


def forward_flops(model: keras.Model) -> int:
    """FLOPs of one example's forward pass (2 per multiply-add)."""
    return 2 * sum(model_macs(model).values())


def training_flops(model: keras.Model, batch_size: int = 1, exact: bool = False) -> int:
    """FLOPs of one training step on ``batch_size`` examples.

    ``exact=False``: 3x the forward pass (the convention above). ``exact=True``: per layer, the
    forward pass, plus the weight gradient only if the layer is trainable, plus the input gradient
    only if some earlier layer needs it (a trainable counted layer precedes it in the model's order).
    """
    if not exact:
        return TRAINING_MULTIPLIER * forward_flops(model) * batch_size
    total, upstream_trainable = 0, False
    for layer in _leaf_layers(model):
        macs = layer_macs(layer)
        if not macs:
            continue
        total += macs * (1 + int(layer.trainable) + int(upstream_trainable))
        upstream_trainable = upstream_trainable or layer.trainable
    return 2 * total * batch_size
