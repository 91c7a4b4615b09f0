"""B5's findings: PCA against an autoencoder, per latent dimension, on the same test images.

Pure functions of measured numbers (per-image reconstruction errors ε = ||x − x̃||₂²), each returning a
``hwkit.findings.Finding`` the template words by its verdict:

* ``autoencoder_fit`` — did an autoencoder leave the mean-image plateau (a network that outputs the
  mean image for every input scores the mean image's ε; a fitted one must be clearly below it)?
* ``autoencoder_vs_pca`` — paired bootstrap over the test images of ε(autoencoder) − ε(PCA);
  "better" means the autoencoder's error is lower; a failed fit is "not comparable";
* ``largest_gain`` — the latent dimension where a *measurably better* autoencoder gains the most
  (never an arg-max over dimensions where it is worse);
* ``errors_fall`` — does each method's test ε fall measurably at every step up in l_d?
* ``train_test_gap`` — is a method's training ε inside the bootstrap interval of its test ε?
* ``budget_test_dim`` / ``budget_effect`` — where the autoencoder falls behind PCA (chosen on the
  *training* errors), does training it longer close the gap? The outcome of a run, not a guess.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from hwkit import findings as F

PLATEAU_FRACTION = 0.9   # a fitted autoencoder's training ε is below 90% of the mean image's
FALLS, NOT_MONOTONE = "falls", "does not fall at every step"
CLOSED, NARROWED, UNCHANGED = "closed", "narrowed", "unchanged"
FIXED, STILL_FAILED = "fit after a longer training", "failed even after a longer training"


def per_image_errors(x: np.ndarray, x_tilde: np.ndarray) -> np.ndarray:
    """ε = ||x − x̃||₂² of every image (rows), float64."""
    diff = (np.asarray(x, dtype=np.float64).reshape(len(x), -1)
            - np.asarray(x_tilde, dtype=np.float64).reshape(len(x), -1))
    return np.sum(diff ** 2, axis=1)


def autoencoder_fit(train_error: float, mean_image_train_error: float) -> F.Finding:
    """Fits when the training ε is below ``PLATEAU_FRACTION`` × the ε of reconstructing by the mean image."""
    threshold = PLATEAU_FRACTION * mean_image_train_error
    return F.fit_check(train_error, threshold,
                       criterion=f"training ε below {PLATEAU_FRACTION:.0%} of the mean image's ({threshold:.4g}): "
                                 "out of the plateau where every input is reconstructed as the mean image")


def autoencoder_vs_pca(autoencoder_test: Sequence[float], pca_test: Sequence[float], fit: F.Finding | Mapping,
                       seed: int = 0) -> F.Finding:
    """Autoencoder against PCA on the same test images (lower ε is better); "not comparable" if it failed to fit."""
    if not F.fitted(fit):
        return F.Finding(F.NOT_COMPARABLE, {"a": float(np.mean(autoencoder_test)), "b": float(np.mean(pca_test))},
                         criterion="the autoencoder failed its fit check")
    return F.compare_paired(autoencoder_test, pca_test, higher_is_better=False, seed=seed)


def largest_gain(comparisons: Mapping[int, F.Finding | Mapping]) -> F.Finding:
    """Among the l_d where the autoencoder is measurably better, the one with the lowest ε(AE)/ε(PCA).

    Verdict "better" with that l_d and ratio (< 1), or "not comparable" when it is better nowhere."""
    rows = {ld: (c if isinstance(c, Mapping) else c.as_dict()) for ld, c in comparisons.items()}
    wins = {ld: r["numbers"]["a"] / r["numbers"]["b"] for ld, r in rows.items() if r["verdict"] == F.BETTER}
    if not wins:
        return F.Finding(F.NOT_COMPARABLE, {"latent_dim": None, "autoencoder_over_pca": None},
                         criterion="the autoencoder is measurably better at no latent dimension")
    best = min(wins, key=wins.get)
    return F.Finding(F.BETTER, {"latent_dim": best, "autoencoder_over_pca": wins[best]},
                     criterion="lowest ε(autoencoder)/ε(PCA) among the l_d where the autoencoder is measurably better")


def errors_fall(test_per_image_by_dim: Mapping[int, Sequence[float]], fits: Sequence[F.Finding | Mapping] = (),
                seed: int = 0) -> F.Finding:
    """Does the test ε fall at every step up in l_d? Each step is a paired bootstrap over the same test images;
    ``dims_not_falling``: the larger l_d of each step that is not measurably lower. A failed fit: "not comparable"."""
    dims = sorted(test_per_image_by_dim)
    means = [float(np.mean(test_per_image_by_dim[d])) for d in dims]
    if not F.fitted(*fits):
        return F.Finding(F.NOT_COMPARABLE, {"dims": dims, "errors": means, "dims_not_falling": []},
                         criterion="a model failed its fit check")
    steps = [F.compare_paired(test_per_image_by_dim[b], test_per_image_by_dim[a], higher_is_better=False, seed=seed)
             for a, b in zip(dims, dims[1:])]
    up = [b for b, step in zip(dims[1:], steps) if step.verdict != F.BETTER]
    return F.Finding(FALLS if not up else NOT_MONOTONE, {"dims": dims, "errors": means, "dims_not_falling": up},
                     criterion="test ε measurably lower (paired bootstrap over the test images) at each larger l_d")


def train_test_gap(train_error: float, test_per_image: Sequence[float], seed: int = 0) -> F.Finding:
    """Is the training ε inside the 95% bootstrap interval of the test ε? "worse": test ε measurably higher."""
    i = F.bootstrap_interval(test_per_image, seed=seed)
    verdict = F.SAME if i.contains(train_error) else F.WORSE if train_error < i.low else F.BETTER
    return F.Finding(verdict, {"train": float(train_error), "test": i.center, "test_low": i.low, "test_high": i.high,
                               "relative_gap": i.center / train_error - 1.0}, i,
                     criterion="training ε inside (or outside) the bootstrap interval of the test ε")


def summarise_gaps(gaps: Mapping[int, F.Finding | Mapping], fits: Sequence[F.Finding | Mapping] = ()) -> F.Finding:
    """One method's gaps over l_d: "no measurable difference" if at every l_d, else "worse" where the test ε is
    measurably higher ("better" where only lower); "not comparable" if a model failed to fit."""
    rows = {ld: (g if isinstance(g, Mapping) else g.as_dict()) for ld, g in gaps.items()}
    if not F.fitted(*fits):
        return F.Finding(F.NOT_COMPARABLE, {"test_higher_at": [], "test_lower_at": [], "largest_relative_gap": None},
                         criterion="a model failed its fit check")
    higher = sorted(ld for ld, r in rows.items() if r["verdict"] == F.WORSE)
    lower = sorted(ld for ld, r in rows.items() if r["verdict"] == F.BETTER)
    largest = max(abs(r["numbers"]["relative_gap"]) for r in rows.values())
    verdict = F.SAME if not higher and not lower else F.WORSE if higher else F.BETTER
    return F.Finding(verdict, {"test_higher_at": higher, "test_lower_at": lower, "largest_relative_gap": largest},
                     criterion="training ε inside the 95% bootstrap interval of the test ε at every l_d")


def budget_test_dim(train_error: Mapping[str, Mapping[int, float]]) -> int:
    """The l_d at which to test a longer training: where the autoencoder's *training* ε is largest relative to
    PCA's (``train_error[method][l_d]``; the test set chooses nothing)."""
    ae, pca = train_error["autoencoder"], train_error["PCA"]
    return max(ae, key=lambda ld: ae[ld] / pca[ld])


