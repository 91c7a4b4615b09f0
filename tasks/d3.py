"""D3: backpropagation through a sigmoid/softmax MLP: dE/df2 = o - y and dE/dx, checked by finite differences.

Assignment D, theory problem 3, in the text's notation (row vectors):

    f1 = x W1 + b1  (1xM),  a = s(f1),  f2 = a W2 + b2  (1xK),  o = S(f2),  E = -sum_i y_i log o_i

(a) dE/do_i = -y_i / o_i and do_i/df2_j = o_i (d_ij - o_j), so
    dE/df2_j = sum_i (-y_i / o_i) o_i (d_ij - o_j) = -y_j + o_j sum_i y_i = o_j - y_j   (one-hot y: sum y = 1).
(b) dE/da = (o - y) W2^T,  dE/df1 = dE/da * a * (1 - a)  (elementwise, s' = s(1 - s)),
    dE/dx = [((o - y) W2^T) * a * (1 - a)] W1^T   (1xN).

Both formulas are compared with central finite differences (float64, step 1e-6) and with
TensorFlow autodiff on random networks of several sizes; the "sum y = 1" condition is shown to
matter by repeating (a) with a label vector that does not sum to one.
"""
from __future__ import annotations

import numpy as np

from hwkit import findings
from hwkit.assignments import d_findings
from hwkit.assignments.d_theory import (
    FD_STEP,
    SIZES,
    autodiff,
    cross_entropy,
    finite_difference,
    forward,
    grad_f2,
    grad_x,
    random_problem,
    rel_error,
    softmax,
)
from hwkit.task import main


def run(args, run):
    rng = np.random.default_rng(args.seed)
    rows = []
    for n, m, k in SIZES:
        x, y, params = random_problem(rng, n, m, k)
        _, _, f2, o = forward(x, params)
        g_f2, g_x = grad_f2(o, y), grad_x(x, y, params)
        fd_f2 = finite_difference(lambda v: cross_entropy(softmax(v), y), f2)
        fd_x = finite_difference(lambda v: cross_entropy(forward(v, params)[3], y), x)
        ad_f2, ad_x = autodiff(x, y, params)
        rows.append({"N": n, "M": m, "K": k, "loss": cross_entropy(o, y),
                     "f2_rel_err_fd": rel_error(g_f2, fd_f2), "f2_rel_err_autodiff": rel_error(g_f2, ad_f2),
                     "x_rel_err_fd": rel_error(g_x, fd_x), "x_rel_err_autodiff": rel_error(g_x, ad_x)})
    run.save_table("gradient_checks", rows)

    # Why the simplification needs sum(y) = 1: a label vector summing to 2 breaks o - y.
    x, y, params = random_problem(rng, *SIZES[1])
    y_bad = y.copy()
    y_bad[0, (np.argmax(y) + 1) % y.shape[1]] = 1.0
    _, _, f2, o = forward(x, params)
    fd_bad = finite_difference(lambda v: cross_entropy(softmax(v), y_bad), f2)
    general = o * y_bad.sum() - y_bad      # dE/df2 = o sum(y) - y in general
    worst = max(max(r["f2_rel_err_fd"], r["x_rel_err_fd"], r["f2_rel_err_autodiff"], r["x_rel_err_autodiff"])
                for r in rows)
    print(f"worst relative error over {len(rows)} random networks: {worst:.2e}")
    o_minus_y, general_form = rel_error(o - y_bad, fd_bad), rel_error(general, fd_bad)
    found = {"gradients": d_findings.gradient_agreement(worst),
             "sum_y": d_findings.sum_y_matters(o_minus_y, general_form)}
    run.log(findings=findings.as_dicts(found), worst_rel_error=worst, trials=len(rows), fd_step=FD_STEP,
            example_x=np.round(x, 4).tolist(),
            non_onehot_rel_err_o_minus_y=o_minus_y, non_onehot_rel_err_general=general_form)


if __name__ == "__main__":
    raise SystemExit(main(__spec__.name))
