"""E8: Jacobians of a bias add, a dense (FC) layer and a convolution layer - written out and checked against autodiff.

Theory question 3: the Jacobian matrices of (a) an additive bias vector, (b) a general matrix
multiplication (fully-connected layer) and (c) a convolution layer, with respect to the input
and to the parameters. ``hwkit.assignments.e_jacobians`` builds each matrix from the formula in the report;
this task compares every entry with TensorFlow's autodiff (``tf.GradientTape.jacobian``) of the
Keras layer (or Keras op) on random inputs, in float64, and records the largest difference.
"""
from __future__ import annotations

import keras
import numpy as np

from hwkit import plots
from hwkit.assignments import e_jacobians
from hwkit.task import main

N_BIAS = 6
N_IN, N_OUT = 5, 4
IMAGE = (6, 6, 2)                # conv input H, W, C_in
KERNEL = (3, 3, 2, 3)            # k, k, C_in, C_out
TOLERANCE = 1e-10                # float64: a wrong entry is of order 1


def dense_layer(w: np.ndarray, b: np.ndarray) -> keras.layers.Dense:
    layer = keras.layers.Dense(w.shape[1], dtype="float64")
    layer.build((None, w.shape[0]))
    layer.set_weights([w, b])
    return layer


def conv_layer(kernel: np.ndarray, b: np.ndarray, stride: int) -> keras.layers.Conv2D:
    layer = keras.layers.Conv2D(kernel.shape[-1], kernel.shape[0], strides=stride, padding="valid", dtype="float64")
    layer.build((None, *IMAGE))
    layer.set_weights([kernel, b])
    return layer


def run(args, run):
    rng = np.random.default_rng(args.seed)
    rows = []

    def check(layer_name: str, wrt: str, by_hand: np.ndarray, autodiff: np.ndarray):
        err = e_jacobians.max_abs_difference(by_hand, autodiff)
        rows.append({"layer": layer_name, "with respect to": wrt, "Jacobian shape": "x".join(map(str, by_hand.shape)),
                     "non-zero entries": int(np.count_nonzero(by_hand)), "max |by hand - autodiff|": err,
                     "agrees": err < TOLERANCE})

    # (a) bias add y = x + b
    x, b = rng.normal(size=N_BIAS), rng.normal(size=N_BIAS)
    hand = e_jacobians.bias_add_jacobians(N_BIAS)
    check("bias add y = x + b", "x", hand["x"], e_jacobians.autodiff_jacobian(lambda t: t + b, x))
    check("bias add y = x + b", "b", hand["b"], e_jacobians.autodiff_jacobian(lambda t: x + t, b))

    # (b) dense y = x W + b, Keras' Dense layer for d/dx, the same product for d/dW, d/db
    x, w, b = rng.normal(size=N_IN), rng.normal(size=(N_IN, N_OUT)), rng.normal(size=N_OUT)
    hand, dense = e_jacobians.dense_jacobians(x, w), dense_layer(w, b)
    check("dense y = xW + b", "x", hand["x"], e_jacobians.autodiff_jacobian(lambda t: dense(t[None])[0], x))
    check("dense y = xW + b", "W", hand["W"], e_jacobians.autodiff_jacobian(lambda t: keras.ops.matmul(x, t) + b, w))
    check("dense y = xW + b", "b", hand["b"], e_jacobians.autodiff_jacobian(lambda t: keras.ops.matmul(x, w) + t, b))

    # (c) convolution layer (valid, stride 1 and 2), Keras' Conv2D for d/dx, keras.ops.conv for d/dK, d/db
    x, kernel, b = rng.normal(size=IMAGE), rng.normal(size=KERNEL), rng.normal(size=KERNEL[-1])
    for stride in (1, 2):
        name = f"conv {KERNEL[0]}x{KERNEL[1]}, {KERNEL[2]}->{KERNEL[3]} channels, stride {stride}"
        hand, conv = e_jacobians.conv2d_jacobians(x, kernel, stride), conv_layer(kernel, b, stride)
        check(name, "x", hand["x"], e_jacobians.autodiff_jacobian(lambda t: conv(t[None])[0], x))
        check(name, "K", hand["K"], e_jacobians.autodiff_jacobian(
            lambda t: keras.ops.conv(x[None], t, strides=stride, padding="valid")[0] + b, kernel))
        check(name, "b", hand["b"], e_jacobians.autodiff_jacobian(
            lambda t: keras.ops.conv(x[None], kernel, strides=stride, padding="valid")[0] + t, b))

    run.save_table("jacobians", rows)
    # A picture of the structure: the conv Jacobian w.r.t. x is block-Toeplitz (shifted copies of K).
    fig, axes = plots.figure(1, 2, width="full", height_cm=6.5)
    for ax, stride in zip(axes[0], (1, 2)):
        j = e_jacobians.conv2d_jacobians(x[:, :, :1], kernel[:, :, :1, :1], stride)["x"]
        plots.heatmap(ax, j, cmap="coolwarm", label="∂y/∂x", aspect="auto", vmin=-np.abs(j).max(),
                      vmax=np.abs(j).max())
        ax.set_title(f"∂y/∂x, one channel, stride {stride}: {j.shape[0]}×{j.shape[1]}")
        ax.set_xlabel("input pixel (row-major)")
        ax.set_ylabel("output pixel")
        plots.integer_axis(ax, "x")
        plots.integer_axis(ax, "y")
        ax.grid(False)
    run.save_figure(fig, "conv_jacobian")
    print(f"all {len(rows)} Jacobians agree with autodiff: {all(r['agrees'] for r in rows)}")
    run.log(all_agree=all(r["agrees"] for r in rows), checks=len(rows),
            max_error=max(r["max |by hand - autodiff|"] for r in rows), tolerance=TOLERANCE,
            dense_shape=[N_IN, N_OUT], image_shape=list(IMAGE), kernel_shape=list(KERNEL))


if __name__ == "__main__":
    raise SystemExit(main(__spec__.name))
