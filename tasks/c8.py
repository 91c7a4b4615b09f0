"""C8: Q3.1/Q3.2 — depthwise, pointwise and plain conv on 28x28x16 (3x3, 64 out): shapes, operation and parameter counts.

Q3.1 (Example 2 of the text): a 28x28x16 input, a 3x3 kernel, 64 output channels.
 a) depthwise 3x3 conv (one 3x3 filter per input channel): output shape, operations;
 b) pointwise 1x1 conv 16 -> 64 on that result: output shape, operations;
 c) a plain 3x3 conv 16 -> 64 on the input: output shape, operations.
Every count comes from a closed formula *and* is checked against Keras: the output shapes are
the layers' own, the parameters their ``count_params()``, and the operation counts TensorFlow's
graph profiler (which counts 2 FLOPs per multiply-add). SAME padding and stride 1, as in the
coursework's models (the VALID variant is tabulated too).

Q3.2: parameters of model 4 vs model 5 layer by layer, each formula matched against Keras'
count_params(); the parameter and operation ratio of separable vs plain conv for a range of
channel counts (when separable convolutions pay off); a measured CPU timing of the two on a
batch; and the accuracy of the convolutional models vs Part 1's, read from the latest C1, C6 and
C7 runs (their directories are recorded in the metrics).
"""
from __future__ import annotations

import dataclasses
import time

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from hwkit import HwkitError, runs
from hwkit.assignments import c_coursework
from hwkit.cli import choose_recipe, task_main

REQUIRES = ("c1", "c6", "c7")  # tasks whose latest runs this task reads

H, W, C_IN, C_OUT, K = 28, 28, 16, 64, 3
CHANNEL_PAIRS = [(1, 8), (8, 4), (8, 8), (16, 64), (64, 128), (256, 256), (512, 512)]


@dataclasses.dataclass(frozen=True)
class Recipe:
    timing_batch: int = 256     # images per timed call
    timing_repeats: int = 10    # best of N (the machine is shared: the minimum is the least disturbed)


FULL = Recipe()
QUICK = Recipe(timing_batch=16, timing_repeats=2)


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


def time_q31(repeats: int = FULL.timing_repeats, batch: int = FULL.timing_batch) -> dict:
    """Measured seconds per batch of plain vs depthwise+pointwise conv on 28x28x16 inputs (best of N)."""
    x = tf.random.normal((batch, H, W, C_IN), seed=0)
    plain = layers.Conv2D(C_OUT, K, padding="same", use_bias=False)
    separable = layers.SeparableConv2D(C_OUT, K, padding="same", use_bias=False)
    out = {}
    for name, layer in (("plain_s", plain), ("separable_s", separable)):
        call = tf.function(tf.autograph.experimental.do_not_convert(lambda t, layer=layer: layer(t)))
        call(x)  # trace and warm up
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            call(x).numpy()
            times.append(time.perf_counter() - started)
        out[name] = min(times)
    out["speedup"] = out["plain_s"] / out["separable_s"]
    out["batch"] = batch
    return out


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


# ----------------------------------------------------------------------------- performance vs Part 1

def accuracy_comparison(quick: bool) -> tuple[list[dict], dict]:
    """Best and per-setting final test accuracy of models 1-5 from the latest C1, C6 and C7 runs."""
    rows, sources = [], {}
    for task in ("c1", "c6", "c7"):
        record = runs.latest_run(task, include_quick=quick)
        if record is None or not record.table("summary"):
            continue
        sources[task] = str(record.path)
        by_model: dict[int, list[dict]] = {}
        for r in record.table("summary"):
            by_model.setdefault(r["model"], []).append(r)
        for model, rs in sorted(by_model.items()):
            best = max(rs, key=lambda r: r["final_test_accuracy"])
            rows.append({"model": model, "parameters": rs[0].get("parameters"),
                         **{f"setting{r['setting']}": r["final_test_accuracy"] for r in rs},
                         "best_final_test_accuracy": best["final_test_accuracy"], "best_setting": best["setting"],
                         "run": record.name})
    return rows, sources


def run(args, run):
    recipe = choose_recipe(args, FULL, QUICK)
    # Q3.1: shapes and operation counts, formula vs Keras vs TF profiler.
    q31 = [row for padding in ("same", "valid") for row in check_q31(padding)]
    run.save_table("q31_costs", q31)
    if not all(r.get("matches", True) for r in q31):
        raise HwkitError("a Q3.1 formula disagrees with Keras / the TF profiler; see tables/q31_costs.json")
    same = {r["step"]: r for r in q31 if r["padding"] == "SAME"}
    sep, plain = same["a+b) separable total"], same["c) plain 3x3 conv"]
    max_diff = separable_equals_depthwise_then_pointwise(args.seed)
    timing = time_q31(repeats=recipe.timing_repeats, batch=recipe.timing_batch)
    print(f"Q3.1 separable {sep['mults']:,} vs plain {plain['mults']:,} multiplications "
          f"({plain['mults'] / sep['mults']:.2f}x fewer); measured speed-up {timing['speedup']:.2f}x")

    # Q3.2: parameters of model 4 vs model 5, each layer's formula against Keras' count_params().
    model4, model5 = c_coursework.coursework_model(4), c_coursework.coursework_model(5)
    q32 = layer_parameter_formulas(model4) + layer_parameter_formulas(model5)
    run.save_table("q32_parameters", q32)
    if not all(r["matches"] for r in q32):
        raise HwkitError("a Q3.2 parameter formula disagrees with Keras' count_params()")
    totals = {}
    for m in (model4, model5):
        rows = [r for r in q32 if r["model"] == m.name]
        hidden = next(r for r in rows if r["layer"] == "hidden")   # the dense layer after the flatten
        totals[m.name] = {"formula": sum(r["parameters"] for r in rows), "keras": m.count_params(),
                          "conv": sum(r["parameters"] for r in rows if "conv" in r["layer"]),
                          "dense_after_flatten": hidden["parameters"], "dense_formula": hidden["formula"],
                          "dense_fraction": hidden["parameters"] / m.count_params()}
    run.save_table("separable_ratio", separable_ratio_rows())
    comparison, sources = accuracy_comparison(args.quick)
    run.save_table("accuracy_comparison", comparison)
    print(f"Q3.2 parameters: {totals}")

    run.log(q31_separable_mults=sep["mults"], q31_plain_mults=plain["mults"],
            q31_mult_ratio=plain["mults"] / sep["mults"], q31_separable_weights=sep["weights"],
            q31_plain_weights=plain["weights"], separable_vs_depthwise_pointwise_max_diff=max_diff,
            timing=timing, parameters=totals,
            model4_parameters=model4.count_params(), model5_parameters=model5.count_params(),
            model5_to_model4_parameters=model5.count_params() / model4.count_params(),
            accuracy_answer=c_coursework.convolution_answer(comparison), comparison_sources=sources)


if __name__ == "__main__":
    raise SystemExit(task_main(__spec__.name))
