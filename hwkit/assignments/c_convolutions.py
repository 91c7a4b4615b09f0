"""Assignment C, Part 3 theory (C8, C9): operation and parameter counts of depthwise, pointwise and plain
convolutions (Q3.1, Q3.2), and separable kernels k = k1^T k2 as two 1-D convolutions (Q3.3).

Every closed formula here has a check against Keras or TensorFlow beside it: output shapes and
``count_params()`` of the layers, FLOPs from TensorFlow's graph profiler, ``keras.ops.conv`` for the
kernel identities. Tasks C8 and C9 run them and write the tables.
"""
from __future__ import annotations

import time

from hwkit import tf_runtime  # noqa: F401  (quiet TensorFlow import before Keras)

# isort: split
import keras
import numpy as np
import tensorflow as tf
from keras import layers

from hwkit import findings as fnd

# Q3.1 (the text's Example 2): a 28x28x16 input, a 3x3 kernel, 64 output channels.
H, W, C_IN, C_OUT, K = 28, 28, 16, 64, 3
CHANNEL_PAIRS = [(1, 8), (8, 4), (8, 8), (16, 64), (64, 128), (256, 256), (512, 512)]   # for the Q3.2 ratio table

# Q3.3: the text's Example 1 (Sobel) and the counter-example (rank 2).
SOBEL_K1, SOBEL_K2 = np.array([1.0, 2.0, 1.0]), np.array([-1.0, 0.0, 1.0])
LAPLACIAN = np.array([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])


# ----------------------------------------------------------------------------- Q3.1 formulas

def output_hw(h: int, w: int, k: int, padding: str) -> tuple[int, int]:
    """Spatial output size of a stride-1 k x k convolution."""
    return (h, w) if padding == "same" else (h - k + 1, w - k + 1)


def conv_costs(h: int, w: int, c_in: int, c_out: int, k: int, padding: str = "same") -> list[dict]:
    """Output shape, multiplications, additions and weights (no bias) of depthwise, pointwise and plain conv.

    One output value of a k x k depthwise filter is k*k products summed with k*k - 1 additions;
    one pointwise value is c_in products and c_in - 1 additions; one plain-conv value is
    k*k*c_in products and k*k*c_in - 1 additions. Zero-padded border taps are counted like the
    others (that is what the hardware does).
    """
    oh, ow = output_hw(h, w, k, padding)
    depthwise = {"step": "a) depthwise 3x3", "output": (oh, ow, c_in),
                 "mults": oh * ow * c_in * k * k, "adds": oh * ow * c_in * (k * k - 1), "weights": k * k * c_in}
    pointwise = {"step": "b) pointwise 1x1", "output": (oh, ow, c_out),
                 "mults": oh * ow * c_out * c_in, "adds": oh * ow * c_out * (c_in - 1), "weights": c_in * c_out}
    separable = {"step": "a+b) separable total", "output": (oh, ow, c_out),
                 **{key: depthwise[key] + pointwise[key] for key in ("mults", "adds", "weights")}}
    plain = {"step": "c) plain 3x3 conv", "output": (oh, ow, c_out),
             "mults": oh * ow * c_out * k * k * c_in, "adds": oh * ow * c_out * (k * k * c_in - 1),
             "weights": k * k * c_in * c_out}
    return [depthwise, pointwise, separable, plain]


def keras_layers(c_out: int, k: int, padding: str) -> dict[str, keras.layers.Layer]:
    """The three operations as Keras layers (no bias, so weights match the formula)."""
    return {"a) depthwise 3x3": layers.DepthwiseConv2D(k, padding=padding, use_bias=False),
            "b) pointwise 1x1": layers.Conv2D(c_out, 1, use_bias=False),
            "c) plain 3x3 conv": layers.Conv2D(c_out, k, padding=padding, use_bias=False)}


def profiled_flops(layer: keras.layers.Layer, input_shape: tuple) -> int:
    """Floating-point operations of one call of ``layer`` on one input, by TensorFlow's graph profiler."""
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    if not layer.built:
        layer.build((1, *input_shape))
    function = tf.function(tf.autograph.experimental.do_not_convert(lambda x: layer(x)))
    frozen = convert_variables_to_constants_v2(function.get_concrete_function(tf.TensorSpec((1, *input_shape))))
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    return tf.compat.v1.profiler.profile(graph=frozen.graph, options=options).total_float_ops


