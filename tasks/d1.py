"""D1: gradient descent and momentum on GELU(x) ~ x*sigmoid(1.702x), gradient by hand checked by autodiff.

Assignment D, theory problem 1. f(x) = GELU(x) = x s(kx) with s the sigmoid and k = 1.702.
Hand-derived gradient (product rule and s' = s(1 - s)):

    f'(x) = s(kx) + k x s(kx) (1 - s(kx))

checked against TensorFlow's automatic differentiation on a grid of points (float64).

(a) three GD steps x_{t+1} = x_t - eta f'(x_t) from x0 = 0 with eta = 0.1; (b) the same with eta = 1;
(c) from x0 = -3, three GD steps and three steps of GD with momentum (beta = 0.9, Eq. 5).
The text does not give eta for (c): both 0.1 and 1 are shown.

Eq. 5 reads v0 = f'(x0), v_{t+1} = beta v_t + (1 - beta) f'(x_t), x_{t+1} = x_t - eta v, with the
index of v in the last line missing. Reading "new" (used for the answer): the step uses the
freshly updated velocity, x_{t+1} = x_t - eta v_{t+1} (the usual exponentially weighted average).
Reading "old": the step uses the velocity before the update, x_{t+1} = x_t - eta v_t, so every
step applies the previous average (its first step is plain GD and its second reuses f'(x0)).
Both readings' numbers are tabulated.
"""
from __future__ import annotations

import numpy as np

from hwkit.cli import task_main

K = 1.702                  # GELU ~ x * sigmoid(K x)  (Eq. 2)
STEPS = 3
X0_A = 0.0                 # parts (a), (b)
ETA_A, ETA_B = 0.1, 1.0
X0_C = -3.0                # part (c)
ETAS_C = (0.1, 1.0)        # not given by the text: both shown
BETA = 0.9
LONG_STEPS = 60            # the longer horizon drawn in the figure (beyond the three asked for)
GRID = np.linspace(-6.0, 6.0, 241)   # points where hand gradient and autodiff are compared


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def gelu(x):
    """Eq. 2: the sigmoid approximation of GELU."""
    return x * sigmoid(K * x)


def gelu_grad(x):
    """Hand-derived dGELU/dx = s(kx) + k x s(kx)(1 - s(kx))."""
    s = sigmoid(K * x)
    return s + K * x * s * (1.0 - s)


