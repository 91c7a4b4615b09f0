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

from hwkit import findings
from hwkit.assignments import d_findings
from hwkit.assignments.d_theory import (
    BETA,
    ETA_A,
    ETA_B,
    ETAS_C,
    GELU_GRID,
    GELU_K,
    LONG_STEPS,
    X0_A,
    X0_C,
    autodiff_grad,
    comparison_rows,
    figure,
    gelu,
    gelu_grad,
    gradient_descent,
    minimum,
    momentum,
    rows,
    velocities,
)
from hwkit.task import main


def run(args, run):
    # The gradient: hand formula vs autodiff.
    grad_error = float(np.max(np.abs(gelu_grad(GELU_GRID) - autodiff_grad(GELU_GRID))))
    print(f"max |hand - autodiff| gradient over {len(GELU_GRID)} points: {grad_error:.2e}")
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
    # Findings (exact computations): (a) vs (b), (b)'s overshoot and self-damping steps, (c) GD vs momentum
    # per step size, the tested reason (the velocity trails the current gradient), 60 steps, old vs new reading.
    found = {"b_vs_a": d_findings.closer_to_minimum(abs(a[-1] - x_min), abs(b[-1] - x_min)),
             "b_overshoot": d_findings.overshoot(b, x_min),
             "b_steps": d_findings.steps_shrink(b, [gelu_grad(x) for x in b])}
    winners = {"new": [], "old": []}
    for eta in ETAS_C:
        key, table = f"{eta:g}", comparison_rows(eta)
        found[f"c_eta{key}"] = d_findings.momentum_vs_gd(table[-1]["gd_gelu"], table[-1]["mom_gelu"])
        found[f"c_eta{key}_lag"] = d_findings.velocity_lags(*velocities(X0_C, eta))
        gd_long, mom_long = gradient_descent(X0_C, eta, LONG_STEPS), momentum(X0_C, eta, steps=LONG_STEPS)
        found[f"long_eta{key}"] = d_findings.momentum_vs_gd(gelu(gd_long[-1]), gelu(mom_long[-1]))
        found[f"long_eta{key}_gd_overshoot"] = d_findings.overshoot(gd_long, x_min)
        found[f"long_eta{key}_mom_overshoot"] = d_findings.overshoot(mom_long, x_min)
        for reading, column in (("new", "mom_gelu"), ("old", "mom_old_gelu")):
            winners[reading].append("GD" if table[-1]["gd_gelu"] < table[-1][column] else "momentum")
    found["old_reading"] = d_findings.same_winner(winners["new"], winners["old"])
    run.save_figure(figure(x_min), "gelu_descent")
    run.log(gradient_max_abs_error=grad_error, gradient_check_points=len(GELU_GRID),
            gradient_check_range=[float(GELU_GRID[0]), float(GELU_GRID[-1])], x_min=x_min, gelu_min=f_min,
            a_x3=a[-1], a_gelu3=gelu(a[-1]), b_x3=b[-1], b_gelu3=gelu(b[-1]),
            b_overshoots=bool(min(b) < x_min), a_overshoots=bool(min(a) < x_min),
            b_distance_to_min=abs(b[-1] - x_min), a_distance_to_min=abs(a[-1] - x_min),
            b_closer_factor=abs(a[-1] - x_min) / abs(b[-1] - x_min), b_gradients=[gelu_grad(x) for x in b],
            a_mean_step=float(np.mean(np.abs(np.diff(a)))),
            old_vs_new_max_diff=max(v["old_vs_new_max_diff"] for v in summary.values()),
            findings=findings.as_dicts(found),
            grad_at_0=gelu_grad(X0_A), grad_at_minus3=gelu_grad(X0_C), long_steps=LONG_STEPS, k=GELU_K, beta=BETA,
            **summary)


if __name__ == "__main__":
    raise SystemExit(main(__spec__.name))
