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
"""
from __future__ import annotations

import dataclasses
import time

import keras
import numpy as np

from hwkit import data, models, pca, training
from hwkit.task import choose_recipe, main

TEST_FRACTION = 0.2
HIDDEN = (256,)
BATCH_SIZE = 256
LEARNING_RATE = 2e-3


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
    steps = epochs * -(-len(x_train) // BATCH_SIZE)
    ae_seconds = {}
    for ld in latent_dims:
        keras.utils.set_random_seed(args.seed)
        model = models.dense_autoencoder(x_train.shape[1], ld, HIDDEN)
        model.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(LEARNING_RATE, steps)),
                      loss="mse")
        clock = training.WallClock()
        model.fit(training.dataset(x_train, x_train, BATCH_SIZE, shuffle=True, seed=args.seed),
                  epochs=epochs, verbose=2, callbacks=[clock])
        ae_seconds[ld] = clock.seconds
        rows.append({"method": "autoencoder", "latent_dim": ld,
                     "train_error": pca.reconstruction_error(x_train,
                                                             model.predict(x_train, batch_size=2048, verbose=0)),
                     "test_error": pca.reconstruction_error(x_test, model.predict(x_test, batch_size=2048, verbose=0)),
                     "explained_variance": None})
        print(f"l_d={ld}: PCA test ε {rows[latent_dims.index(ld)]['test_error']:.2f}, "
              f"autoencoder test ε {rows[-1]['test_error']:.2f}")
    run.save_table("errors", rows)

    # (c) Plot both against l_d, train and test.
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6.5, 4))
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

    # Observations, computed from the numbers.
    by = {(r["method"], r["latent_dim"]): r for r in rows}
    ae_better = [ld for ld in latent_dims if by[("autoencoder", ld)]["test_error"] < by[("PCA", ld)]["test_error"]]
    ratio = {str(ld): by[("PCA", ld)]["test_error"] / by[("autoencoder", ld)]["test_error"] for ld in latent_dims}
    best_gain = max(ratio, key=ratio.get)
    gap = {m: max(abs(by[(m, ld)]["test_error"] / by[(m, ld)]["train_error"] - 1) for ld in latent_dims)
           for m in ("PCA", "autoencoder")}
    run.log(images=n, train_images=len(x_train), test_images=len(x_test), latent_dims=latent_dims,
            epochs=epochs, hidden=list(HIDDEN), batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE,
            pca_seconds=round(pca_seconds, 2), autoencoder_seconds={str(k): round(v, 1) for k, v in ae_seconds.items()},
            autoencoder_better_at=ae_better, pca_better_at=[ld for ld in latent_dims if ld not in ae_better],
            pca_over_autoencoder_test=ratio, max_relative_train_test_gap=gap,
            autoencoder_largest_gain={"latent_dim": best_gain, "pca_over_autoencoder": ratio[best_gain]},
            pca_explained_variance={str(ld): by[("PCA", ld)]["explained_variance"] for ld in latent_dims},
            mean_image_error=pca.reconstruction_error(x_test, np.broadcast_to(fitted.mean, x_test.shape)))


if __name__ == "__main__":
    raise SystemExit(main(__spec__.name))
