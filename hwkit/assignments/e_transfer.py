"""Reusing what one run trained in another, and the scarce-label subset (assignment E3-E5).

* ``load_model_from_run``: E3 decodes E2's trained encoder, E5 fine-tunes E1's; both load the
  ``.keras`` file from the latest complete run of the producing task and record which run it was.
* ``balanced_subset`` / ``few_labels``: E4 and E5 must train on *the same* 100 labelled images.
  The selection is defined once here: 10 images per digit drawn from the 60 000 MNIST training
  images with ``numpy.random.default_rng(FEW_LABELS_SEED)``, independent of ``--seed`` so that
  every run of E4 and E5 sees the identical set.
"""
from __future__ import annotations

from hwkit import tf_runtime  # noqa: F401  (quiet TensorFlow import before Keras)

import time
from pathlib import Path

import keras
import numpy as np

from hwkit import HwkitError, data, models, plots, runs, training

FEW_LABELS_PER_CLASS = 10     # 10 digits x 10 = the assignment's 100 labelled examples
FEW_LABELS_SEED = 100         # fixed: the subset must not change with --seed
QUICK_TEST_ROWS = 500         # test rows kept by a quick (smoke) run

# The few-label recipe (E4 from scratch, E5 fine-tuned): plain Adam, no schedule to hide over-fitting.
FEW_LABELS_BATCH_SIZE = 20    # 5 gradient steps per epoch over the 100 images
FEW_LABELS_EPOCHS = 100       # long enough to see where the test loss turns (500 steps)
FEW_LABELS_QUICK_EPOCHS = 3
FEW_LABELS_LEARNING_RATE = 1e-3
HEAD_HIDDEN_UNITS = 64        # the classifier head's hidden layer, as E2


def balanced_subset(y: np.ndarray, per_class: int, seed: int) -> np.ndarray:
    """Sorted indices of ``per_class`` examples of every class in ``y``, chosen with a seeded RNG."""
    rng = np.random.default_rng(seed)
    picked = []
    for c in np.unique(y):
        members = np.flatnonzero(y == c)
        if len(members) < per_class:
            raise HwkitError(f"class {c} has only {len(members)} examples, {per_class} were requested")
        picked.append(rng.choice(members, per_class, replace=False))
    return np.sort(np.concatenate(picked))


def few_labels(y_train: np.ndarray) -> np.ndarray:
    """Indices (into the full 60 000-image MNIST training set) of the 100 labelled examples of E4/E5."""
    if len(y_train) != 60000:
        raise HwkitError(f"the 100-label subset is defined on the full MNIST training set (60000), got {len(y_train)}")
    return balanced_subset(y_train, FEW_LABELS_PER_CLASS, FEW_LABELS_SEED)


def load_model_from_run(task: str, filename: str, quick: bool) -> tuple[keras.Model, runs.RunRecord]:
    """The model ``models/<filename>`` of the latest complete run of ``task`` and that run.

    A full run is preferred; ``quick=True`` lets a quick run stand in (quick mode and its tests).
    """
    record = runs.latest_run(task, include_quick=quick)
    path = record.path / "models" / filename if record else None
    if path is None or not Path(path).is_file():
        kind = "complete run" if quick else "complete full run"
        raise HwkitError(f"no {kind} of {task} with models/{filename} under {runs.runs_root() / task}: "
                         f"run python -m tasks.{task}{' --quick' if quick else ''} first")
    try:   # safe_mode: a .keras file may not smuggle code in (e.g. a Lambda layer's bytecode)
        return keras.models.load_model(path, safe_mode=True), record
    except Exception as e:  # truncated zip, wrong architecture, refused unsafe content ...
        raise HwkitError(f"cannot load the model {path}: {type(e).__name__}: {str(e).splitlines()[0][:160]}; "
                         f"rerun python -m tasks.{task}{' --quick' if quick else ''}") from None


