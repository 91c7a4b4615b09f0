"""Findings: the verdicts a report states, computed from measured numbers with their uncertainty.

A sentence in a PDF that states a result — a direction, a comparison, a choice, a verdict — is
rendered from a ``Finding``; the template picks its wording by ``finding.verdict`` only. A science
module (``hwkit/assignments/*``) builds its findings with the helpers here, so every assignment
states intervals and verdicts the same way:

- ``seed_interval(values)``: median and range over ≥ 3 seeds (where training is cheap);
- ``bootstrap_interval(per_example)``: a 95% percentile bootstrap of a mean over test examples
  (where one model is scored), ``paired_bootstrap`` for the difference of two models on the same examples;
- ``compare_seeds`` / ``compare_paired``: "better", "worse" or "no measurable difference" — A is called
  better only when the whole interval says so (seed ranges that do not overlap; a bootstrap
  interval of the difference that excludes 0);
- ``compare_proportions``: the same verdicts from two rates alone (independent-binomial interval), where
  the per-example scores were not kept;
- ``fit_check``: did a training fit at all, by a stated criterion; a model that failed is reported
  as failed and left out of every comparison (``compare_*`` return "not comparable").

A finding is plain data (``as_dict`` -> JSON), written into the run's ``metrics.json`` under
``"findings"`` so the report reads it like any other number, and so a test can flip one.
A cause that no run tests is a *hypothesis*: ``Finding(..., hypothesis=True)`` and the template says so.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Mapping, Sequence

import numpy as np

BETTER, WORSE, SAME, NOT_COMPARABLE = "better", "worse", "no measurable difference", "not comparable"
FITS, FAILED = "fits", "failed to fit"
MIN_SEEDS = 3
BOOTSTRAP_SAMPLES = 2000
LEVEL = 0.95


@dataclass(frozen=True)
class Interval:
    """An estimate with its spread: ``low ≤ center ≤ high``; ``method`` says which (for the report)."""
    center: float
    low: float
    high: float
    n: int
    method: str  # "median and range over n seeds" | "95% bootstrap over n examples" | "single run"

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


@dataclass(frozen=True)
class Finding:
    """A verdict and what it rests on. ``numbers`` are the measured values a sentence prints."""
    verdict: str
    numbers: Mapping[str, object] = field(default_factory=dict)
    interval: Interval | None = None
    hypothesis: bool = False
    criterion: str = ""  # the rule that decided the verdict, in words (printed in the report)

    def as_dict(self) -> dict:
        return {"verdict": self.verdict, "numbers": dict(self.numbers),
                "interval": asdict(self.interval) if self.interval else None,
                "hypothesis": self.hypothesis, "criterion": self.criterion}


def _finite(values: Sequence[float], what: str) -> np.ndarray:
    a = np.asarray(values, dtype=float).ravel()
    if a.size == 0:
        raise ValueError(f"{what}: no values")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{what}: values must be finite, got {a.tolist()}")
    return a


def seed_interval(values: Sequence[float], over: str = "seeds") -> Interval:
    """Median and range of one quantity over seeds (``n`` = number of seeds; one seed gives a point).

    ``over`` names what varied between the values when it is not the seed (e.g. "repeats" of a timing)."""
    a = _finite(values, "seed_interval")
    method = f"median and range over {a.size} {over}" if a.size > 1 else "single run"
    return Interval(float(np.median(a)), float(a.min()), float(a.max()), int(a.size), method)


def bootstrap_interval(per_example: Sequence[float], *, samples: int = BOOTSTRAP_SAMPLES, level: float = LEVEL,
                       seed: int = 0) -> Interval:
    """The mean of ``per_example`` (e.g. 1.0/0.0 correct per test image) with a percentile bootstrap interval.

    Deterministic for a given ``seed``; the resamples never touch a model, only the recorded per-example scores."""
    a = _finite(per_example, "bootstrap_interval")
    means = resampled_means(a, samples, np.random.default_rng(seed))
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return Interval(float(a.mean()), float(low), float(high), int(a.size),
                    f"{level:.0%} bootstrap over {a.size} examples")


def resampled_means(values: Sequence[float], samples: int, rng: np.random.Generator) -> np.ndarray:
    """The means of ``samples`` bootstrap resamples (with replacement, same size) of ``values``.

    Values with few distinct levels (1/0 per-example scores, paired differences in {-1, 0, 1}) resample
    their level counts (one multinomial draw per resample): the same distribution as resampling indices,
    in O(samples x levels) instead of O(samples x n) time and memory (10 000 test images: ms, not seconds)."""
    a = np.asarray(values, dtype=float).ravel()
    levels, counts = np.unique(a, return_counts=True)
    if levels.size <= 16:
        return rng.multinomial(a.size, counts / a.size, size=samples) @ levels / a.size
    return a[rng.integers(0, a.size, size=(samples, a.size))].mean(axis=1)


def paired_bootstrap(per_example_a: Sequence[float], per_example_b: Sequence[float], **kwargs) -> Interval:
    """Interval of mean(a − b) over the same examples (the models' scores paired example by example)."""
    a = _finite(per_example_a, "paired_bootstrap a")
    b = _finite(per_example_b, "paired_bootstrap b")
    if a.shape != b.shape:
        raise ValueError(f"paired_bootstrap: {a.size} vs {b.size} examples; pairs need the same examples")
    return bootstrap_interval(a - b, **kwargs)


def _direction(a_better: bool, b_better: bool) -> str:
    return BETTER if a_better else WORSE if b_better else SAME


def compare_seeds(a: Sequence[float], b: Sequence[float], *, higher_is_better: bool,
                  min_seeds: int = MIN_SEEDS) -> Finding:
    """Is A better than B across seeds? Only when their seed ranges do not overlap.

    Fewer than ``min_seeds`` on either side cannot tell a difference from seed noise: "not comparable"."""
    ia, ib = seed_interval(a), seed_interval(b)
    numbers = {"a": ia.center, "a_low": ia.low, "a_high": ia.high,
               "b": ib.center, "b_low": ib.low, "b_high": ib.high, "seeds_a": ia.n, "seeds_b": ib.n}
    criterion = "A is better (worse) than B only when A's whole range over seeds is better (worse) than B's"
    if min(ia.n, ib.n) < min_seeds:
        return Finding(NOT_COMPARABLE, numbers, ia, criterion=f"fewer than {min_seeds} seeds")
    if higher_is_better:
        verdict = _direction(ia.low > ib.high, ib.low > ia.high)
    else:
        verdict = _direction(ia.high < ib.low, ib.high < ia.low)
    return Finding(verdict, numbers, ia, criterion=criterion)


def compare_paired(per_example_a: Sequence[float], per_example_b: Sequence[float], *, higher_is_better: bool,
                   **kwargs) -> Finding:
    """Is model A better than model B on the same test examples? Only when the bootstrap interval of
    mean(A − B) excludes 0."""
    d = paired_bootstrap(per_example_a, per_example_b, **kwargs)
    numbers = {"a": float(np.mean(per_example_a)), "b": float(np.mean(per_example_b)),
               "difference": d.center, "difference_low": d.low, "difference_high": d.high, "examples": d.n}
    if higher_is_better:
        verdict = _direction(d.low > 0, d.high < 0)
    else:   # lower is better: A is better when the whole interval of A − B is below 0
        verdict = _direction(d.high < 0, d.low > 0)
    return Finding(verdict, numbers, d, criterion=f"the {d.method} interval of the difference excludes 0")


def compare_proportions(a: float, b: float, n_a: int, n_b: int, *, higher_is_better: bool,
                        level: float = LEVEL) -> Finding:
    """Is rate A (e.g. an accuracy over ``n_a`` examples) better than rate B when only the two rates are kept?

    A normal-approximation interval of A − B that treats the two scores as independent binomial counts.
    Where both were scored on the same examples this is wider than the paired interval (the usual
    case: the per-example scores were not kept), so a "better" here would also be one in the paired test."""
    from statistics import NormalDist
    for value, what in ((a, "a"), (b, "b")):
        if not (np.isfinite(value) and 0.0 <= value <= 1.0):
            raise ValueError(f"compare_proportions: {what} must be a rate in [0, 1], got {value}")
    if min(n_a, n_b) < 1:
        raise ValueError(f"compare_proportions: need examples on both sides, got {n_a} and {n_b}")
    z = NormalDist().inv_cdf(0.5 + level / 2.0)
    d = float(a) - float(b)
    half = z * float(np.sqrt(a * (1 - a) / n_a + b * (1 - b) / n_b))
    method = f"{level:.0%} normal interval over {min(n_a, n_b)} examples, the two scores taken as independent"
    interval = Interval(d, d - half, d + half, int(min(n_a, n_b)), method)
    numbers = {"a": float(a), "b": float(b), "difference": d, "difference_low": d - half, "difference_high": d + half,
               "examples": int(min(n_a, n_b))}
    sign = 1.0 if higher_is_better else -1.0
    verdict = _direction(sign * interval.low > 0, sign * interval.high < 0)
    return Finding(verdict, numbers, interval, criterion=f"the {interval.method} interval of the difference excludes 0")


def fit_check(final_training_loss: float, threshold: float, *, criterion: str = "") -> Finding:
    """Did a training fit? Its final training loss must be finite and below ``threshold`` (stated in the report)."""
    value = float(final_training_loss)
    ok = bool(np.isfinite(value) and value < threshold)
    return Finding(FITS if ok else FAILED, {"final_training_loss": value, "threshold": float(threshold)},
                   criterion=criterion or f"final training loss below {threshold:g}")


def fitted(*checks: Finding | Mapping) -> bool:
    """True when every fit check says "fits" (accepts findings or their ``as_dict`` form)."""
    return all((c.verdict if isinstance(c, Finding) else c["verdict"]) == FITS for c in checks)


def as_dicts(findings: Mapping[str, Finding]) -> dict[str, dict]:
    """``{name: finding}`` -> the JSON form stored under ``metrics["findings"]``."""
    return {name: f.as_dict() for name, f in findings.items()}
