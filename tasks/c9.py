"""C9: Q3.3 — a rank-1 kernel k = k1^T k2 equals two 1-D convolutions (either order); \
a rank-2 kernel does not decompose.

The proof is in the report; this task checks every claim numerically with Keras' own
convolution (``keras.ops.conv``, a cross-correlation as in every deep-learning library) on a real
MNIST test digit and on random inputs:

1. applying k = k1^T k2 (N x M) equals applying the column kernel k1^T (N x 1) and then the row
   kernel k2 (1 x M), and equally the other way round (the two passes commute), with VALID and
   SAME padding; for the Sobel kernel of the text and for random non-symmetric kernels;
2. what must not be swapped is the *orientation*: running k1 along the rows and k2 down the
   columns applies k2^T k1 = k^T, a different filter;
3. counter-example: the Laplacian kernel has rank 2 (its singular values are computed), so no
   k1, k2 exist (any k1^T k2 has rank <= 1); its best rank-1 (separable) approximation leaves a
   residual equal to the second singular value, and its output differs; the SVD writes it as a
   sum of rank(k) separable pairs, which reproduces it exactly.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from hwkit import data, plots
from hwkit.assignments.c_convolutions import (
    LAPLACIAN,
    SOBEL_K1,
    SOBEL_K2,
    apply,
    check_rank_one,
    column_then_row,
    rank_analysis,
)
from hwkit.task import choose_recipe, main

RANDOM_SHAPES = [(3, 5), (5, 3), (7, 7)]   # (N, M) of the random rank-1 kernels
TOLERANCE = 1e-4                           # float32 round-off on [0, 1] images and O(1) kernels


@dataclasses.dataclass(frozen=True)
class Recipe:
    noise_images: int = 8                  # Gaussian-noise inputs beside the MNIST digit


FULL = Recipe()
QUICK = Recipe(noise_images=2)


def run(args, run):
    recipe = choose_recipe(args, FULL, QUICK)
    (_, _), (x_test, y_test) = data.load_mnist(args.data_dir)
    digit = data.to_float(x_test[:1], channel_axis=False)          # the first test image, a real digit
    rng = np.random.default_rng(args.seed)
    noise = rng.normal(size=(recipe.noise_images, 28, 28))

    # 1-2. rank-1 kernels: Sobel (text's Example 1) and random non-symmetric ones.
    rows = check_rank_one(digit, SOBEL_K1, SOBEL_K2, "Sobel [1,2,1]^T [-1,0,1] on an MNIST digit")
    rows += check_rank_one(noise, SOBEL_K1, SOBEL_K2, "Sobel on Gaussian noise")
    for n, m in RANDOM_SHAPES:
        rows += check_rank_one(noise, rng.normal(size=n), rng.normal(size=m), f"random k1 (1x{n}), k2 (1x{m})")
    run.save_table("rank_one_checks", rows)
    worst = max(max(r["column_then_row_diff"], r["row_then_column_diff"]) for r in rows)
    wrong = min(r["wrong_orientation_diff"] for r in rows if r["wrong_orientation_diff"] is not None)
    print(f"rank-1 kernels: largest |2-D - two 1-D passes| = {worst:.2e} (either order); "
          f"smallest difference with the orientation swapped = {wrong:.3f}")

    # 3. the counter-example.
    laplacian = rank_analysis(LAPLACIAN, digit)
    sobel = rank_analysis(np.outer(SOBEL_K1, SOBEL_K2), digit)
    print(f"Laplacian: rank {laplacian['rank']}, singular values {np.round(laplacian['singular_values'], 4)}")

    images = [digit[0], apply(digit, np.outer(SOBEL_K1, SOBEL_K2), "same")[0],
              column_then_row(digit, SOBEL_K1, SOBEL_K2, "same")[0],
              apply(digit, LAPLACIAN, "same")[0], apply(digit, np.array(laplacian["best_rank1_kernel"]), "same")[0]]
    titles = [f"test digit ({y_test[0]})", "Sobel as one 3x3 kernel", "[1,2,1]^T then [-1,0,1]",
              "Laplacian (rank 2)", "best separable approx."]
    run.save_figure(plots.image_grid(np.stack(images), titles, ncols=5, size=2.0, vmin=None, vmax=None),
                    "kernels")
    run.log(max_rank_one_diff=worst, min_wrong_orientation_diff=wrong, tolerance=TOLERANCE,
            rank_one_equal=worst < TOLERANCE, orientation_matters=wrong > 100 * TOLERANCE,
            laplacian=laplacian, sobel=sobel, laplacian_decomposes=laplacian["rank"] <= 1)


if __name__ == "__main__":
    raise SystemExit(main(__spec__.name))
