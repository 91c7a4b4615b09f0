"""E6: convolution commutes with shifts (LTI) - the proof's claim checked numerically for 1-D and 2-D convolutions.

Theory question 1: a convolution with any filter h is time/space invariant,
(h * S_s x) = S_s (h * x). The proof is in the report; this task checks the identity on random
signals and filters, for several shifts:

* 1-D true convolution (flipped filter), circular, computed from its definition in numpy;
* 2-D multi-channel convolution layer as Keras runs it (cross-correlation, ``keras.ops.conv``)
  with circular padding and a bias;
* the usual zero-padded ("same") 2-D convolution: exact away from the borders, not at them.
"""
from __future__ import annotations

import numpy as np

from hwkit.assignments import e_shift
from hwkit.task import main

SIGNAL_LENGTH = 32
IMAGE_SIZE = 16
CHANNELS_IN, CHANNELS_OUT, KERNEL = 2, 3, 3
SHIFTS = [(0, 1), (1, 0), (3, -2), (-5, 7), (8, 8)]
TOLERANCE = 1e-9                 # float64 round-off; a real violation is of order 1


def circular_convolution_1d(x: np.ndarray, h: np.ndarray) -> np.ndarray:
    """(h * x)[n] = sum_k h[k] x[(n - k) mod N] - the definition, nothing else."""
    n = np.arange(len(x))
    return np.array([sum(h[k] * x[(i - k) % len(x)] for k in range(len(h))) for i in n])


def run(args, run):
    rng = np.random.default_rng(args.seed)
    rows = []

    # 1-D: true convolution, circular shifts.
    x, h = rng.normal(size=SIGNAL_LENGTH), rng.normal(size=5)
    for s in (1, 3, -7, 16):
        err = float(np.max(np.abs(circular_convolution_1d(np.roll(x, s), h)
                                  - np.roll(circular_convolution_1d(x, h), s))))
        rows.append({"operator": "1-D circular convolution (definition)", "shift": str(s),
                     "max |h*(S x) - S(h*x)|": err, "commutes": err < TOLERANCE})

    # 2-D: Keras' convolution (cross-correlation) with circular padding and a bias.
    image = rng.normal(size=(IMAGE_SIZE, IMAGE_SIZE, CHANNELS_IN))
    kernel = rng.normal(size=(KERNEL, KERNEL, CHANNELS_IN, CHANNELS_OUT))
    conv = e_shift.circular_conv(kernel, bias=rng.normal(size=CHANNELS_OUT))
    for s in SHIFTS:
        err = e_shift.equivariance_error(conv, image, s, s)
        rows.append({"operator": "2-D conv layer, circular padding (keras.ops.conv)", "shift": str(s),
                     "max |h*(S x) - S(h*x)|": err, "commutes": err < TOLERANCE})

    # Zero padding: the borders break the identity, the interior keeps it.
    border_rows = []
    for s in SHIFTS[:3]:
        whole, interior = e_shift.zero_padded_error(kernel, image, s)
        border_rows.append({"shift": str(s), "max error, whole image": whole, "max error, interior": interior,
                            "interior commutes": interior < TOLERANCE, "whole image commutes": whole < TOLERANCE})
    run.save_table("commutes", rows)
    run.save_table("zero_padding", border_rows)
    print(f"convolution commutes with every tested shift: {all(r['commutes'] for r in rows)}")
    run.log(all_commute=all(r["commutes"] for r in rows), checks=len(rows),
            max_error=max(r["max |h*(S x) - S(h*x)|"] for r in rows), tolerance=TOLERANCE,
            zero_padding_interior_commutes=all(r["interior commutes"] for r in border_rows),
            zero_padding_whole_commutes=all(r["whole image commutes"] for r in border_rows),
            image_shape=[IMAGE_SIZE, IMAGE_SIZE, CHANNELS_IN], kernel_shape=list(kernel.shape))


if __name__ == "__main__":
    raise SystemExit(main(__spec__.name))
