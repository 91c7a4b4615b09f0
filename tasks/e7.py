"""E7: which layers commute with shifts - additive constant, ReLU, strided pooling, and whole CNNs - measured.

Theory question 2: for each operator f and input shift s, find the output shift t that best
explains f(S_s x) (``hwkit.assignments.e_shift.best_output_shift``). Verdicts are computed from the errors:

* equivariant ("time invariant"): some t makes f(S_s x) = S_t f(x) up to round-off, for every s;
* invariant: f(S_s x) = f(x) (t = 0);
* neither: no t works - strided pooling with a shift that is not a multiple of its stride.

The operators: an additive constant, ReLU, 2x2 max and average pooling with stride 2, and three
small random CNNs built from these with circular-padded convolutions: (a) conv+bias+ReLU twice
(stride 1), (b) the same with a stride-2 max-pool after each block, (c) (b) followed by global
average pooling.
"""
from __future__ import annotations

import numpy as np

from hwkit.assignments import e_shift
from hwkit.task import main

IMAGE_SIZE = 16
CHANNELS = 2
CONSTANT = 0.7
SHIFTS = [(0, 1), (1, 1), (0, 2), (2, 2), (0, 4), (4, 4)]
TOLERANCE = 1e-9


def operators(rng: np.random.Generator) -> dict:
    """key -> (name, layer): the layers under test and the random CNNs made of them."""
    def conv_block(c_in: int, c_out: int):
        return [e_shift.circular_conv(rng.normal(size=(3, 3, c_in, c_out)) / 3, bias=rng.normal(size=c_out)),
                e_shift.relu]
    cnn = e_shift.compose(*conv_block(CHANNELS, 4), *conv_block(4, 4))
    cnn_pool = e_shift.compose(*conv_block(CHANNELS, 4), e_shift.max_pool(2), *conv_block(4, 4), e_shift.max_pool(2))
    return {
        "constant": (f"additive constant (+{CONSTANT})", e_shift.add_constant(CONSTANT)),
        "relu": ("pointwise nonlinearity (ReLU)", e_shift.relu),
        "max_pool": ("max pooling 2x2, stride 2", e_shift.max_pool(2)),
        "average_pool": ("average pooling 2x2, stride 2", e_shift.average_pool(2)),
        "cnn_a": ("CNN (a): 2 x [conv + bias + ReLU], stride 1", cnn),
        "cnn_b": ("CNN (b): 2 x [conv + bias + ReLU + max-pool /2]", cnn_pool),
        "cnn_c": ("CNN (c): (b) + global average pooling", e_shift.compose(cnn_pool, e_shift.global_average_pool)),
    }


def run(args, run):
    rng = np.random.default_rng(args.seed)
    x = rng.normal(size=(IMAGE_SIZE, IMAGE_SIZE, CHANNELS))
    rows, verdicts = [], {}
    for key, (name, f) in operators(rng).items():
        results = []
        for s in SHIFTS:
            t, err = e_shift.best_output_shift(f, x, s)
            results.append(err < TOLERANCE)
            rows.append({"operator": name, "input shift": str(s), "best output shift": str(t),
                         "error at best shift": err, "invariance error |f(Sx)-f(x)|": e_shift.invariance_error(f, x, s),
                         "output shifts with input": err < TOLERANCE})
        failing = [str(s) for s, ok in zip(SHIFTS, results) if not ok]
        invariant = all(r["invariance error |f(Sx)-f(x)|"] < TOLERANCE for r in rows if r["operator"] == name)
        kind = "invariant" if f(x).shape[:2] == (1, 1) else "equivariant"   # a 1x1 output can only be invariant
        verdicts[key] = {
            "operator": name,
            "equivariant_all_shifts": not failing,
            "invariant_all_shifts": invariant,
            "failing_shifts": failing,
            "verdict": ("shift invariant" if invariant else "shift equivariant (time invariant)") if not failing
            else f"NOT shift {kind} (fails for shifts {', '.join(failing)})",
        }
        print(f"{name}: {verdicts[key]['verdict']}")
    run.save_table("shifts", rows)
    run.save_table("verdicts", [{kk: vv for kk, vv in v.items() if kk != "failing_shifts"} for v in verdicts.values()])
    pool_failures = verdicts["max_pool"]["failing_shifts"]
    run.log(verdicts=verdicts, operators=len(verdicts), shifts=[list(s) for s in SHIFTS], tolerance=TOLERANCE,
            first_failing_shift_max_pool=pool_failures[0] if pool_failures else None,
            image_shape=[IMAGE_SIZE, IMAGE_SIZE, CHANNELS])


if __name__ == "__main__":
    raise SystemExit(main(__spec__.name))
