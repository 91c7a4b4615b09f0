"""A3: a two-hidden-layer ReLU net h(x)=W3 ReLU(W2 ReLU(W1 x+b1)+b2)+b3 set to the identity and to a constant x0.

Assignment A, P3.1. The weights are written down (hwkit.assignments.a_identity), loaded into a Keras model
(hwkit.a_identity.two_hidden_relu_net) and checked on random inputs: a construction counts as
verified when max |h(x) - target| <= 1e-6. With the shapes of the text (b2 in R^n, so the
second hidden layer has n units) the identity holds on the half-space box {x_i >= -B} (any
B >= 0, here B = 1, which contains [0,1]^n) but cannot hold on all of R^n; we measure the failure
outside that domain and verify the 2n-wide variant that works on all of R^n. The constant map
h(x) = x0 (x0 = the A1/A2 training image, n = 784) holds on all of R^n.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from hwkit import findings
from hwkit.assignments import a_identity
from hwkit.task import choose_recipe, main

N = 784                   # x is a flattened 28x28 image, like the A1 MLP's input
SHIFT = 1.0               # B: the identity holds for every x with x_i >= -B
WIDE_SCALE = 100.0        # the all-of-R^n checks use N(0, WIDE_SCALE^2) inputs


@dataclasses.dataclass(frozen=True)
class Recipe:
    samples: int = 2_000          # random inputs per check


FULL = Recipe()
QUICK = Recipe(samples=200)


def add_arguments(parser):
    a_identity.add_data_arguments(parser)


def run(args, run):
    rng = np.random.default_rng(args.seed)
    samples = choose_recipe(args, FULL, QUICK).samples
    d = a_identity.one_example_data(args.data_dir, args.digit, args.occurrence)
    x0 = d.x_train.reshape(N)
    inputs = {
        "[0,1]^n (uniform)": rng.uniform(0, 1, (samples, N)),
        f"[-B, B+2]^n, B={SHIFT:g} (uniform)": rng.uniform(-SHIFT, SHIFT + 2, (samples, N)),
        f"R^n (normal, std {WIDE_SCALE:g})": rng.normal(0, WIDE_SCALE, (samples, N)),
    }
    inputs = {k: v.astype("float32") for k, v in inputs.items()}

    # The three constructions: (name, weights, target function, the domain on which it is claimed to hold).
    constructions = [
        ("identity (a = n)", a_identity.identity_weights(N, SHIFT), lambda x: x, {"[0,1]^n (uniform)",
         f"[-B, B+2]^n, B={SHIFT:g} (uniform)"}),
        ("identity, 2n wide", a_identity.wide_identity_weights(N), lambda x: x, set(inputs)),
        ("constant x0 (a = n)", a_identity.constant_weights(x0, N), lambda x: np.broadcast_to(x0, x.shape),
         set(inputs)),
    ]
    rows = []
    for name, weights, target, claimed in constructions:
        model = a_identity.two_hidden_relu_net(*weights)
        for domain, x in inputs.items():
            err = a_identity.max_error(model, x, target(x))
            rows.append({"construction": name, "inputs": domain, "claimed_domain": domain in claimed,
                         "max_abs_error": err, "verified": err <= a_identity.TOLERANCE,
                         "hidden_units": f"{weights[0].shape[0]}, {weights[2].shape[0]}",
                         "parameters": model.count_params()})
            print(f"{name:22s} on {domain:32s}: max |error| {err:.3g} "
                  f"({'claimed' if domain in claimed else 'outside the claimed domain'})")
    run.save_table("checks", rows)

    # Every claim must verify; outside its domain the a = n identity must visibly fail.
    check = a_identity.construction_check(rows)
    claimed_ok = check.verdict == a_identity.VERIFIED
    outside = [r["max_abs_error"] for r in rows if not r["claimed_domain"]]
    run.log(findings=findings.as_dicts({"constructions": check}), all_claims_verified=claimed_ok,
            tolerance=a_identity.TOLERANCE, n=N, shift=SHIFT, samples=samples,
            identity_error_outside_domain=max(outside) if outside else None,
            x0_digit=d.train_digit, x0_train_index=d.train_index)
    print(f"all claimed constructions verified to {a_identity.TOLERANCE:g}: {claimed_ok}")


if __name__ == "__main__":
    raise SystemExit(main(__spec__.name))
