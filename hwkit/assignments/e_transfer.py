"""The scarce-label subset and the few-label training recipe (assignment E4-E5).

* ``balanced_subset`` / ``few_labels``: E4 and E5 must train on *the same* 100 labelled images.
  The selection is defined once here: 10 images per digit drawn from the 60 000 MNIST training
  images with ``numpy.random.default_rng(FEW_LABELS_SEED)``, independent of ``--seed`` so that
  every run of E4 and E5 sees the identical set.
"""
from __future__ import annotations

from hwkit import tf_runtime  # noqa: F401  (quiet TensorFlow import before Keras)

# isort: split

import dataclasses

import keras
import numpy as np

from hwkit import HwkitError, data, findings, models, plots, training

FEW_LABELS_PER_CLASS = 10     # 10 digits x 10 = the assignment's 100 labelled examples
FEW_LABELS_SEED = 100         # fixed: the subset must not change with --seed


@dataclasses.dataclass(frozen=True)
class FewLabelRecipe:
    """The few-label recipe (E4 from scratch, E5 fine-tuned): plain Adam, no schedule to hide over-fitting."""

    epochs: int = 100                 # long enough to see where the test loss turns (500 steps)
    batch_size: int = 20              # 5 gradient steps per epoch over the 100 images
    learning_rate: float = 1e-3
    hidden_units: int = 64            # the classifier head's hidden layer, as E2
    test_rows: int | None = None      # None: all 10 000 test images


FEW_LABELS = FewLabelRecipe()
FEW_LABELS_QUICK = dataclasses.replace(FEW_LABELS, epochs=3, test_rows=500)
OVERFITS, NO_OVERFITTING = "over-fits", "over-fitting not established"   # over-fitting verdicts (E4, E5)

# What E's PDF states about the 100-label subset besides the runs (``facts`` in templates/E.html).
REPORT_FACTS = {"few_labels_per_class": FEW_LABELS_PER_CLASS, "mnist_train_images": data.MNIST_COUNTS["train"]}


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
    max_accuracy_epoch = int(max(range(len(test_accuracy)), key=test_accuracy.__getitem__)) + 1
    return {
        "final_train_loss": train_loss[-1], "final_test_loss": test_loss[-1],
        "final_train_accuracy": train_accuracy[-1], "final_test_accuracy": test_accuracy[-1],
        "accuracy_gap": gap, "loss_gap": test_loss[-1] - train_loss[-1],
        "min_test_loss": test_loss[best], "min_test_loss_epoch": best + 1,
        "test_loss_rise_after_min": rise, "train_loss_at_min_test_loss": train_loss[best],
        "train_loss_kept_falling": bool(train_kept_falling),
        "max_test_accuracy": max(test_accuracy),
        "max_test_accuracy_epoch": max_accuracy_epoch,
        "first_epoch_train_accuracy_100": first_perfect,
        "final_test_error": 1 - test_accuracy[-1],
        "accuracy_peaks_after_loss_minimum": bool(max_accuracy_epoch > best + 1),
        "gap_exceeds_threshold": bool(gap > gap_threshold),
        "test_loss_rising": bool(rise > rise_threshold and train_kept_falling),
        "overfitting": bool(gap > gap_threshold and rise > rise_threshold and train_kept_falling),
        "gap_threshold": gap_threshold, "rise_threshold": rise_threshold,
    }


def overfitting_finding(summary: dict, fit: findings.Finding | dict) -> findings.Finding:
    """``overfitting_summary``'s verdict as a finding; a classifier that did not fit its 100 images is not assessed."""
    numbers = {k: summary[k] for k in ("accuracy_gap", "test_loss_rise_after_min", "min_test_loss_epoch",
                                       "gap_threshold", "rise_threshold")}
    criterion = (f"train accuracy above test accuracy by more than {summary['gap_threshold']:.0%} and a final test "
                 f"loss more than {summary['rise_threshold']:.0%} above its minimum while the train loss kept falling")
    if not findings.fitted(fit):
        return findings.Finding(findings.NOT_COMPARABLE, numbers, criterion="a classifier that failed its fit check")
    return findings.Finding(OVERFITS if summary["overfitting"] else NO_OVERFITTING, numbers, criterion=criterion)


