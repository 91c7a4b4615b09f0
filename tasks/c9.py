"""C9: Q3.3 — a rank-1 kernel k = k1^T k2 equals two 1-D convolutions (either order); a rank-2 kernel does not decompose.

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

import keras
import numpy as np

from hwkit import data, plots
from hwkit.cli import choose_recipe, task_main

SOBEL_K1, SOBEL_K2 = np.array([1.0, 2.0, 1.0]), np.array([-1.0, 0.0, 1.0])   # text's Example 1
LAPLACIAN = np.array([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])    # the counter-example
RANDOM_SHAPES = [(3, 5), (5, 3), (7, 7)]   # (N, M) of the random rank-1 kernels
TOLERANCE = 1e-4                           # float32 round-off on [0, 1] images and O(1) kernels


@dataclasses.dataclass(frozen=True)
class Recipe:
    noise_images: int = 8                  # Gaussian-noise inputs beside the MNIST digit


FULL = Recipe()
QUICK = Recipe(noise_images=2)


def apply(x: np.ndarray, kernel: np.ndarray, padding: str = "valid") -> np.ndarray:
    """Apply a 2-D kernel (rows x cols) to a single-channel image batch (B, H, W) with Keras' conv."""
    k = keras.ops.convert_to_tensor(kernel[:, :, None, None].astype(np.float32))
    out = keras.ops.conv(keras.ops.convert_to_tensor(x[..., None].astype(np.float32)), k, padding=padding)
    return keras.ops.convert_to_numpy(out)[..., 0]


def column_then_row(x: np.ndarray, k1: np.ndarray, k2: np.ndarray, padding: str) -> np.ndarray:
    """k1^T (N x 1) down the columns first, then k2 (1 x M) along the rows."""
    return apply(apply(x, k1[:, None], padding), k2[None, :], padding)


def row_then_column(x: np.ndarray, k1: np.ndarray, k2: np.ndarray, padding: str) -> np.ndarray:
    """k2 (1 x M) along the rows first, then k1^T (N x 1) down the columns."""
    return apply(apply(x, k2[None, :], padding), k1[:, None], padding)


def check_rank_one(x: np.ndarray, k1: np.ndarray, k2: np.ndarray, name: str) -> list[dict]:
    """Max |difference| between the 2-D kernel and the 1-D passes, both orders and both paddings."""
    k = np.outer(k1, k2)   # k1^T k2
    rows = []
    for padding in ("valid", "same"):
        full = apply(x, k, padding)
        swapped = apply(x, np.outer(k2, k1), padding) if k.shape[0] == k.shape[1] else None
        rows.append({"kernel": name, "shape": f"{k.shape[0]}x{k.shape[1]}", "padding": padding.upper(),
                     "rank": int(np.linalg.matrix_rank(k)),
                     "column_then_row_diff": float(np.abs(full - column_then_row(x, k1, k2, padding)).max()),
                     "row_then_column_diff": float(np.abs(full - row_then_column(x, k1, k2, padding)).max()),
                     "wrong_orientation_diff": None if swapped is None else float(np.abs(full - swapped).max()),
                     "output_scale": float(np.abs(full).max())})
    return rows


def rank_analysis(kernel: np.ndarray, x: np.ndarray) -> dict:
    """Rank, singular values, best separable (rank-1) approximation and the exact SVD sum of separable pairs."""
    u, s, vt = np.linalg.svd(kernel)
    rank = int(np.linalg.matrix_rank(kernel))
    best_k1, best_k2 = u[:, 0] * np.sqrt(s[0]), vt[0] * np.sqrt(s[0])
    approx = np.outer(best_k1, best_k2)
    full = apply(x, kernel, "same")
    svd_sum = sum(column_then_row(x, u[:, i] * np.sqrt(s[i]), vt[i] * np.sqrt(s[i]), "same") for i in range(rank))
    return {"rank": rank, "singular_values": s.tolist(),
            "best_rank1_kernel": approx.tolist(),
            "best_rank1_spectral_error": float(np.linalg.norm(kernel - approx, 2)),
            "best_rank1_frobenius_error": float(np.linalg.norm(kernel - approx)),
            "best_rank1_output_diff": float(np.abs(full - column_then_row(x, best_k1, best_k2, "same")).max()),
            "output_scale": float(np.abs(full).max()),
            "svd_sum_of_separable_passes_diff": float(np.abs(full - svd_sum).max())}


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
    raise SystemExit(task_main(__spec__.name))