def check_q31(padding: str) -> list[dict]:
    """Formula rows, each matched against the Keras layer's output shape, weights and profiled FLOPs."""
    rows = conv_costs(H, W, C_IN, C_OUT, K, padding)
    checks = keras_layers(C_OUT, K, padding)
    inputs = {"a) depthwise 3x3": (H, W, C_IN), "c) plain 3x3 conv": (H, W, C_IN),
              "b) pointwise 1x1": (*output_hw(H, W, K, padding), C_IN)}
    for row in rows:
        row["padding"] = padding.upper()
        layer = checks.get(row["step"])
        if layer is None:
            continue
        x = np.zeros((1, *inputs[row["step"]]), np.float32)
        row["keras_output"] = tuple(layer(x).shape[1:])
        row["keras_weights"] = layer.count_params()
        row["profiled_flops"] = profiled_flops(layer, inputs[row["step"]])
        row["matches"] = (row["keras_output"] == row["output"] and row["keras_weights"] == row["weights"]
                          and row["profiled_flops"] == 2 * row["mults"])
    return rows


# ----------------------------------------------------------------------------- Q3.2 parameter counts

def layer_parameter_formulas(model: keras.Model) -> list[dict]:
    """Each layer's parameters by formula from its configuration, beside Keras' count_params()."""
    rows = []
    for layer in model.layers:
        if isinstance(layer, layers.InputLayer):
            continue
        cfg = layer.get_config()
        c_in = layer.input.shape[-1]
        if isinstance(layer, layers.SeparableConv2D):
            k = cfg["kernel_size"][0] * cfg["kernel_size"][1]
            f = cfg["filters"]
            formula, n = f"{k}*{c_in} (depthwise) + {c_in}*{f} (pointwise) + {f} (bias)", k * c_in + c_in * f + f
        elif isinstance(layer, layers.Conv2D):
            k = cfg["kernel_size"][0] * cfg["kernel_size"][1]
            f = cfg["filters"]
            formula, n = f"{k}*{c_in}*{f} + {f} (bias)", k * c_in * f + f
        elif isinstance(layer, layers.Dense):
            u = cfg["units"]
            formula, n = f"{c_in}*{u} + {u} (bias)", c_in * u + u
        else:
            formula, n = "no weights", 0
        rows.append({"model": model.name, "layer": layer.name, "output": tuple(layer.output.shape[1:]),
                     "formula": formula, "parameters": n, "keras_count_params": layer.count_params(),
                     "matches": n == layer.count_params()})
    return rows


def separable_ratio_rows(k: int = K) -> list[dict]:
    """Weights and multiplications per output pixel of separable vs plain k x k conv, by channel counts.

    Ratio = (k^2 c_in + c_in c_out) / (k^2 c_in c_out) = 1/c_out + 1/k^2: the saving grows with
    the number of output channels and tends to k^2 = 9x; with few channels there is little to save.
    """
    rows = []
    for c_in, c_out in CHANNEL_PAIRS:
        separable, plain = k * k * c_in + c_in * c_out, k * k * c_in * c_out
        rows.append({"c_in": c_in, "c_out": c_out, "separable_weights": separable, "plain_weights": plain,
                     "ratio": separable / plain, "closed_form": 1 / c_out + 1 / k ** 2})
    return rows


def time_q31(repeats: int = 10, batch: int = 256) -> dict:
    """Measured seconds per batch of plain vs depthwise+pointwise conv on 28x28x16 inputs.

    The two are timed in turn within each repeat (so both see the same load of a shared machine):
    the best of N for each, and the speed-up of every repeat (plain / separable) for its spread."""
    x = tf.random.normal((batch, H, W, C_IN), seed=0)
    plain = layers.Conv2D(C_OUT, K, padding="same", use_bias=False)
    separable = layers.SeparableConv2D(C_OUT, K, padding="same", use_bias=False)
    calls, times = {}, {"plain_s": [], "separable_s": []}
    for name, layer in (("plain_s", plain), ("separable_s", separable)):
        calls[name] = tf.function(tf.autograph.experimental.do_not_convert(lambda t, layer=layer: layer(t)))
        calls[name](x)  # trace and warm up
    for _ in range(repeats):
        for name, call in calls.items():
            started = time.perf_counter()
            call(x).numpy()
            times[name].append(time.perf_counter() - started)
    out = {name: min(t) for name, t in times.items()}
    out["speedup"] = out["plain_s"] / out["separable_s"]
    out["speedups"] = [p / q for p, q in zip(times["plain_s"], times["separable_s"])]
    out["batch"] = batch
    return out


FASTER, SLOWER = "faster", "slower"


def speedup_finding(speedups: list[float], arithmetic_ratio: float) -> fnd.Finding:
    """Is the separable conv measurably faster than the plain one, and by less than the arithmetic ratio?

    ``speedups``: plain / separable seconds, one per repeat. "faster" ("slower") when every repeat's
    speed-up is above (below) 1; ``numbers["below_arithmetic"]`` when every repeat stays below
    ``arithmetic_ratio``."""
    i = fnd.seed_interval(speedups, over="repeats")
    verdict = FASTER if i.low > 1 else SLOWER if i.high < 1 else fnd.SAME
    if i.n < fnd.MIN_SEEDS:
        verdict = fnd.NOT_COMPARABLE
    numbers = {"speedup": i.center, "low": i.low, "high": i.high, "repeats": i.n,
               "arithmetic_ratio": arithmetic_ratio, "below_arithmetic": bool(i.high < arithmetic_ratio)}
    return fnd.Finding(verdict, numbers, i,
                       criterion=f"every one of at least {fnd.MIN_SEEDS} repeats on the same side of 1")


