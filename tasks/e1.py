"""E1: convolutional autoencoder (separate encoder/decoder), latent d=12 with vs without an FC layer, mean L1 loss.

Exercise 2, task 1: encode MNIST digits into a d=12 latent space and decode them again, trained
on the mean L1 (absolute) reconstruction error. Two variants with the same convolutional trunk
(``hwkit.models.conv_encoder`` / ``conv_decoder``):

* with FC: 3 stride-2 convs to a 4x4x32 map, flattened, one linear Dense layer to d=12;
* without FC: one more stride-2 conv to a 2x2x3 map (also d=12), no fully-connected layer.

Both are trained with the same recipe (Adam, warm-up + cosine schedule, batch 128) on 55 000
training images, validated on 5 000 held-out training images; the test L1 is measured once at
the end. The encoder and decoder of each variant are saved as separate ``.keras`` files; E3 and
E5 load the FC variant's (``models/e1_encoder.keras``, ``models/e1_decoder.keras``).
"""
from __future__ import annotations

import time

import keras
import numpy as np

from hwkit import data, models, plots, training
from hwkit.cli import task_main

BATCH_SIZE = 128
EPOCHS = 12                      # unsupervised reconstruction converges slower than E2's classifier
LEARNING_RATE = 2e-3             # peak of the warm-up + cosine schedule
VALIDATION_FRACTION = 1 / 12     # 5 000 of the 60 000 training images
LATENT_DIM = models.E_LATENT_DIM
VARIANTS = {"with_FC": True, "no_FC": False}   # name -> fc flag; with_FC is the one E3/E5 reuse
SHOW_PER_CLASS = 2               # test digits per class in the input-vs-reconstruction figure

QUICK = dict(train=2_000, test=500, epochs=1)


def load_split(args) -> tuple:
    """MNIST as floats in [0, 1]: (x_fit, y_fit), (x_val, y_val), (x_test, y_test); tiny in quick mode."""
    (x_train, y_train), (x_test, y_test) = data.load_mnist(args.data_dir)
    if args.quick:
        x_train, y_train = data.subset(x_train, y_train, QUICK["train"], seed=args.seed)
        x_test, y_test = data.subset(x_test, y_test, QUICK["test"], seed=args.seed)
    x_train, x_test = data.to_float(x_train), data.to_float(x_test)
    fit, val = data.validation_split(x_train, y_train, VALIDATION_FRACTION, seed=args.seed)
    return fit, val, (x_test, y_test)


def train_autoencoder(model: keras.Model, x_fit: np.ndarray, x_val: np.ndarray, epochs: int, seed: int,
                      callbacks: list | None = None) -> tuple[dict, float]:
    """The E1 recipe (also E3's): compile with mean L1 and fit images onto themselves.

    Returns (Keras history dict, training seconds).
    """
    steps = -(-len(x_fit) // BATCH_SIZE)
    models.compile_autoencoder(model, LEARNING_RATE, total_steps=steps * epochs)
    started = time.perf_counter()
    history = model.fit(training.dataset(x_fit, x_fit, BATCH_SIZE, shuffle=True, seed=seed),
                        validation_data=(x_val, x_val), epochs=epochs, verbose=2, callbacks=callbacks or [])
    return history.history, time.perf_counter() - started


def per_class_examples(y: np.ndarray, per_class: int) -> np.ndarray:
    """Indices of the first ``per_class`` examples of each digit, ordered digit by digit."""
    return np.concatenate([np.flatnonzero(y == c)[:per_class] for c in range(10)])


def run(args, run):
    (x_fit, _), (x_val, _), (x_test, y_test) = load_split(args)
    epochs = args.epochs or (QUICK["epochs"] if args.quick else EPOCHS)

    # Train both variants with the same recipe: the only difference is the FC bottleneck.
    results, curves, recon = {}, {}, {}
    for name, fc in VARIANTS.items():
        encoder = models.conv_encoder(LATENT_DIM, fc=fc, name=f"encoder_{name}")
        decoder = models.conv_decoder(LATENT_DIM, fc=fc, name=f"decoder_{name}")
        autoencoder = models.chain(encoder, decoder, name=f"autoencoder_{name}")
        # history.csv (+ wall time) for the variant E3/E5 reuse; a history table for each.
        callbacks = training.standard_callbacks(run.path) if name == "with_FC" else [training.WallClock()]
        history, seconds = train_autoencoder(autoencoder, x_fit, x_val, epochs, args.seed, callbacks)
        test_l1 = float(autoencoder.evaluate(x_test, x_test, batch_size=1000, verbose=0))
        print(f"{name}: test mean L1 {test_l1:.4f} ({seconds:.0f} s)")
        run.save_table(f"history_{name}", [{"epoch": i + 1, **{k: float(v[i]) for k, v in history.items()}}
                                           for i in range(len(history["loss"]))])
        run.save_table(f"architecture_{name}", models.architecture_rows(autoencoder))
        suffix = "" if name == "with_FC" else f"_{name}"
        encoder.save(run.model_path(f"e1_encoder{suffix}.keras"))
        decoder.save(run.model_path(f"e1_decoder{suffix}.keras"))
        curves[f"{name}_loss"], curves[f"{name}_val_loss"] = history["loss"], history["val_loss"]
        recon[name] = autoencoder.predict(x_test, batch_size=1000, verbose=0)
        results[name] = {"test_l1": test_l1, "val_l1": float(history["val_loss"][-1]),
                         "train_l1": float(history["loss"][-1]), "train_seconds": round(seconds, 1),
                         "parameters": autoencoder.count_params(),
                         "encoder_parameters": encoder.count_params(), "decoder_parameters": decoder.count_params()}

    # Scores and figures: learning curves, input vs reconstruction for 2 test digits per class.
    run.save_figure(plots.learning_curves(curves, metrics=("loss",),
                                          title="E1 mean L1 per epoch (validation = 5 000 held-out training images)"),
                    "curves")
    shown = per_class_examples(y_test, SHOW_PER_CLASS)
    rows = [x_test[shown]] + [np.clip(recon[name][shown], 0, 1) for name in VARIANTS]
    titles = [f"input {y}" for y in y_test[shown]] + [name.replace("_", " ") for name in VARIANTS for _ in shown]
    run.save_figure(plots.image_grid(np.concatenate(rows), titles, ncols=len(shown), size=0.9), "reconstructions")
    better = min(results, key=lambda n: results[n]["val_l1"])   # chosen on validation, not test
    run.log(variants=results, test_l1=results["with_FC"]["test_l1"], better_on_validation=better,
            fc_gain_test_l1=results["no_FC"]["test_l1"] - results["with_FC"]["test_l1"],
            latent_dim=LATENT_DIM, filters=list(models.E_FILTERS), epochs=epochs, batch_size=BATCH_SIZE,
            learning_rate=LEARNING_RATE, train_rows=len(x_fit), validation_rows=len(x_val), test_rows=len(x_test),
            shown_test_indices=shown.tolist())


if __name__ == "__main__":
    raise SystemExit(task_main(__spec__.name))
