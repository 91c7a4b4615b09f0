"""Assignment D, theory problems 1-4 (D1-D4): the computations behind each answer, each with an independent check.

D1: GELU ~ x sigmoid(1.702 x), its hand-derived gradient, gradient descent and the two readings of
momentum (Eq. 5). D2: the smallest sigmoid MLPs for AND/OR/XOR/XNOR and the separability scan.
D3: backpropagation through a sigmoid/softmax MLP, finite differences and autodiff. D4: convolution
with padding and stride, "same" padding, average pooling and pooling as a convolution.
Numpy; TensorFlow/Keras only inside the functions that cross-check against them.
"""
from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np

from hwkit import HwkitError


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# ----------------------------------------------------------------------------- D1: GD and momentum on GELU

GELU_K = 1.702                  # GELU ~ x * sigmoid(K x)  (Eq. 2)
STEPS = 3
X0_A = 0.0                 # parts (a), (b)
ETA_A, ETA_B = 0.1, 1.0
X0_C = -3.0                # part (c)
ETAS_C = (0.1, 1.0)        # not given by the text: both shown
BETA = 0.9
LONG_STEPS = 60            # the longer horizon drawn in the figure (beyond the three asked for)
GELU_GRID = np.linspace(-6.0, 6.0, 241)   # points where hand gradient and autodiff are compared

# What D's PDF states about D1's set-up (``facts`` in templates/D.html): start points and step sizes.
REPORT_FACTS = {"x0_a": X0_A, "eta_a": ETA_A, "eta_b": ETA_B, "x0_c": X0_C, "etas_c": list(ETAS_C)}


def gelu(x):
    """Eq. 2: the sigmoid approximation of GELU."""
    return x * sigmoid(GELU_K * x)


def gelu_grad(x):
    """Hand-derived dGELU/dx = s(kx) + k x s(kx)(1 - s(kx))."""
    s = sigmoid(GELU_K * x)
    return s + GELU_K * x * s * (1.0 - s)


def autodiff_grad(x: np.ndarray) -> np.ndarray:
    """dGELU/dx by TensorFlow's reverse-mode autodiff (float64), independent of ``gelu_grad``."""
    import tensorflow as tf
    xs = tf.constant(x, dtype=tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(xs)
        y = xs * tf.sigmoid(GELU_K * xs)
    return tape.gradient(y, xs).numpy()


def gradient_descent(x0: float, eta: float, steps: int = STEPS) -> list[float]:
    """x_0 ... x_steps of x_{t+1} = x_t - eta f'(x_t)."""
    xs = [x0]
    for _ in range(steps):
        xs.append(xs[-1] - eta * gelu_grad(xs[-1]))
    return xs


def momentum(x0: float, eta: float, beta: float = BETA, steps: int = STEPS, reading: str = "new") -> list[float]:
    """x_0 ... x_steps of Eq. 5 with v0 = f'(x0); ``reading`` picks which v the x-update uses (see module doc)."""
    xs, v = [x0], gelu_grad(x0)
    for _ in range(steps):
        x = xs[-1]
        v_new = beta * v + (1 - beta) * gelu_grad(x)
        xs.append(x - eta * (v_new if reading == "new" else v))
        v = v_new
    return xs


def velocities(x0: float, eta: float, beta: float = BETA, steps: int = STEPS) -> tuple[list[float], list[float]]:
    """Eq. 5 ("new" reading): the velocity each step applies (v_t+1) and the gradient at that step's x_t."""
    xs, v, used, grads = [x0], gelu_grad(x0), [], []
    for _ in range(steps):
        g = gelu_grad(xs[-1])
        v = beta * v + (1 - beta) * g
        used.append(float(v))
        grads.append(float(g))
        xs.append(xs[-1] - eta * v)
    return used, grads


def rows(xs: list[float]) -> list[dict]:
    return [{"t": t, "x": x, "gelu": gelu(x), "grad": gelu_grad(x)} for t, x in enumerate(xs)]


def comparison_rows(eta: float) -> list[dict]:
    """Side by side: GD and both momentum readings from x0 = -3 with step size eta."""
    gd, new, old = gradient_descent(X0_C, eta), momentum(X0_C, eta), momentum(X0_C, eta, reading="old")
    return [{"t": t, "gd_x": gd[t], "gd_gelu": gelu(gd[t]), "mom_x": new[t], "mom_gelu": gelu(new[t]),
             "mom_old_x": old[t], "mom_old_gelu": gelu(old[t])} for t in range(STEPS + 1)]


def minimum() -> tuple[float, float]:
    """The minimiser of GELU by bisection on f' (f' < 0 left of it, > 0 right of it, on [-3, 0])."""
    lo, hi = -3.0, 0.0
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if gelu_grad(mid) < 0 else (lo, mid)
    return lo, gelu(lo)


def figure(x_min: float):
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator
    # The page's full width (16 cm), 8 pt legends: the house style of hwkit.plots, which this module
    # (imported by the hand-in, allowed numpy and matplotlib only) cannot import.
    fig, axes = plt.subplots(1, 2, figsize=(16 / 2.54, 8.5 / 2.54), layout="constrained")
    xs = np.linspace(-4, 2, 400)
    ax = axes[0]
    ax.plot(xs, gelu(xs), color="k", lw=1, label="GELU(x) ~ x s(1.702x)")
    for x, label, marker in ((gradient_descent(X0_A, ETA_A), "(a) GD eta=0.1 from 0", "o"),
                             (gradient_descent(X0_A, ETA_B), "(b) GD eta=1 from 0", "s"),
                             (gradient_descent(X0_C, 1.0), "(c) GD eta=1 from -3", "^"),
                             (momentum(X0_C, 1.0), "(c) momentum eta=1 from -3", "v")):
        ax.plot(x, gelu(np.array(x)), marker=marker, ls="--", ms=5, label=label)
    ax.axvline(x_min, color="grey", lw=0.7, ls=":")
    ax.set_xlabel("x"), ax.set_ylabel("GELU(x)"), ax.grid(alpha=0.3), ax.legend(fontsize=8)
    ax.set_title("the three steps of each part", fontsize=9)
    ax = axes[1]
    t = np.arange(LONG_STEPS + 1)
    for eta in ETAS_C:
        ax.plot(t, gelu(np.array(gradient_descent(X0_C, eta, LONG_STEPS))), label=f"GD eta={eta}")
        ax.plot(t, gelu(np.array(momentum(X0_C, eta, steps=LONG_STEPS))), ls="--", label=f"momentum eta={eta}")
    ax.axhline(gelu(x_min), color="grey", lw=0.7, ls=":", label="minimum")
    ax.set_xlabel("step t"), ax.set_ylabel("GELU(x_t)"), ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=2)   # below: the curves fill the panel
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(f"from x0 = -3, {LONG_STEPS} steps (beyond the 3 asked)", fontsize=9)
    for a in axes:
        a.tick_params(labelsize=8)
        a.xaxis.label.set_size(8), a.yaxis.label.set_size(8)
    return fig


