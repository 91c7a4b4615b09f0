"""A4: a CNN g = output conv o hidden conv (c filters d x d) set to the identity, with identity and ReLU activation.

Assignment A, P3.2. Hidden layer: c filters of size d x d (d > 1 odd), stride 1, "same" zero
padding of (d-1)/2 pixels so the image keeps its n x n size; each filter is +-1 at the centre
of the window and 0 elsewhere (a shifted delta), bias 0. Output layer: one 1x1 filter, linear,
bias 0. With the identity activation c = 1 suffices (g(x) = 1 * x). With ReLU, c = 1 would
return ReLU(x) and lose negative pixels, so c = 2 with filters +delta and -delta and output
weights (+1, -1): ReLU(x) - ReLU(-x) = x. Every variant is built in Keras with the weights set
explicitly and checked on random images (uniform [0,1] and normal with negative values, two
sizes n) and on the MNIST test images; verified means max |g(x) - x| <= 1e-6.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from hwkit import data, findings, plots
from hwkit.assignments import a_identity
from hwkit.task import choose_recipe, main

KERNELS = (3, 5)          # d: odd filter sizes > 1 to check
SIZES = (28, 13)          # n: image sizes to check (the construction does not depend on n)
SCALE = 10.0              # the R^{n x n} checks use N(0, SCALE^2) pixels (about half negative)


@dataclasses.dataclass(frozen=True)
class Recipe:
    samples: int = 200            # random images per check


FULL = Recipe()
QUICK = Recipe(samples=20)


def _vector(v: np.ndarray) -> str:
    return "(" + ", ".join(f"{x:g}" for x in np.ravel(v)) + ")"


def _matrix(m: np.ndarray) -> str:
    return "[" + "; ".join(" ".join(f"{x:g}" for x in row) for row in m) + "]"


def run(args, run):
    rng = np.random.default_rng(args.seed)
    samples = choose_recipe(args, FULL, QUICK).samples
    (_, _), (x_test, _) = data.load_mnist(args.data_dir)
    inputs = {"MNIST test images (n=28)": data.to_float(x_test[:samples])}
    for n in SIZES:
        inputs[f"[0,1]^(n x n), n={n}"] = rng.uniform(0, 1, (samples, n, n, 1))
        inputs[f"R^(n x n), n={n}"] = rng.normal(0, SCALE, (samples, n, n, 1))
    inputs = {k: v.astype("float32") for k, v in inputs.items()}
    nonnegative = {k for k, v in inputs.items() if v.min() >= 0}

    # (activation, c): the construction of the text and, for contrast, ReLU with a single filter.
    variants = [("identity", 1, False, None), ("relu", 2, True, None), ("relu, c = 1 (fails on x < 0)", 1, True, 1)]
    rows, weights = [], []
    for d in KERNELS:
        for name, c, relu, filters in variants:
            model = a_identity.conv_identity_net(d, relu=relu, filters=filters)
            hidden, output = model.get_layer("hidden"), model.get_layer("output")
            for domain, x in inputs.items():
                err = a_identity.max_error(model, x, x)
                claimed = filters is None or domain in nonnegative
                rows.append({"activation": name, "c": c, "d": d, "inputs": domain, "claimed_domain": claimed,
                             "max_abs_error": err, "verified": err <= a_identity.TOLERANCE,
                             "output_shape_ok": model(x[:1]).shape == x[:1].shape,
                             "parameters": model.count_params()})
                print(f"d={d} {name:30s} on {domain:26s}: max |error| {err:.3g}")
            if d == KERNELS[0]:  # the filter values actually loaded into the model, for the report
                weights.append({"activation": name, "c": c, "d": d,
                                "hidden_filters": " | ".join(_matrix(hidden.kernel.numpy()[:, :, 0, k])
                                                             for k in range(c)),
                                "hidden_bias": _vector(hidden.bias.numpy()), "strides": str(hidden.strides),
                                "padding": hidden.padding, "output": f"1x1, weights {_vector(output.kernel.numpy())}, "
                                                                    f"bias {_vector(output.bias.numpy())}, linear"})
    run.save_table("checks", rows)
    run.save_table("weights", weights)

    # The d x d filters of the ReLU construction (d = KERNELS[0]) as a figure.
    relu_model = a_identity.conv_identity_net(KERNELS[0], relu=True)
    kernels = relu_model.get_layer("hidden").kernel.numpy()
    fig, axes = plots.figure(1, 2, width="full", height_cm=6.5)
    for k, (ax, name) in enumerate(zip(axes[0], ("filter 1: +delta", "filter 2: −delta"))):
        plots.matrix(ax, kernels[:, :, 0, k], fmt="{:g}", title=name, label="weight")
    run.save_figure(fig, "relu_filters")

    check = a_identity.construction_check(rows)
    claimed_ok = check.verdict == a_identity.VERIFIED
    single = [r["max_abs_error"] for r in rows if not r["claimed_domain"]]
    run.log(findings=findings.as_dicts({"constructions": check}), all_claims_verified=claimed_ok,
            tolerance=a_identity.TOLERANCE, kernels=list(KERNELS), sizes=list(SIZES),
            samples=samples, relu_single_filter_error_on_negatives=max(single) if single else None)
    print(f"all claimed constructions verified to {a_identity.TOLERANCE:g}: {claimed_ok}")


if __name__ == "__main__":
    raise SystemExit(main(__spec__.name))