def autodiff_grad(x: np.ndarray) -> np.ndarray:
    """dGELU/dx by TensorFlow's reverse-mode autodiff (float64), independent of ``gelu_grad``."""
    import tensorflow as tf
    xs = tf.constant(x, dtype=tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(xs)
        y = xs * tf.sigmoid(K * xs)
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
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    xs = np.linspace(-4, 2, 400)
    ax = axes[0]
    ax.plot(xs, gelu(xs), color="k", lw=1, label="GELU(x) ~ x s(1.702x)")
    for x, label, marker in ((gradient_descent(X0_A, ETA_A), "(a) GD eta=0.1 from 0", "o"),
                             (gradient_descent(X0_A, ETA_B), "(b) GD eta=1 from 0", "s"),
                             (gradient_descent(X0_C, 1.0), "(c) GD eta=1 from -3", "^"),
                             (momentum(X0_C, 1.0), "(c) momentum eta=1 from -3", "v")):
        ax.plot(x, gelu(np.array(x)), marker=marker, ls="--", ms=5, label=label)
    ax.axvline(x_min, color="grey", lw=0.7, ls=":")
    ax.set_xlabel("x"), ax.set_ylabel("GELU(x)"), ax.grid(alpha=0.3), ax.legend(fontsize=7)
    ax.set_title("the three steps of each part")
    ax = axes[1]
    t = np.arange(LONG_STEPS + 1)
    for eta in ETAS_C:
        ax.plot(t, gelu(np.array(gradient_descent(X0_C, eta, LONG_STEPS))), label=f"GD eta={eta}")
        ax.plot(t, gelu(np.array(momentum(X0_C, eta, steps=LONG_STEPS))), ls="--", label=f"momentum eta={eta}")
    ax.axhline(gelu(x_min), color="grey", lw=0.7, ls=":", label="minimum")
    ax.set_xlabel("step t"), ax.set_ylabel("GELU(x_t)"), ax.grid(alpha=0.3), ax.legend(fontsize=7)
    ax.set_title(f"from x0 = -3, {LONG_STEPS} steps (beyond the 3 asked)")
    fig.tight_layout()
    return fig


def run(args, run):
    # The gradient: hand formula vs autodiff.
    grad_error = float(np.max(np.abs(gelu_grad(GRID) - autodiff_grad(GRID))))
    print(f"max |hand - autodiff| gradient over {len(GRID)} points: {grad_error:.2e}")
    x_min, f_min = minimum()

    # (a), (b): GD from x0 = 0.
    a, b = gradient_descent(X0_A, ETA_A), gradient_descent(X0_A, ETA_B)
    run.save_table("a_gd_eta0.1", rows(a))
    run.save_table("b_gd_eta1", rows(b))

    # (c): GD vs momentum from x0 = -3, for both step sizes, both readings of Eq. 5.
    summary = {}
    for eta in ETAS_C:
        table = comparison_rows(eta)
        run.save_table(f"c_eta{eta:g}", table)
        last = table[-1]
        summary[f"c_eta{eta:g}"] = {
            "gd_x3": last["gd_x"], "gd_gelu3": last["gd_gelu"], "mom_x3": last["mom_x"],
            "mom_gelu3": last["mom_gelu"], "mom_old_gelu3": last["mom_old_gelu"],
            "gd_progress": last["gd_x"] - X0_C, "mom_progress": last["mom_x"] - X0_C,
            "faster": "GD" if last["gd_gelu"] < last["mom_gelu"] else "momentum",
            "long_gd_gelu": gelu(gradient_descent(X0_C, eta, LONG_STEPS)[-1]),
            "long_mom_gelu": gelu(momentum(X0_C, eta, steps=LONG_STEPS)[-1]),
            "long_faster": "GD" if gelu(gradient_descent(X0_C, eta, LONG_STEPS)[-1])
            < gelu(momentum(X0_C, eta, steps=LONG_STEPS)[-1]) else "momentum",
            "long_mom_overshoots": bool(max(momentum(X0_C, eta, steps=LONG_STEPS)) > x_min),
            "long_gd_overshoots": bool(max(gradient_descent(X0_C, eta, LONG_STEPS)) > x_min),
            "long_only_momentum_overshoots": bool(max(momentum(X0_C, eta, steps=LONG_STEPS)) > x_min
                                                  and not max(gradient_descent(X0_C, eta, LONG_STEPS)) > x_min),
            "old_vs_new_max_diff": max(abs(r["mom_x"] - r["mom_old_x"]) for r in table)}
    run.save_figure(figure(x_min), "gelu_descent")
    run.log(gradient_max_abs_error=grad_error, gradient_check_points=len(GRID),
            gradient_check_range=[float(GRID[0]), float(GRID[-1])], x_min=x_min, gelu_min=f_min,
            a_x3=a[-1], a_gelu3=gelu(a[-1]), b_x3=b[-1], b_gelu3=gelu(b[-1]),
            b_overshoots=bool(min(b) < x_min), a_overshoots=bool(min(a) < x_min),
            b_distance_to_min=abs(b[-1] - x_min), a_distance_to_min=abs(a[-1] - x_min),
            b_closer_factor=abs(a[-1] - x_min) / abs(b[-1] - x_min), b_gradients=[gelu_grad(x) for x in b],
            a_mean_step=float(np.mean(np.abs(np.diff(a)))),
            old_vs_new_max_diff=max(v["old_vs_new_max_diff"] for v in summary.values()),
            grad_at_0=gelu_grad(X0_A), grad_at_minus3=gelu_grad(X0_C), long_steps=LONG_STEPS, k=K, beta=BETA, **summary)


if __name__ == "__main__":
    raise SystemExit(task_main(__spec__.name))