def overfitting_summary(train_loss: list[float], test_loss: list[float], train_accuracy: list[float],
                        test_accuracy: list[float], gap_threshold: float = 0.05, rise_threshold: float = 0.05) -> dict:
    """Over-fitting read off per-epoch curves (E4/E5): the numbers and the verdict they imply.

    Over-fitting is declared when both hold at the end of training:
    * generalisation gap: train accuracy exceeds test accuracy by more than ``gap_threshold``;
    * rising test loss: the final test loss is more than ``rise_threshold`` (relative) above its
      minimum while the train loss kept falling after that epoch.
    The test curves are monitoring only: nothing is stopped or chosen on them.
    """
    best = int(min(range(len(test_loss)), key=test_loss.__getitem__))
    rise = test_loss[-1] / test_loss[best] - 1
    gap = train_accuracy[-1] - test_accuracy[-1]
    first_perfect = next((i + 1 for i, a in enumerate(train_accuracy) if a >= 1.0), None)
    train_kept_falling = train_loss[-1] < train_loss[best]
    return {
        "final_train_loss": train_loss[-1], "final_test_loss": test_loss[-1],
        "final_train_accuracy": train_accuracy[-1], "final_test_accuracy": test_accuracy[-1],
        "accuracy_gap": gap, "loss_gap": test_loss[-1] - train_loss[-1],
        "min_test_loss": test_loss[best], "min_test_loss_epoch": best + 1,
        "test_loss_rise_after_min": rise, "train_loss_at_min_test_loss": train_loss[best],
        "train_loss_kept_falling": bool(train_kept_falling),
        "max_test_accuracy": max(test_accuracy),
        "max_test_accuracy_epoch": int(max(range(len(test_accuracy)), key=test_accuracy.__getitem__)) + 1,
        "first_epoch_train_accuracy_100": first_perfect,
        "gap_exceeds_threshold": bool(gap > gap_threshold),
        "test_loss_rising": bool(rise > rise_threshold and train_kept_falling),
        "overfitting": bool(gap > gap_threshold and rise > rise_threshold and train_kept_falling),
        "gap_threshold": gap_threshold, "rise_threshold": rise_threshold,
    }


def load_few_labels(data_dir=None, quick: bool = False, seed: int = 0) -> tuple:
    """The fixed 100 labelled training images, their indices, and the test set (floats in [0, 1])."""
    (x_train, y_train), (x_test, y_test) = data.load_mnist(data_dir)
    idx = few_labels(y_train)
    if quick:
        x_test, y_test = data.subset(x_test, y_test, QUICK_TEST_ROWS, seed=seed)
    return (data.to_float(x_train[idx]), y_train[idx]), idx, (data.to_float(x_test), y_test)


def train_few_labels(classifier: keras.Model, train: tuple, test: tuple, epochs: int, seed: int,
                     run) -> tuple[dict, dict]:
    """The few-label recipe (E4, and E5's fine-tuning): fit on the 100 images, measure train and test after every epoch.

    Saves the curves (figure + table); returns (over-fitting summary with timings, per-epoch curves).
    """
    models.compile_classifier(classifier, FEW_LABELS_LEARNING_RATE)
    x, y = train
    monitor = training.EvaluateEverySamples(len(x), {"train": train, "test": test}, FEW_LABELS_BATCH_SIZE)
    started = time.perf_counter()
    history = classifier.fit(training.dataset(x, y, FEW_LABELS_BATCH_SIZE, shuffle=True, seed=seed), epochs=epochs,
                             verbose=2, callbacks=[monitor, *training.standard_callbacks(run.path, monitor)])
    seconds = time.perf_counter() - started
    curves = {k: monitor.series(k) for k in ("train_loss", "test_loss", "train_accuracy", "test_accuracy")}
    rows = [{"epoch": i + 1, "time_s": history.history["time_s"][i], **{k: v[i] for k, v in curves.items()}}
            for i in range(epochs)]
    run.save_table("curves", rows)
    run.save_figure(plots.learning_curves(curves, xlabel="epoch (5 gradient steps on the 100 images each)",
                                          title=f"{run.task.upper()}: 100 labelled images - train (evaluated "
                                                "after each epoch) vs test (monitoring only)"), "curves")
    summary = overfitting_summary(curves["train_loss"], curves["test_loss"],
                                           curves["train_accuracy"], curves["test_accuracy"])
    test_loss, test_accuracy = classifier.evaluate(*test, batch_size=1000, verbose=0)
    result = {**summary, "test_loss": float(test_loss), "test_accuracy": float(test_accuracy), "epochs": epochs,
              "batch_size": FEW_LABELS_BATCH_SIZE, "learning_rate": FEW_LABELS_LEARNING_RATE, "train_seconds": round(seconds, 1),
              "seconds_per_epoch": round(seconds / epochs, 3), "parameters": classifier.count_params()}
    return result, curves
