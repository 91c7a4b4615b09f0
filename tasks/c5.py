"""C5: Q2.1 — derivatives of the summed softmax cross-entropy w.r.t. scores z, input x, W and b, checked numerically.

Coursework 1, Question 2.1: (a) dloss/dz for the cross-entropy of Part 1; (b) for model 1
(linear + softmax) dloss/dx, dloss/dW and dloss/db. The derivation is written out in the report;
this task evaluates each closed-form result on random data and compares it with central finite
differences of the loss, written here directly in numpy (independent of hwkit.numpy_nn). It then
checks that the library's own backward passes (used by task c4) give the same numbers, and runs
the gradient check of every layer of the library.

Layout (the coursework's): a batch is rows, x (N, 784) -> z = x W + b with W (784, 10), b (10,),
so in column-vector form z_n = W^T x_n + b.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from hwkit import numpy_nn as nn
from hwkit.task import choose_recipe, main

N, C = 8, 10                         # batch and classes of model 1
TOLERANCE = 1e-6                     # relative error accepted (float64, h = 1e-6); a wrong formula gives O(1)
STEP = 1e-6                          # finite-difference step


@dataclasses.dataclass(frozen=True)
class Recipe:
    inputs: int = 784                # model 1's input size D


FULL = Recipe()
QUICK = Recipe(inputs=50)            # fewer inputs, so fewer finite differences


def loss_m1(x: np.ndarray, W: np.ndarray, b: np.ndarray, y: np.ndarray) -> float:
    """The coursework's loss: sum_n ( -z_n[y_n] + log sum_c exp z_n[c] ), z = x W + b (plain numpy)."""
    z = x @ W + b
    return float(np.sum(-z[np.arange(len(y)), y] + np.log(np.exp(z).sum(axis=1))))


def closed_forms(x, W, b, y) -> dict[str, np.ndarray]:
    """Q2.1's answers: G = softmax(z) - onehot(y) (N, C); dx = G W^T; dW = x^T G; db = sum_n G_n."""
    z = x @ W + b
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    G = p - np.eye(C)[y]
    return {"z": G, "x": G @ W.T, "W": x.T @ G, "b": G.sum(axis=0)}


def run(args, run):
    d = choose_recipe(args, FULL, QUICK).inputs
    rng = np.random.default_rng(args.seed)
    x = rng.random((N, d))                       # pixel-like inputs in [0, 1)
    W = nn.xavier_uniform(d, C, rng, dtype=np.float64)
    b = rng.normal(0, 0.1, C)
    y = rng.integers(0, C, N)
    analytic = closed_forms(x, W, b, y)

    # (a) dloss/dz: differentiate the loss as a function of the scores z directly.
    z = x @ W + b
    numeric = {"z": nn.numerical_gradient(
        lambda: float(np.sum(-z[np.arange(N), y] + np.log(np.exp(z).sum(axis=1)))), z, STEP)}
    # (b) dloss/dx, dloss/dW, dloss/db of model 1 through z = x W + b.
    for name, array in (("x", x), ("W", W), ("b", b)):
        numeric[name] = nn.numerical_gradient(lambda: loss_m1(x, W, b, y), array, STEP)

    # The library's backward (what c4 trains with) against the same closed forms.
    layer, loss = nn.Linear(d, C, dtype=np.float64), nn.SoftmaxCrossEntropy(reduction="sum")
    layer.W.data[...], layer.b.data[...] = W, b
    loss.forward(layer.forward(x), y)
    dz_lib = loss.backward()
    library = {"z": dz_lib, "x": layer.backward(dz_lib), "W": layer.W.grad, "b": layer.b.grad}

    formulas = {"z": "softmax(z) − onehot(y)  (N×10)", "x": "(softmax(z) − onehot(y)) Wᵀ  (N×784)",
                "W": "xᵀ (softmax(z) − onehot(y))  (784×10)", "b": "Σₙ (softmax(zₙ) − onehot(yₙ))  (10)"}
    rows = []
    for name in ("z", "x", "W", "b"):
        rows.append({"derivative": f"∂loss/∂{name}", "closed form": formulas[name],
                     "shape": "×".join(map(str, analytic[name].shape)),
                     "rel_error_vs_finite_diff": nn.relative_error(analytic[name], numeric[name]),
                     "max_abs_error_vs_finite_diff": float(np.max(np.abs(analytic[name] - numeric[name]))),
                     "max_abs_diff_library": float(np.max(np.abs(analytic[name] - library[name]))),
                     "passed": nn.relative_error(analytic[name], numeric[name]) < TOLERANCE
                     and nn.relative_error(analytic[name], library[name]) < TOLERANCE})
        print(f"d loss / d {name}: relative error {rows[-1]['rel_error_vs_finite_diff']:.2e} "
              f"(library differs by {rows[-1]['max_abs_diff_library']:.1e})")
    run.save_table("q21_checks", rows)

    # Every layer of the library, gradient-checked the same way.
    layer_rows = []
    # Non-zero biases: with zero biases a hidden unit fed by an all-dead layer sits exactly on ReLU's kink.
    def random_bias(d, dtype):
        return rng.normal(0, 0.5, d).astype(dtype)

    checks = {"Linear(6→4)": nn.Linear(6, 4, bias_init=random_bias, rng=rng, dtype=np.float64), "ReLU": nn.ReLU(),
              "Sigmoid": nn.Sigmoid(), "Tanh": nn.Tanh(),
              "Model 3 (6→5→5→4, ReLU)": nn.mlp(6, (5, 5), 4, bias_init=random_bias, rng=rng, dtype=np.float64)}
    for name, lay in checks.items():
        # Inputs kept away from ReLU's kink at 0, where the derivative is undefined.
        xin = rng.standard_normal((N, 6))
        xin += np.sign(xin) * 0.05
        errors = nn.check_layer(lay, xin, rng, STEP)
        layer_rows.append({"layer": name, "checked": ", ".join(errors), "rel_error": max(errors.values())})
    for reduction in ("sum", "mean"):
        err = nn.check_loss(nn.SoftmaxCrossEntropy(reduction), rng.standard_normal((N, C)), rng.integers(0, C, N), STEP)
        layer_rows.append({"layer": f"SoftmaxCrossEntropy({reduction})", "checked": "logits", "rel_error": err})
    for r in layer_rows:
        r["passed"] = r["rel_error"] < TOLERANCE
    run.save_table("layer_checks", layer_rows)

    run.log(**{f"rel_error_d{r['derivative'][-1]}": r["rel_error_vs_finite_diff"] for r in rows},
            max_rel_error_q21=max(r["rel_error_vs_finite_diff"] for r in rows),
            max_rel_error_layers=max(r["rel_error"] for r in layer_rows),
            all_passed=all(r["passed"] for r in rows + layer_rows), tolerance=TOLERANCE, step=STEP,
            batch=N, inputs=d, classes=C)
    if not all(r["passed"] for r in rows + layer_rows):
        print("WARNING: a gradient check failed; see tables/q21_checks.json and tables/layer_checks.json")


if __name__ == "__main__":
    raise SystemExit(main(__spec__.name))