# ----------------------------------------------------------------------------- D2: logic gates as sigmoid MLPs

INPUTS = np.array(list(itertools.product([0, 1], repeat=2)), dtype=np.float64)   # rows (A, B)
TRUTH = {"AND": [0, 0, 0, 1], "OR": [0, 1, 1, 1], "XOR": [0, 1, 1, 0], "XNOR": [1, 0, 0, 1]}
GATE_WEIGHT = 20.0   # weight scale that saturates the hidden sigmoids

# Each network: list of layers (weights shape (inputs, units), bias shape (units,)).
NETWORKS: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {
    "AND": [(np.array([[1.0], [1.0]]), np.array([-1.5]))],
    "OR": [(np.array([[1.0], [1.0]]), np.array([-0.5]))],
    # hidden: h1 = OR(A, B), h2 = NAND(A, B); output: AND(h1, h2)
    "XOR": [(np.array([[GATE_WEIGHT, -GATE_WEIGHT], [GATE_WEIGHT, -GATE_WEIGHT]]),
             np.array([-GATE_WEIGHT / 2, 1.5 * GATE_WEIGHT])),
            (np.array([[GATE_WEIGHT], [GATE_WEIGHT]]), np.array([-1.5 * GATE_WEIGHT]))],
    # hidden: h1 = AND(A, B), h2 = NOR(A, B); output: OR(h1, h2)
    "XNOR": [(np.array([[GATE_WEIGHT, -GATE_WEIGHT], [GATE_WEIGHT, -GATE_WEIGHT]]),
              np.array([-1.5 * GATE_WEIGHT, GATE_WEIGHT / 2])),
             (np.array([[GATE_WEIGHT], [GATE_WEIGHT]]), np.array([-GATE_WEIGHT / 2]))],
}
NOT_EXAMPLE = {"as written: z = -A - 0.5": (-1.0, -0.5), "threshold reading: z = -A + 0.5": (-1.0, 0.5)}
GATE_GRID = np.linspace(-3, 3, 61)      # single-neuron weight/bias grid for the separability scan