def separable_equals_depthwise_then_pointwise(seed: int = 0) -> float:
    """Keras' SeparableConv2D is exactly depthwise then pointwise: max |difference| on a random input."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2, H, W, C_IN)).astype(np.float32)
    sep = layers.SeparableConv2D(C_OUT, K, padding="same", use_bias=False)
    sep.build(x.shape)
    depthwise_kernel, pointwise_kernel = (w.numpy() for w in sep.weights)
    dw = layers.DepthwiseConv2D(K, padding="same", use_bias=False)
    pw = layers.Conv2D(C_OUT, 1, use_bias=False)
    dw.build(x.shape)
    pw.build((2, H, W, C_IN))
    dw.set_weights([depthwise_kernel])
    pw.set_weights([pointwise_kernel])
    return float(np.abs(sep(x) - pw(dw(x))).max())


# ----------------------------------------------------------------------------- Q3.3 separable kernels

def apply(x: np.ndarray, kernel: np.ndarray, padding: str = "valid") -> np.ndarray:
    """Apply a 2-D kernel (rows x cols) to a single-channel image batch (B, H, W) with Keras' conv."""
    k = keras.ops.convert_to_tensor(kernel[:, :, None, None].astype(np.float32))
    out = keras.ops.conv(keras.ops.convert_to_tensor(x[..., None].astype(np.float32)), k, padding=padding)
    return keras.ops.convert_to_numpy(out)[..., 0]


def column_then_row(x: np.ndarray, k1: np.ndarray, k2: np.ndarray, padding: str) -> np.ndarray:
    """k1^T (N x 1) down the columns first, then k2 (1 x M) along the rows."""
    return apply(apply(x, k1[:, None], padding), k2[None, :], padding)


def row_then_column(x: np.ndarray, k1: np.ndarray, k2: np.ndarray, padding: str) -> np.ndarray:
    """k2 (1 x M) along the rows first, then k1^T (N x 1) down the columns."""
    return apply(apply(x, k2[None, :], padding), k1[:, None], padding)


def check_rank_one(x: np.ndarray, k1: np.ndarray, k2: np.ndarray, name: str) -> list[dict]:
    """Max |difference| between the 2-D kernel and the 1-D passes, both orders and both paddings."""
    k = np.outer(k1, k2)   # k1^T k2
    rows = []
    for padding in ("valid", "same"):
        full = apply(x, k, padding)
        swapped = apply(x, np.outer(k2, k1), padding) if k.shape[0] == k.shape[1] else None
        rows.append({"kernel": name, "shape": f"{k.shape[0]}x{k.shape[1]}", "padding": padding.upper(),
                     "rank": int(np.linalg.matrix_rank(k)),
                     "column_then_row_diff": float(np.abs(full - column_then_row(x, k1, k2, padding)).max()),
                     "row_then_column_diff": float(np.abs(full - row_then_column(x, k1, k2, padding)).max()),
                     "wrong_orientation_diff": None if swapped is None else float(np.abs(full - swapped).max()),
                     "output_scale": float(np.abs(full).max())})
    return rows


def rank_analysis(kernel: np.ndarray, x: np.ndarray) -> dict:
    """Rank, singular values, best separable (rank-1) approximation and the exact SVD sum of separable pairs."""
    u, s, vt = np.linalg.svd(kernel)
    rank = int(np.linalg.matrix_rank(kernel))
    best_k1, best_k2 = u[:, 0] * np.sqrt(s[0]), vt[0] * np.sqrt(s[0])
    approx = np.outer(best_k1, best_k2)
    full = apply(x, kernel, "same")
    svd_sum = sum(column_then_row(x, u[:, i] * np.sqrt(s[i]), vt[i] * np.sqrt(s[i]), "same") for i in range(rank))
    return {"rank": rank, "singular_values": s.tolist(),
            "best_rank1_kernel": approx.tolist(),
            "best_rank1_spectral_error": float(np.linalg.norm(kernel - approx, 2)),
            "best_rank1_frobenius_error": float(np.linalg.norm(kernel - approx)),
            "best_rank1_output_diff": float(np.abs(full - column_then_row(x, best_k1, best_k2, "same")).max()),
            "output_scale": float(np.abs(full).max()),
            "svd_sum_of_separable_passes_diff": float(np.abs(full - svd_sum).max())}
