"""B5: PCA (numpy SVD) vs a dense autoencoder on MNIST: reconstruction error ε=||x−x̃||² vs latent dim, train and test.

Homework 5, task 5: split the images randomly 80:20 into train and test; (a) PCA and (b) an
autoencoder, each for the same latent dimensions l_d, recording ε = ||x − x̃||₂² on both splits;
(c) plot both against l_d and explain.

How: the 70 000 MNIST images (train + test files together), shuffled with the seed, of which a
``SUBSET``-image sample is used on the CPU and split 80:20. Pixels are scaled to [0, 1] and
flattened to 784 values; ε is the sum of squared pixel errors of one image, averaged over the
images of a split. PCA is the thin SVD of the centred training matrix. The autoencoder is
784 → 256 → l_d (linear code) → 256 → 784 (sigmoid), trained with the mean squared error — the
same objective as PCA, so the two differ only by the nonlinearity — with Adam and cosine decay
for a fixed number of epochs (nothing is tuned, so no validation split is needed).

Findings (``hwkit.assignments.b_reduction``): each autoencoder's fit check (out of the mean-image
plateau), autoencoder vs PCA per l_d by a paired bootstrap over the test images, and one test of a
cause: at the l_d where the autoencoder's *training* ε is worst relative to PCA's, it is trained
``LONGER``× as many epochs, to see whether its deficit is a training-budget effect.
"""
from __future__ import annotations

import dataclasses
import time

import keras
import numpy as np

from hwkit import data, findings, models, pca, plots, training
from hwkit.assignments import b_reduction
from hwkit.task import choose_recipe, main

TEST_FRACTION = 0.2
HIDDEN = (256,)
BATCH_SIZE = 256
LEARNING_RATE = 2e-3
LONGER = 3               # the budget test trains one autoencoder this many times as many epochs


@dataclasses.dataclass(frozen=True)
class Recipe:
    images: int = 20_000                                  # of the 70 000; 16 000 train / 4 000 test after 80:20
    latent_dims: tuple[int, ...] = (2, 4, 8, 16, 32, 64)
    epochs: int = 10


FULL = Recipe()
QUICK = Recipe(images=1_000, latent_dims=(2, 16), epochs=1)