def longer_vs_shorter(longer_test: Sequence[float], shorter_test: Sequence[float], longer_fit, shorter_fit,
                      seed: int = 0) -> F.Finding:
    """The longer-trained autoencoder against the shorter one on the same test images (lower ε is better);
    "not comparable" when either failed its fit check (a failed training is never compared)."""
    if not F.fitted(longer_fit, shorter_fit):
        return F.Finding(F.NOT_COMPARABLE, {"a": float(np.mean(longer_test)), "b": float(np.mean(shorter_test))},
                         criterion="a training failed its fit check")
    return F.compare_paired(longer_test, shorter_test, higher_is_better=False, seed=seed)


def budget_effect(longer_vs_shorter: F.Finding | Mapping, longer_vs_pca: F.Finding | Mapping,
                  shorter_vs_pca: F.Finding | Mapping, shorter_fit: F.Finding | Mapping | None = None,
                  longer_fit: F.Finding | Mapping | None = None) -> F.Finding:
    """Is the autoencoder's deficit against PCA a training-budget effect?

    When the shorter training failed its fit check: "fit after a longer training" (its failure was a budget) or
    "failed even after a longer training". Otherwise: "closed": PCA was better, and the longer-trained autoencoder
    is measurably better than the short one and no longer worse than PCA; "narrowed": longer training helped
    measurably but PCA is still better; "unchanged": longer training did not measurably lower the error; "not
    comparable": PCA was not better to begin with, or the longer training failed to fit."""
    v = {k: (f["verdict"] if isinstance(f, Mapping) else f.verdict)
         for k, f in (("longer", longer_vs_shorter), ("vs_pca", longer_vs_pca), ("before", shorter_vs_pca))}
    if shorter_fit is not None and not F.fitted(shorter_fit):
        verdict = FIXED if longer_fit is not None and F.fitted(longer_fit) else STILL_FAILED
    elif F.NOT_COMPARABLE in v.values() or v["before"] != F.WORSE:
        verdict = F.NOT_COMPARABLE
    elif v["longer"] != F.BETTER:
        verdict = UNCHANGED
    else:
        verdict = NARROWED if v["vs_pca"] == F.WORSE else CLOSED
    return F.Finding(verdict, {"longer": v["longer"], "longer_vs_pca": v["vs_pca"], "shorter_vs_pca": v["before"]},
                     criterion="fit checks, then paired bootstrap intervals over the test images (longer vs shorter "
                               "training, each vs PCA)")