def output_preactivation(layers: list[tuple[np.ndarray, np.ndarray]], x: np.ndarray) -> np.ndarray:
    """Forward pass: sigmoid hidden layers, and the output neuron's pre-activation z (shape (N,))."""
    a = x
    for i, (w, b) in enumerate(layers):
        z = a @ w + b
        a = sigmoid(z) if i < len(layers) - 1 else z
    return a[:, 0]


def hidden_distance_from_binary(layers: list[tuple[np.ndarray, np.ndarray]], x: np.ndarray = INPUTS) -> float:
    """Largest distance of a hidden sigmoid output from 0 or 1 over the inputs (0.0 without hidden layers)."""
    a, worst = x, 0.0
    for w, b in layers[:-1]:
        a = sigmoid(a @ w + b)
        worst = max(worst, float(np.max(np.minimum(a, 1 - a))))
    return worst


def classify(z: np.ndarray) -> np.ndarray:
    """The text's rule: class 1 if the output is >= 0, else 0."""
    return (z >= 0).astype(int)


def keras_predictions(layers: list[tuple[np.ndarray, np.ndarray]], x: np.ndarray) -> np.ndarray:
    """The same network as a Keras model with the hand weights loaded; returns the output pre-activation."""
    import keras
    model = keras.Sequential([keras.Input((2,))] + [
        keras.layers.Dense(w.shape[1], activation="sigmoid" if i < len(layers) - 1 else None, dtype="float64")
        for i, (w, _) in enumerate(layers)])
    for layer, (w, b) in zip(model.layers, layers):
        layer.set_weights([w, b])
    return model.predict(x, verbose=0)[:, 0]


def linearly_separable_on_grid(target: list[int]) -> bool:
    """Does any single neuron z = w1 A + w2 B + b with w1, w2, b on GATE_GRID classify all four rows?"""
    w1, w2, b = np.meshgrid(GATE_GRID, GATE_GRID, GATE_GRID, indexing="ij")
    z = w1[..., None] * INPUTS[:, 0] + w2[..., None] * INPUTS[:, 1] + b[..., None]
    return bool(np.any(np.all((z >= 0) == np.array(target, dtype=bool), axis=-1)))


def structure(layers) -> str:
    sizes = [layers[0][0].shape[0]] + [w.shape[1] for w, _ in layers]
    return " -> ".join(map(str, sizes))


# ----------------------------------------------------------------------------- D3: backpropagation

SIZES = [(4, 3, 2), (5, 4, 3), (10, 7, 5), (32, 16, 10)]   # (N, M, K) per random trial
FD_STEP = 1e-6




def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def forward(x, params):
    """The network of Fig. 4; returns (f1, a, f2, o)."""
    w1, b1, w2, b2 = params
    f1 = x @ w1 + b1
    a = sigmoid(f1)
    f2 = a @ w2 + b2
    return f1, a, f2, softmax(f2)


def cross_entropy(o, y) -> float:
    """Eq. 7."""
    return float(-np.sum(y * np.log(o)))


def grad_f2(o, y):
    """(a): dE/df2 = o - y (for labels summing to one)."""
    return o - y


def grad_x(x, y, params):
    """(b): dE/dx = [((o - y) W2^T) * a(1 - a)] W1^T."""
    w1, _, w2, _ = params
    _, a, _, o = forward(x, params)
    return ((grad_f2(o, y) @ w2.T) * a * (1 - a)) @ w1.T


def finite_difference(fn, v: np.ndarray, step: float = FD_STEP) -> np.ndarray:
    """Central differences of the scalar fn at every entry of v."""
    g = np.zeros_like(v)
    for idx in np.ndindex(v.shape):
        plus, minus = v.copy(), v.copy()
        plus[idx] += step
        minus[idx] -= step
        g[idx] = (fn(plus) - fn(minus)) / (2 * step)
    return g


def autodiff(x, y, params):
    """dE/df2 and dE/dx by TensorFlow (float64), independently of the formulas above."""
    import tensorflow as tf
    w1, b1, w2, b2 = (tf.constant(p) for p in params)
    xt = tf.constant(x)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(xt)
        f2 = tf.sigmoid(xt @ w1 + b1) @ w2 + b2
        tape.watch(f2)
        loss = -tf.reduce_sum(y * tf.math.log(tf.nn.softmax(f2)))
    return tape.gradient(loss, f2).numpy(), tape.gradient(loss, xt).numpy()


def random_problem(rng: np.random.Generator, n: int, m: int, k: int):
    x = rng.normal(size=(1, n))
    params = (rng.normal(size=(n, m)), rng.normal(size=(1, m)), rng.normal(size=(m, k)), rng.normal(size=(1, k)))
    y = np.eye(k)[[rng.integers(k)]]
    return x, y, params