def per_example_scores(probabilities: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """Per test image: 1.0/0.0 correct, and its cross-entropy (natural log, clipped like Keras at 1e-7)."""
    p = np.asarray(probabilities, dtype=np.float64)
    picked = np.clip(p[np.arange(len(y)), np.asarray(y)], 1e-7, 1.0)
    return {"correct": (p.argmax(1) == y).astype(np.float64), "loss": -np.log(picked)}


def load_few_labels(data_dir=None, test_rows: int | None = None, seed: int = 0) -> tuple:
    """The fixed 100 labelled training images, their indices, and the test set (floats in [0, 1]; a seeded subset
    of ``test_rows`` when given)."""
    (x_train, y_train), (x_test, y_test) = data.load_mnist(data_dir)
    idx = few_labels(y_train)
    x_test, y_test = data.subset(x_test, y_test, test_rows, seed=seed)
    return (data.to_float(x_train[idx]), y_train[idx]), idx, (data.to_float(x_test), y_test)


def train_few_labels(classifier: keras.Model, train: tuple, test: tuple, recipe: FewLabelRecipe, seed: int,
                     run) -> tuple[dict, dict]:
    """The few-label recipe (E4, and E5's fine-tuning): fit on the 100 images, measure train and test after every epoch.

    Saves the curves (figure + table) and the per-test-image scores (table ``test_per_example``); returns
    (over-fitting summary with timings, per-epoch curves, per-test-image scores).
    """
    models.compile_classifier(classifier, recipe.learning_rate)
    x, y = train
    epochs = recipe.epochs
    monitor = training.EvaluateEverySamples(len(x), {"train": train, "test": test}, recipe.batch_size)
    history = training.fit(classifier, training.dataset(x, y, recipe.batch_size, shuffle=True, seed=seed),
                           epochs=epochs, verbose=2,
                           callbacks=[monitor, *training.standard_callbacks(run.path, monitor)])
    seconds = float(history.history["time_s"][-1])
    curves = {k: monitor.series(k) for k in ("train_loss", "test_loss", "train_accuracy", "test_accuracy")}
    rows = [{"epoch": i + 1, "time_s": history.history["time_s"][i], **{k: v[i] for k, v in curves.items()}}
            for i in range(epochs)]
    steps_per_epoch = -(-len(x) // recipe.batch_size)
    run.save_table("curves", rows)
    run.save_figure(plots.learning_curves(curves, xlabel=f"epoch ({steps_per_epoch} gradient steps on the "
                                                         f"{len(x)} images each)",
                                          title=f"{run.task.upper()}: 100 labelled images - train (evaluated "
                                                "after each epoch) vs test (monitoring only)"), "curves")
    summary = overfitting_summary(curves["train_loss"], curves["test_loss"],
                                           curves["train_accuracy"], curves["test_accuracy"])
    test_loss, test_accuracy = classifier.evaluate(*test, batch_size=1000, verbose=0)
    per_example = per_example_scores(classifier.predict(test[0], batch_size=1000, verbose=0), test[1])
    run.save_table("test_per_example", [{"label": int(y), "correct": int(c), "loss": float(v)}
                                        for y, c, v in zip(test[1], per_example["correct"], per_example["loss"])])
    result = {**summary, "test_loss": float(test_loss), "test_accuracy": float(test_accuracy), "epochs": epochs,
              "batch_size": recipe.batch_size, "steps_per_epoch": steps_per_epoch,
              "learning_rate": recipe.learning_rate,
              "train_seconds": round(seconds, 1), "seconds_per_epoch": round(seconds / epochs, 3),
              "parameters": classifier.count_params()}
    return result, curves, per_example


def compare_with_scratch(fine_tuned: dict[str, np.ndarray], scratch: dict[str, np.ndarray],
                         fits: dict) -> dict[str, findings.Finding]:
    """E5 (A, fine-tuned) against E4 (B, from scratch) on the same test images: paired 95% bootstraps of the
    per-image accuracy (``correct``, higher is better) and cross-entropy (``loss``, lower is better).

    ``fits`` holds the fit checks that must all pass for the comparison to mean something (E4's, E5's and the
    autoencoder's that E5 starts from): otherwise both findings are "not comparable".
    """
    if not findings.fitted(*fits.values()):
        failed = ", ".join(k for k, v in fits.items() if not findings.fitted(v))
        return {k: findings.Finding(findings.NOT_COMPARABLE,
                                    {"a": float(np.mean(fine_tuned[k])), "b": float(np.mean(scratch[k]))},
                                    criterion=f"failed its fit check: {failed}") for k in ("correct", "loss")}
    return {"correct": findings.compare_paired(fine_tuned["correct"], scratch["correct"], higher_is_better=True),
            "loss": findings.compare_paired(fine_tuned["loss"], scratch["loss"], higher_is_better=False)}
