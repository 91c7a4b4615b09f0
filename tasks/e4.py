"""E4: the E2 classifier trained from scratch on only 100 labelled images; curves over training time; over-fitting.

Exercise 2, task 4: labels are scarce - only 100 labelled training images. The subset is fixed
and documented in ``hwkit.transfer.few_labels``: 10 images per digit drawn from the 60 000 MNIST
training images with a seeded RNG (seed ``FEW_LABELS_SEED``, independent of ``--seed``); E5 uses
the very same 100 images. The classifier (E1/E2 encoder architecture + 2-layer MLP, random
initialisation) is trained end to end for a fixed number of epochs with Adam at a constant
learning rate; there is no early stopping (with 100 labels there is no validation set to stop on).
After every epoch the loss and accuracy are measured on the 100 training images and on the full
test set - the test curves are monitoring only and choose nothing. Over-fitting is read off
these numbers by ``hwkit.transfer.overfitting_summary``.
"""
from __future__ import annotations

import time

import keras
import numpy as np

from hwkit import data, models, plots, training, transfer
from hwkit.cli import task_main

BATCH_SIZE = 20                  # 5 gradient steps per epoch over the 100 images
EPOCHS = 100                     # long enough to see where the test loss turns (500 steps)
LEARNING_RATE = 1e-3             # constant Adam rate: the plain recipe, no schedule to hide over-fitting
HIDDEN_UNITS = 64                # as E2

QUICK = dict(test=500, epochs=3)


def load_few_labels(args) -> tuple:
    """The fixed 100 labelled training images, their indices, and the test set (floats in [0, 1])."""
    (x_train, y_train), (x_test, y_test) = data.load_mnist(args.data_dir)
    idx = transfer.few_labels(y_train)
    if args.quick:
        x_test, y_test = data.subset(x_test, y_test, QUICK["test"], seed=args.seed)
    return (data.to_float(x_train[idx]), y_train[idx]), idx, (data.to_float(x_test), y_test)


def train_few_labels(classifier: keras.Model, train: tuple, test: tuple, args, run) -> tuple[dict, dict]:
    """The E4 recipe (also E5's): fit on the 100 images, measure train and test after every epoch.

    Saves the curves (figure + table); returns (over-fitting summary with timings, per-epoch curves).
    """
    epochs = args.epochs or (QUICK["epochs"] if args.quick else EPOCHS)
    models.compile_classifier(classifier, LEARNING_RATE)
    x, y = train
    monitor = training.EvaluateEverySamples(len(x), {"train": train, "test": test}, BATCH_SIZE)
    started = time.perf_counter()
    history = classifier.fit(training.dataset(x, y, BATCH_SIZE, shuffle=True, seed=args.seed), epochs=epochs,
                             verbose=2, callbacks=[monitor, *training.standard_callbacks(run.path)])
    seconds = time.perf_counter() - started
    curves = {k: monitor.series(k) for k in ("train_loss", "test_loss", "train_accuracy", "test_accuracy")}
    rows = [{"epoch": i + 1, "time_s": history.history["time_s"][i], **{k: v[i] for k, v in curves.items()}}
            for i in range(epochs)]
    run.save_table("curves", rows)
    run.save_figure(plots.learning_curves(curves, xlabel="epoch (5 gradient steps on the 100 images each)",
                                          title=f"{run.task.upper()}: 100 labelled images - train (evaluated "
                                                "after each epoch) vs test (monitoring only)"), "curves")
    summary = transfer.overfitting_summary(curves["train_loss"], curves["test_loss"],
                                           curves["train_accuracy"], curves["test_accuracy"])
    test_loss, test_accuracy = classifier.evaluate(*test, batch_size=1000, verbose=0)
    result = {**summary, "test_loss": float(test_loss), "test_accuracy": float(test_accuracy), "epochs": epochs,
              "batch_size": BATCH_SIZE, "learning_rate": LEARNING_RATE, "train_seconds": round(seconds, 1),
              "seconds_per_epoch": round(seconds / epochs, 3), "parameters": classifier.count_params()}
    return result, curves


def run(args, run):
    train, idx, test = load_few_labels(args)
    classifier = models.chain(models.conv_encoder(models.E_LATENT_DIM, fc=True, name="encoder"),
                              models.mlp_head(models.E_LATENT_DIM, HIDDEN_UNITS), name="classifier_100")
    result, _ = train_few_labels(classifier, train, test, args, run)
    print(f"100 labels from scratch: test accuracy {result['test_accuracy']:.4f}, "
          f"over-fitting {'yes' if result['overfitting'] else 'no'}")
    run.log(**result, subset_indices=idx.tolist(), subset_class_counts=np.bincount(train[1], minlength=10).tolist(),
            subset_seed=transfer.FEW_LABELS_SEED, test_rows=len(test[0]))


if __name__ == "__main__":
    raise SystemExit(task_main(__spec__.name))
