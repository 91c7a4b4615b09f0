"""Reusing what one run trained in another, and the scarce-label subset (assignment E3-E5).

* ``load_model_from_run``: E3 decodes E2's trained encoder, E5 fine-tunes E1's; both load the
  ``.keras`` file from the latest complete run of the producing task and record which run it was.
* ``balanced_subset`` / ``few_labels``: E4 and E5 must train on *the same* 100 labelled images.
  The selection is defined once here: 10 images per digit drawn from the 60 000 MNIST training
  images with ``numpy.random.default_rng(FEW_LABELS_SEED)``, independent of ``--seed`` so that
  every run of E4 and E5 sees the identical set.
"""
from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

from hwkit import HwkitError, runs

FEW_LABELS_PER_CLASS = 10     # 10 digits x 10 = the assignment's 100 labelled examples
FEW_LABELS_SEED = 100         # fixed: the subset must not change with --seed


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
    return keras.models.load_model(path), record


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