def run(args, run):
    recipe = choose_recipe(args, FULL, QUICK)
    latent_dims, epochs = list(recipe.latent_dims), recipe.epochs

    # Data: all 70 000 images, a seeded random subset, a seeded random 80:20 split.
    (x_a, y_a), (x_b, y_b) = data.load_mnist(args.data_dir)
    images = np.concatenate([x_a, x_b]).reshape(-1, 28 * 28).astype(np.float32) / 255.0
    order = np.random.default_rng(args.seed).permutation(len(images))
    n = recipe.images
    chosen = images[order[:n]]
    n_test = int(round(n * TEST_FRACTION))
    x_train, x_test = chosen[n_test:], chosen[:n_test]

    # (a) PCA by SVD, fitted on the training split only.
    started = time.perf_counter()
    fitted = pca.fit_pca(x_train)
    pca_seconds = time.perf_counter() - started
    rows = []
    for ld in latent_dims:
        rows.append({"method": "PCA", "latent_dim": ld,
                     "train_error": pca.reconstruction_error(x_train, fitted.reconstruct(x_train, ld)),
                     "test_error": pca.reconstruction_error(x_test, fitted.reconstruct(x_test, ld)),
                     "explained_variance": fitted.explained_variance(ld)})

    # (b) The autoencoder for the same latent dimensions.
    ae_seconds, per_image = {}, {("PCA", ld): b_reduction.per_image_errors(x_test, fitted.reconstruct(x_test, ld))
                                 for ld in latent_dims}
    mean_train = pca.reconstruction_error(x_train, np.broadcast_to(fitted.mean, x_train.shape))
    fits = {}
    for ld in latent_dims:
        model, ae_seconds[ld] = train_autoencoder(x_train, ld, epochs, args.seed)
        per_image[("autoencoder", ld)] = b_reduction.per_image_errors(x_test, predict(model, x_test))
        train_error = pca.reconstruction_error(x_train, predict(model, x_train))
        fits[ld] = b_reduction.autoencoder_fit(train_error, mean_train)
        rows.append({"method": "autoencoder", "latent_dim": ld, "train_error": train_error,
                     "test_error": float(per_image[("autoencoder", ld)].mean()), "explained_variance": None,
                     "fit": fits[ld].verdict})
        print(f"l_d={ld}: PCA test ε {rows[latent_dims.index(ld)]['test_error']:.2f}, "
              f"autoencoder test ε {rows[-1]['test_error']:.2f} ({fits[ld].verdict})")
    run.save_table("errors", rows)

    # (c) Plot both against l_d, train and test.
    fig, axes = plots.figure(1, 1, width="half", height_cm=7)
    ax = axes[0, 0]
    for method, color in (("PCA", "C0"), ("autoencoder", "C3")):
        r = [row for row in rows if row["method"] == method]
        ax.plot(latent_dims, [row["train_error"] for row in r], "o-", color=color, label=f"{method} train")
        ax.plot(latent_dims, [row["test_error"] for row in r], "s--", color=color, label=f"{method} test")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xticks(latent_dims, [str(d) for d in latent_dims])
    ax.set_xlabel("latent dimension l_d")
    ax.set_ylabel("mean ε = ||x − x̃||² per image")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    run.save_figure(fig, "errors")

    # Findings: the autoencoder against PCA on the same test images, per l_d.
    by = {(r["method"], r["latent_dim"]): r for r in rows}
    vs_pca = {ld: b_reduction.autoencoder_vs_pca(per_image[("autoencoder", ld)], per_image[("PCA", ld)], fits[ld],
                                                 seed=args.seed) for ld in latent_dims}
    gaps = {m: b_reduction.summarise_gaps({ld: b_reduction.train_test_gap(by[(m, ld)]["train_error"],
                                                                         per_image[(m, ld)], seed=args.seed)
                                           for ld in latent_dims}, list(fits.values()) if m == "autoencoder" else ())
            for m in ("PCA", "autoencoder")}

    # The cause, tested: is the autoencoder's deficit a training budget? Train it LONGER x as long where its
    # training ε is worst relative to PCA's (chosen on training errors, never the test set).
    ld = b_reduction.budget_test_dim({m: {d: by[(m, d)]["train_error"] for d in latent_dims}
                                      for m in ("PCA", "autoencoder")})
    model, long_seconds = train_autoencoder(x_train, ld, LONGER * epochs, args.seed)
    long_test = b_reduction.per_image_errors(x_test, predict(model, x_test))
    long_train = pca.reconstruction_error(x_train, predict(model, x_train))
    long_fit = b_reduction.autoencoder_fit(long_train, mean_train)
    longer_vs_shorter = b_reduction.longer_vs_shorter(long_test, per_image[("autoencoder", ld)], long_fit, fits[ld],
                                                      seed=args.seed)
    longer_vs_pca = b_reduction.autoencoder_vs_pca(long_test, per_image[("PCA", ld)], long_fit, seed=args.seed)
    budget = b_reduction.budget_effect(longer_vs_shorter, longer_vs_pca, vs_pca[ld], fits[ld], long_fit)
    print(f"budget test at l_d={ld}: {LONGER * epochs} epochs, test ε {long_test.mean():.2f} "
          f"(was {per_image[('autoencoder', ld)].mean():.2f}, PCA {per_image[('PCA', ld)].mean():.2f}): "
          f"{budget.verdict}")

    run.log(images=n, train_images=len(x_train), test_images=len(x_test), latent_dims=latent_dims,
            epochs=epochs, hidden=list(HIDDEN), batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE,
            pca_seconds=round(pca_seconds, 2), autoencoder_seconds={str(k): round(v, 1) for k, v in ae_seconds.items()},
            pca_explained_variance={str(d): by[("PCA", d)]["explained_variance"] for d in latent_dims},
            mean_image_error=pca.reconstruction_error(x_test, np.broadcast_to(fitted.mean, x_test.shape)),
            mean_image_train_error=mean_train, plateau_fraction=b_reduction.PLATEAU_FRACTION,
            budget_test={"latent_dim": ld, "epochs": LONGER * epochs, "times": LONGER, "train_error": long_train,
                         "test_error": float(long_test.mean()), "seconds": round(long_seconds, 1)},
            findings=findings.as_dicts({
                **{f"fit_{d}": fits[d] for d in latent_dims},
                **{f"vs_pca_{d}": vs_pca[d] for d in latent_dims},
                "largest_gain": b_reduction.largest_gain(vs_pca),
                "pca_falls": b_reduction.errors_fall({d: per_image[("PCA", d)] for d in latent_dims}, seed=args.seed),
                "autoencoder_falls": b_reduction.errors_fall({d: per_image[("autoencoder", d)] for d in latent_dims},
                                                             list(fits.values()), seed=args.seed),
                "gap_pca": gaps["PCA"], "gap_autoencoder": gaps["autoencoder"],
                "longer_fit": long_fit, "longer_vs_shorter": longer_vs_shorter, "longer_vs_pca": longer_vs_pca,
                "budget": budget}))


def train_autoencoder(x_train: np.ndarray, latent_dim: int, epochs: int, seed: int) -> tuple[keras.Model, float]:
    """The 784 → HIDDEN → l_d → HIDDEN → 784 autoencoder, MSE, Adam with cosine decay over ``epochs``."""
    keras.utils.set_random_seed(seed)
    model = models.dense_autoencoder(x_train.shape[1], latent_dim, HIDDEN)
    steps = epochs * -(-len(x_train) // BATCH_SIZE)
    model.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(LEARNING_RATE, steps)),
                  loss="mse")
    clock = training.WallClock()
    model.fit(training.dataset(x_train, x_train, BATCH_SIZE, shuffle=True, seed=seed),
              epochs=epochs, verbose=2, callbacks=[clock])
    return model, clock.seconds


def predict(model: keras.Model, x: np.ndarray) -> np.ndarray:
    return model.predict(x, batch_size=2048, verbose=0)


if __name__ == "__main__":
    raise SystemExit(main(__spec__.name))