def rel_error(a, b) -> float:
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(a)), np.max(np.abs(b)), 1e-12))


# ----------------------------------------------------------------------------- D4: convolution, padding, pooling

REQUIRED = ("feature_map", "filter1", "filter2")


def load_problem(path: Path) -> dict:
    """Read and validate the D4 input file; one readable error for anything wrong."""
    try:
        spec = json.loads(Path(path).read_text())
    except OSError as e:
        raise HwkitError(f"{path}: cannot read the D4 input file ({e.strerror})") from None
    except ValueError as e:
        raise HwkitError(f"{path}: not valid JSON ({e})") from None
    missing = [k for k in REQUIRED if k not in spec]
    if missing:
        raise HwkitError(f"{path}: missing key(s) {', '.join(missing)}; expected {', '.join(REQUIRED)}")
    problem = {"description": spec.get("description", "")}
    for key in REQUIRED:
        try:
            a = np.array(spec[key], dtype=np.float64)
        except (TypeError, ValueError):
            raise HwkitError(f"{path}: {key} must be a list of equal-length lists of numbers") from None
        if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] == 0:
            raise HwkitError(f"{path}: {key} must be a square 2-D matrix, found shape {a.shape}")
        problem[key] = a
    for key, default in (("filter2_padding", 1), ("pool_size", 2), ("pool_stride", 2)):
        value = spec.get(key, default)
        if not isinstance(value, int) or value < (0 if key == "filter2_padding" else 1):
            raise HwkitError(f"{path}: {key} must be a {'non-negative' if key == 'filter2_padding' else 'positive'} "
                             f"integer, found {value!r}")
        problem[key] = value
    n = len(problem["feature_map"])
    if len(problem["filter2"]) > n + 2 * problem["filter2_padding"]:
        raise HwkitError(f"{path}: filter2 ({len(problem['filter2'])}x{len(problem['filter2'])}) is larger than "
                         f"the padded feature map ({n + 2 * problem['filter2_padding']})")
    if problem["pool_size"] > n:
        raise HwkitError(f"{path}: pool_size {problem['pool_size']} is larger than the feature map ({n})")
    return problem


def output_size(n: int, k: int, p: int, s: int) -> int:
    """floor((n + 2p - k) / s) + 1 (symmetric padding p)."""
    return (n + 2 * p - k) // s + 1


def same_padding(k: int) -> tuple[int, int]:
    """(before, after) zero padding that keeps the size at stride 1: total k - 1, the extra one after (TF)."""
    return (k - 1) // 2, k // 2


def conv2d(feature_map: np.ndarray, kernel: np.ndarray, stride: int = 1,
           padding: tuple[int, int] | int = 0) -> np.ndarray:
    """Single-channel cross-correlation with zero padding (before, after) on both axes, then stride."""
    before, after = (padding, padding) if isinstance(padding, int) else padding
    x = np.pad(feature_map, ((before, after), (before, after)))
    k = len(kernel)
    out = (len(x) - k) // stride + 1
    return np.array([[np.sum(x[i * stride:i * stride + k, j * stride:j * stride + k] * kernel)
                      for j in range(out)] for i in range(out)])


def average_pool(feature_map: np.ndarray, size: int, stride: int) -> np.ndarray:
    """Mean over size x size windows, moved by stride, no padding."""
    out = (len(feature_map) - size) // stride + 1
    return np.array([[feature_map[i * stride:i * stride + size, j * stride:j * stride + size].mean()
                      for j in range(out)] for i in range(out)])


def tf_conv2d(feature_map: np.ndarray, kernel: np.ndarray, stride: int, padding: tuple[int, int]) -> np.ndarray:
    """The same operation by ``tf.nn.conv2d`` (explicit padding), for the cross-check."""
    import tensorflow as tf
    x = tf.constant(feature_map[None, :, :, None], tf.float64)
    w = tf.constant(kernel[:, :, None, None], tf.float64)
    pads = [[0, 0], list(padding), list(padding), [0, 0]]
    return tf.nn.conv2d(x, w, strides=stride, padding=pads).numpy()[0, :, :, 0]


def keras_average_pool(feature_map: np.ndarray, size: int, stride: int) -> np.ndarray:
    import keras
    layer = keras.layers.AveragePooling2D(size, strides=stride, padding="valid", dtype="float64")
    return keras.ops.convert_to_numpy(layer(feature_map[None, :, :, None]))[0, :, :, 0]


def matrix(a: np.ndarray) -> list[list[float]]:
    return [[round(float(v), 6) for v in row] for row in a]
