"""Assignment A: what a network learns from one example — data, training protocol, distances, verdicts.

A network f is trained to regress ONE image x_train onto itself. Two functions fit that single
example perfectly: the *constant* map f(x) = x_train (memorisation) and the *identity* f(x) = x.
Which one was learnt shows on unseen inputs x, so for every test image we measure

    d_const = mean((f(x) - x_train)^2)      distance of the prediction to the training image
    d_id    = mean((f(x) - x)^2)            distance of the prediction to the input itself

each divided by gap = mean((x - x_train)^2), the distance between the two candidate answers.
After this normalisation the constant map scores (0, 1) and the identity (1, 0); an output that
is neither (e.g. a blank image) scores about (0.5, 0.5).

Verdict rule (per test image and per run, on the mean over the test images):
``"constant"`` if d_const <= RATIO * d_id, ``"identity"`` if d_id <= RATIO * d_const,
otherwise ``"neither"``, with RATIO = 1/4: one candidate must be at least 4 times closer in
mean squared error (2 times in RMS) than the other. A half-intensity copy 0.5 x still counts as
identity-like (d_id ~ 0.13, d_const ~ 0.63), a 50/50 blend of x and x_train does not.

A run counts only if it fits its one training image (``fit_check``: final MSE on x_train below
FIT_MSE); a run that fails is reported as "failed to fit" and left out of every verdict count,
conjecture and comparison. The report's sentences come from findings (``hwkit.findings``) computed
here: the learning rate chosen from the check table (``choose_learning_rate``), the conjecture over
the fitted runs (``conjecture``), the input cut-off (``cut_off_finding``), the A3/A4 constructions
(``construction_check``) and A5's comparison with the paper (``paper_comparison``).

A third number, the *spread* (how much the outputs vary across the test inputs relative to how
much the inputs vary: 0 for any constant map, 1 for the identity), tells a "neither" that is a
constant map not (yet) equal to x_train from one that really mixes input and training image.
"""
from __future__ import annotations

from hwkit import tf_runtime  # noqa: F401  (quiet TensorFlow import before Keras)

# isort: split

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from hwkit import HwkitError, data, findings, models, training
from hwkit.task import MAX_SEEDS, bounded_int

FIT_MSE = 5e-3        # a run "fits" the training image when its final MSE on it is below this
FIT_CRITERION = f"final MSE on x_train below {FIT_MSE:g}"
RATIO = 0.25          # verdict: the winner must be at least 4x closer (in MSE) than the loser
CUT_OFF_SPREAD = 1e-6  # spread below this: the output does not depend on the input at all (input cut off)
LATE_EPOCHS = 100      # "still learning": the loss drop over this many last epochs
STILL_LEARNING = 1e-4  # a BCE drop over the last LATE_EPOCHS above this: the run was still learning at the end
MIN_FITTED = findings.MIN_SEEDS   # a conjecture needs at least this many runs that fit x_train
DIGITS = tuple(range(10))
VERDICTS = ("constant", "identity", "neither")
FORMULAS = {"constant": "{f}(x) ≈ x_train", "identity": "{f}(x) ≈ x", "neither": "no simple formula"}

# The verdict rule as A's PDF states it (``facts`` in templates/A.html): the distance ratio, and how many
# times closer the winner must be in mean squared error and in root mean squared error.
REPORT_FACTS = {"ratio": RATIO, "closer_mse": 1 / RATIO, "closer_rms": float(np.sqrt(1 / RATIO)),
                "late_epochs": LATE_EPOCHS, "fit_criterion": FIT_CRITERION, "min_fitted": MIN_FITTED,
                "still_learning": STILL_LEARNING}


# ----------------------------------------------------------------------------- data

@dataclass
class OneExampleData:
    """One training image and one test image per digit, as float32 (N, 28, 28, 1) in [0, 1]."""

    x_train: np.ndarray          # (1, 28, 28, 1)
    train_digit: int
    train_index: int             # row in the MNIST training set
    x_test: np.ndarray           # (10, 28, 28, 1): digit k at row k
    test_indices: list[int]      # rows in the MNIST test set


def one_example_data(data_dir=None, digit: int = 7, occurrence: int = 0) -> OneExampleData:
    """The ``occurrence``-th training image of ``digit`` and the FIRST test image of every digit 0-9."""
    if digit not in DIGITS:
        raise HwkitError(f"--digit must be one of 0-9, got {digit}")
    (x_tr, y_tr), (x_te, y_te) = data.load_mnist(data_dir)
    rows = np.flatnonzero(y_tr == digit)
    if not 0 <= occurrence < len(rows):
        raise HwkitError(f"--occurrence must be in 0..{len(rows) - 1} for digit {digit}, got {occurrence}")
    train_index = int(rows[occurrence])
    test_indices = [int(np.flatnonzero(y_te == k)[0]) for k in DIGITS]
    return OneExampleData(x_train=data.to_float(x_tr[train_index:train_index + 1]), train_digit=digit,
                          train_index=train_index, x_test=data.to_float(x_te[test_indices]),
                          test_indices=test_indices)


# ----------------------------------------------------------------------------- distances and verdicts

def distances(predictions: np.ndarray, inputs: np.ndarray, x_train: np.ndarray) -> dict[str, np.ndarray]:
    """Per-image mean squared distances of ``predictions`` to ``x_train`` and to their ``inputs``.

    Returns arrays of shape (N,): ``d_const``, ``d_id`` (both normalised by ``gap``) and the raw
    ``mse_const``, ``mse_id`` and ``gap`` = mean((input - x_train)^2).
    """
    axes = tuple(range(1, predictions.ndim))
    p, x, t = (np.asarray(a, dtype=np.float64) for a in (predictions, inputs, x_train))
    t = np.broadcast_to(t, p.shape)
    mse_const = np.mean((p - t) ** 2, axis=axes)
    mse_id = np.mean((p - x) ** 2, axis=axes)
    gap = np.mean((x - t) ** 2, axis=axes)
    if np.any(gap <= 0):
        raise ValueError("an input equals the training image: constant and identity cannot be told apart")
    return {"d_const": mse_const / gap, "d_id": mse_id / gap, "mse_const": mse_const, "mse_id": mse_id, "gap": gap}


def verdict(d_const: float, d_id: float, ratio: float = RATIO) -> str:
    """'constant', 'identity' or 'neither' from (normalised) distances, by the rule in the module doc."""
    if d_const <= ratio * d_id:
        return "constant"
    if d_id <= ratio * d_const:
        return "identity"
    return "neither"


def spread(predictions: np.ndarray, inputs: np.ndarray) -> float:
    """How much the output varies across the inputs, relative to how much the inputs vary.

    sum_k mean((f(x_k) - mean_j f(x_j))^2) / sum_k mean((x_k - mean_j x_j)^2): 0 for any constant map
    (whatever its constant), 1 for the identity. It separates "constant, but not (yet) x_train"
    from a genuinely mixed output, which the two distances alone cannot.
    """
    p, x = (np.asarray(a, dtype=np.float64) for a in (predictions, inputs))
    return float(np.sum((p - p.mean(axis=0)) ** 2) / np.sum((x - x.mean(axis=0)) ** 2))


def summarise(predictions: np.ndarray, inputs: np.ndarray, x_train: np.ndarray) -> dict:
    """Mean normalised distances over the test images, the run verdict, per-image verdict counts and the spread."""
    d = distances(predictions, inputs, x_train)
    per_image = [verdict(c, i) for c, i in zip(d["d_const"], d["d_id"])]
    d_const, d_id = float(np.mean(d["d_const"])), float(np.mean(d["d_id"]))
    return {"d_const": d_const, "d_id": d_id, "verdict": verdict(d_const, d_id), "spread": spread(predictions, inputs),
            **{f"images_{v}": per_image.count(v) for v in VERDICTS}, "per_image": per_image, "distances": d}


def fit_check(train_mse: float) -> findings.Finding:
    """Did a run fit its single training image? Final MSE on x_train below ``FIT_MSE``.

    A run that failed is reported as failed: its distances describe an unfinished training, not a
    learnt function, so no verdict count, conjecture or comparison uses it.
    """
    return findings.fit_check(train_mse, FIT_MSE, criterion=FIT_CRITERION)


def fit_summary(rows: Sequence[dict]) -> findings.Finding:
    """Did every run fit x_train? "fits" if so, else "failed to fit" with the failed runs' seeds (and depths)."""
    failed = [r for r in rows if r["fit"] != findings.FITS]
    numbers = {"runs": len(rows), "failed_runs": len(failed), "failed_seeds": [r["seed"] for r in failed],
               "failed_depths": sorted({r["depth"] for r in failed if "depth" in r})}
    return findings.Finding(findings.FAILED if failed else findings.FITS, numbers, criterion=FIT_CRITERION)


MIXED, TOO_FEW = "mixed", "too few fitted runs"


def conjecture(rows: Sequence[dict], f: str = "h", min_fitted: int = MIN_FITTED) -> findings.Finding:
    """The formula backed by a strict majority of the runs that FIT x_train (P*.3's conjecture).

    ``rows``: one dict per run with ``seed``, ``fit`` (a fit-check verdict), ``distance_verdict``, ``d_const``
    and ``d_id``. Verdict: "constant" / "identity" / "neither" when more than half of the fitted runs say so,
    "mixed" when none does, "too few fitted runs" with fewer than ``min_fitted``. The distances are given as
    median and range over the fitted runs.
    """
    fitted = [r for r in rows if r["fit"] == findings.FITS]
    counts = {v: sum(r["distance_verdict"] == v for r in fitted) for v in VERDICTS}
    best = max(VERDICTS, key=lambda v: counts[v])
    numbers = {"runs": len(rows), "fitted": len(fitted), "failed": len(rows) - len(fitted),
               "failed_seeds": [r["seed"] for r in rows if r["fit"] != findings.FITS], "counts": counts,
               "votes": counts[best], "formula": FORMULAS[best].format(f=f), "min_fitted": min_fitted}
    interval = None
    if fitted:
        interval = findings.seed_interval([r["d_const"] for r in fitted])
        d_id = findings.seed_interval([r["d_id"] for r in fitted])
        numbers.update(d_const=interval.center, d_const_low=interval.low, d_const_high=interval.high,
                       d_id=d_id.center, d_id_low=d_id.low, d_id_high=d_id.high, method=interval.method)
    criterion = (f"the verdict of more than half of the runs that fit x_train ({FIT_CRITERION}), "
                 f"with at least {min_fitted} such runs")
    if len(fitted) < min_fitted:
        return findings.Finding(TOO_FEW, numbers, interval, criterion=criterion)
    return findings.Finding(best if 2 * counts[best] > len(fitted) else MIXED, numbers, interval, criterion=criterion)


NO_CUT_OFF, CUT_OFF_LEARNING, CUT_OFF_STALLED = "no run cut off", "cut off, still learning", "cut off, stalled"


def cut_off_finding(rows: Sequence[dict]) -> findings.Finding:
    """Which runs have their input cut off (spread < CUT_OFF_SPREAD), and were they still learning at the end?

    ``rows``: one dict per run with ``seed``, ``spread``, ``train_mse``, ``late_loss_drop`` and ``fit``.
    "cut off, still learning" when every cut-off run's BCE fell by more than ``STILL_LEARNING`` over the
    last ``LATE_EPOCHS`` epochs, "cut off, stalled" when one did not, "no run cut off" otherwise.
    """
    cut = [r for r in rows if input_cut_off(r["spread"])]
    numbers = {"runs": len(rows), "seeds": [r["seed"] for r in cut], "train_mses": [r["train_mse"] for r in cut],
               "late_loss_drops": [r["late_loss_drop"] for r in cut],
               "failed": sum(r["fit"] != findings.FITS for r in cut)}
    criterion = (f"spread < {CUT_OFF_SPREAD:g}; still learning = BCE drop over the last {LATE_EPOCHS} epochs "
                 f"> {STILL_LEARNING:g}")
    if not cut:
        return findings.Finding(NO_CUT_OFF, numbers, criterion=criterion)
    learning = all(r["late_loss_drop"] > STILL_LEARNING for r in cut)
    return findings.Finding(CUT_OFF_LEARNING if learning else CUT_OFF_STALLED, numbers, criterion=criterion)


LR_FITS, LR_NONE_FITS = "largest rate that fits", "no rate fits"
LR_RULE = ("the largest candidate rate whose check run fits x_train; if none fits, the check cannot tell the "
           "candidates apart, and the smallest one is taken")


def choose_learning_rate(check_rows: Sequence[dict]) -> findings.Finding:
    """The SGD learning rate, chosen from the check table (one run per candidate) by ``LR_RULE``.

    ``check_rows``: one dict per candidate with ``learning_rate``, ``train_mse`` and ``fit``. Largest,
    because a run whose input is cut off can only learn through the output biases (a hypothesis for
    why larger steps help, stated as such in the report); the training fit is the only criterion
    there is with one example (no validation set, and the test images choose nothing).
    """
    if not check_rows:
        raise ValueError("choose_learning_rate: no candidate rates were checked")
    fitting = sorted(r["learning_rate"] for r in check_rows if r["fit"] == findings.FITS)
    numbers = {"candidates": [r["learning_rate"] for r in check_rows], "fitting": fitting}
    if fitting:
        chosen = fitting[-1]
        verdict_ = LR_FITS
    else:   # failed runs' MSEs differ by noise (e.g. two collapsed nets): no ranking of failures
        chosen = min(r["learning_rate"] for r in check_rows)
        verdict_ = LR_NONE_FITS
    numbers["chosen"] = chosen
    numbers["chosen_train_mse"] = next(r["train_mse"] for r in check_rows if r["learning_rate"] == chosen)
    return findings.Finding(verdict_, numbers, criterion=LR_RULE)


# ----------------------------------------------------------------------------- training on one image

def compile_one_example(model: keras.Model, learning_rate: float) -> keras.Model:
    """Plain SGD on per-pixel binary cross-entropy (targets and sigmoid outputs live in [0, 1]).

    BCE is the log-likelihood of Bernoulli pixels with mean = the sigmoid output, and its gradient
    with respect to the output logit is simply (prediction - target): no sigmoid saturation slows
    it down, unlike MSE whose gradient carries an extra p(1-p) factor. MSE is logged as a metric:
    BCE bottoms out at the pixels' entropy, MSE at 0. Keras evaluates BCE on the logits when the
    sigmoid is the model's last op (both factories are built so), never on clipped probabilities.
    """
    model.compile(optimizer=keras.optimizers.SGD(learning_rate), loss="binary_crossentropy", metrics=["mse"])
    return model


@dataclass
class SeedResult:
    """One training run on the single image: loss history, predictions and measured distances."""

    seed: int
    history: dict[str, list[float]]
    train_prediction: np.ndarray       # (1, 28, 28, 1)
    test_predictions: np.ndarray       # (10, 28, 28, 1)
    summary: dict
    train_mse: float
    seconds: float
    extra: dict = field(default_factory=dict)

    @property
    def fit(self) -> findings.Finding:
        return fit_check(self.train_mse)

    @property
    def verdict(self) -> str:
        """The run's verdict: what its distances say if it fit x_train, else "failed to fit"."""
        return self.summary["verdict"] if self.fit.verdict == findings.FITS else findings.FAILED

    def row(self) -> dict:
        """This run's line of the verdict table: ``verdict`` is "failed to fit" for a run that did not fit
        x_train; what its distances would say is kept in ``distance_verdict``."""
        s = self.summary
        return {"seed": self.seed, "final_loss": self.history["loss"][-1], "train_mse": self.train_mse,
                "fit": self.fit.verdict, "distance_verdict": s["verdict"],
                "d_const": s["d_const"], "d_id": s["d_id"], "spread": s["spread"],
                "input_cut_off": input_cut_off(s["spread"]),
                "late_loss_drop": (self.history["loss"][-min(LATE_EPOCHS, len(self.history["loss"]))]
                                   - self.history["loss"][-1]),
                "images_constant": s["images_constant"],
                "images_identity": s["images_identity"], "images_neither": s["images_neither"],
                "verdict": self.verdict, **self.extra, "seconds": round(self.seconds, 1)}


def train_one_example(build: Callable[[], keras.Model], d: OneExampleData, seed: int, epochs: int,
                      learning_rate: float, progress_every: int = 0, label: str = "") -> SeedResult:
    """Seed, build, train for ``epochs`` one-image epochs (batch of 1) with Model.fit, then measure."""
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    model = compile_one_example(build(), learning_rate)
    clock = training.WallClock()
    steps = training.StepHistory(progress_every, f"{label}seed {seed} ")
    # An epoch (a pass over the single image) is one SGD step. Fitted as ONE Keras epoch of ``epochs`` steps
    # on the repeated image, with each step's loss kept by StepHistory: the same updates as ``epochs``
    # one-step Keras epochs or fit(x, x, batch_size=1, epochs=epochs), without their per-epoch overhead.
    one_image = tf.data.Dataset.from_tensors((d.x_train, d.x_train)).repeat()
    model.fit(one_image, steps_per_epoch=epochs, epochs=1, shuffle=False, verbose=0, callbacks=[clock, steps])
    train_pred = np.asarray(model(d.x_train, training=False))
    test_pred = np.asarray(model(d.x_test, training=False))
    result = SeedResult(seed=seed, history=steps.history,
                        train_prediction=train_pred, test_predictions=test_pred,
                        summary=summarise(test_pred, d.x_test, d.x_train),
                        train_mse=float(np.mean((train_pred - d.x_train) ** 2)), seconds=clock.seconds)
    dead = models.dead_relu_units(model, np.concatenate([d.x_train, d.x_test]))
    result.extra["dead_units"] = int(sum(layer.sum() for layer in dead))
    # Units of the LAST hidden ReLU layer alive somewhere: 0 means the output no longer depends on
    # the input at all, the network is exactly the constant map x -> output_activation(output bias).
    result.extra["last_hidden_alive"] = int((~dead[-1]).sum()) if dead else 0
    return result


def bce_floor(x: np.ndarray) -> float:
    """The smallest possible per-pixel binary cross-entropy on target ``x`` (its mean Bernoulli entropy).

    Grey pixels (0 < x < 1) make BCE bottom out above 0; the loss curve is read against this floor.
    """
    p = np.clip(np.asarray(x, dtype=np.float64), 1e-12, 1 - 1e-12)
    return float(np.mean(-p * np.log(p) - (1 - p) * np.log(1 - p)))


def relu_units(model: keras.Model) -> list[int]:
    """Width (units or channels) of each hidden ReLU layer, e.g. [4, 4, 4, 4, 4, 4] for the A1 MLP."""
    return [int(layer.output.shape[-1]) for layer in models.relu_layers(model)]


def input_cut_off(spread_: float) -> bool:
    """True when a run's outputs do not vary with the input at all (spread < CUT_OFF_SPREAD).

    That is a dead layer cutting the input off: the net is the constant map sigmoid(output bias),
    and only the output biases still learn.
    """
    return spread_ < CUT_OFF_SPREAD


def write_histories(path: Path, results: Sequence[SeedResult], labels: Sequence[str] | None = None) -> None:
    """history.csv with one column per metric and run: epoch, loss_s0, mse_s0, loss_s1, ...

    ``labels`` name the runs (default ``s<seed>``), e.g. ``depth3_s0`` in the depth sweep.
    """
    labels = labels or [f"s{r.seed}" for r in results]
    keys = [(f"{k}_{label}", r.history[k]) for r, label in zip(results, labels) for k in r.history]
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["epoch"] + [k for k, _ in keys])
        for e in range(max(len(v) for _, v in keys)):
            w.writerow([e + 1] + [v[e] if e < len(v) else "" for _, v in keys])


def distance_rows(results: Sequence[SeedResult], d: OneExampleData) -> list[dict]:
    """The per-run, per-test-image distance table."""
    rows = []
    for r in results:
        dist = r.summary["distances"]
        for k in DIGITS:
            rows.append({"seed": r.seed, "test_digit": k, "test_index": d.test_indices[k],
                         "mse_to_x_train": dist["mse_const"][k], "mse_to_input": dist["mse_id"][k],
                         "d_const": dist["d_const"][k], "d_id": dist["d_id"][k],
                         "verdict": r.summary["per_image"][k]})
    return rows


def learning_rate_check(build: Callable[[], keras.Model], d: OneExampleData, rates: Sequence[float], epochs: int,
                        seed: int) -> tuple[list[dict], dict[float, SeedResult]]:
    """Train once per candidate SGD learning rate (seed ``seed``) and record whether the TRAINING image is fitted.

    The rows are the check table ``choose_learning_rate`` picks the rate from: with one example there is no
    validation set, and the test images must not choose anything, so the training fit is the only criterion.
    Also returns the runs, so the chosen rate's run serves as that seed's run (the same training).
    """
    rows, results = [], {}
    for lr in rates:
        r = train_one_example(build, d, seed, epochs, lr)
        results[lr] = r
        rows.append({"learning_rate": lr, "final_loss": r.history["loss"][-1], "train_mse": r.train_mse,
                     "fit": r.fit.verdict, "dead_units": r.extra["dead_units"]})
        print(f"learning-rate check: lr {lr:g}: final loss {rows[-1]['final_loss']:.4g}, "
              f"MSE on x_train {r.train_mse:.3g} ({r.fit.verdict})", flush=True)
    return rows, results


def checked_learning_rate(run, build: Callable[[], keras.Model], d: OneExampleData, rates: Sequence[float],
                          epochs: int, seed: int, **table_columns) -> tuple[findings.Finding, SeedResult]:
    """Run the check, choose the rate by ``LR_RULE``, save table ``lr_check`` (with a ``chosen`` column).

    Returns the finding and the chosen rate's run (seed ``seed``), which the caller reuses as its own."""
    rows, results = learning_rate_check(build, d, rates, epochs, seed)
    choice = choose_learning_rate(rows)
    chosen = choice.numbers["chosen"]
    run.save_table("lr_check", [{**table_columns, **row, "chosen": row["learning_rate"] == chosen} for row in rows])
    print(f"learning rate {chosen:g}: {choice.verdict} ({LR_RULE})", flush=True)
    return choice, results[chosen]


# ----------------------------------------------------------------------------- figures

def prediction_figure(d: OneExampleData, rows: Sequence[tuple[str, np.ndarray, np.ndarray]], title: str = ""):
    """Inputs in the first row, then one row per trained network: training image, then the 10 test digits.

    ``rows`` holds (label, train_prediction (1,28,28,1), test_predictions (10,28,28,1)).
    """
    from hwkit import plots
    images = [np.concatenate([d.x_train, d.x_test])]
    titles = [f"train {d.train_digit}"] + [f"test {k}" for k in DIGITS]
    labels = ["inputs"]
    for label, train_pred, test_pred in rows:
        images.append(np.concatenate([train_pred, test_pred]))
        titles += [""] * (1 + len(DIGITS))
        labels.append(label)
    fig = plots.image_grid(np.concatenate(images), titles=titles, ncols=1 + len(DIGITS), row_labels=labels)
    if title:
        fig.suptitle(plots.wrap(title, plots.WIDTHS_CM["full"]))
    return fig


def loss_figure(results: Sequence[SeedResult], title: str = ""):
    """Training loss (per-pixel BCE, the optimised loss) and MSE per epoch, one line per seed, log scales."""
    from hwkit import plots
    series = {f"seed {r.seed}_{k}": r.history[k] for r in results for k in ("loss", "mse")}
    fig = plots.learning_curves(series, metrics=("loss", "mse"), title=title)
    for ax, label in zip(fig.axes, ("binary cross-entropy (per pixel)", "mean squared error (metric)")):
        ax.set_yscale("log")
        ax.set_ylabel(label)
    return fig


# ----------------------------------------------------------------------------- the A1/A2 protocol

@dataclass(frozen=True)
class Protocol:
    """The A1/A2 recipe: how long and how often to train on the single image, and which SGD rates to check.

    The learning rate is not a constant: ``lr_candidates`` are each tried once (first seed) and
    ``choose_learning_rate`` picks one from that check table by ``LR_RULE``.
    """

    epochs: int = 1000                       # one SGD step on the single image each
    seeds: int = 5                           # runs with seeds first_seed, first_seed + 1, ...
    lr_candidates: tuple[float, ...] = (0.5,)

    def __post_init__(self):
        if self.epochs < 1 or self.seeds < 1:
            raise HwkitError(f"--epochs and --seeds must be at least 1, got {self.epochs} and {self.seeds}")
        if not self.lr_candidates:
            raise HwkitError("a protocol needs at least one candidate learning rate")


def run_protocol(run, build: Callable[[], keras.Model], d: OneExampleData, protocol: Protocol, *, first_seed: int,
                 name: str, f: str) -> list[SeedResult]:
    """A1/A2 (P*.1-P*.3): train ``build()`` once per seed on the single image, write everything the report needs.

    First the learning-rate check (table ``lr_check``, one run per candidate at the first seed; the chosen
    rate's run is that seed's run). Writes history.csv (loss and MSE per epoch and seed), figures ``loss``
    and ``predictions``, tables ``verdicts`` (one row per seed, with its fit check) and ``distances`` (one
    row per seed and test digit), and the findings: the chosen rate, the conjectured formula for ``f``
    (fitted runs only) and which runs had their input cut off.
    """
    print(f"training image: digit {d.train_digit}, MNIST training row {d.train_index}; "
          f"test rows {d.test_indices}")
    seeds = [first_seed + k for k in range(protocol.seeds)]
    epochs = protocol.epochs
    choice, first = checked_learning_rate(run, build, d, protocol.lr_candidates, epochs, seeds[0])
    learning_rate = choice.numbers["chosen"]
    probe = build()
    print(f"{name}: {probe.count_params()} parameters, {len(seeds)} runs x {epochs} epochs, "
          f"SGD learning rate {learning_rate}", flush=True)
    results = [first] + [train_one_example(build, d, seed, epochs, learning_rate, progress_every=max(1, epochs // 4))
                         for seed in seeds[1:]]

    # Loss over epochs (P*.2), with the fit threshold on the MSE panel.
    write_histories(run.path / "history.csv", results)
    floor = bce_floor(d.x_train)
    fig = loss_figure(results, title=f"{name}: training loss on the single image")
    fig.axes[0].axhline(floor, color="k", ls=":", lw=1, label=f"BCE floor {floor:.4f}")
    fig.axes[0].legend()
    fig.axes[1].axhline(FIT_MSE, color="r", ls="--", lw=1, label=f"fit threshold {FIT_MSE:g}")
    fig.axes[1].legend()
    run.save_figure(fig, "loss")

    # Predictions on the training image and the 10 test images (P*.3), labelled with the run's verdict
    # ("failed to fit" for a run that did not fit x_train).
    run.save_figure(prediction_figure(d, [(f"seed {r.seed}: {r.verdict}", r.train_prediction,
                                           r.test_predictions) for r in results],
                                      title=f"{name}: inputs (top) and predictions of each run"), "predictions")
    rows = [r.row() for r in results]
    run.save_table("verdicts", rows)
    run.save_table("distances", distance_rows(results, d))
    guess = conjecture(rows, f)
    for row in rows:
        print(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))
    print(f"conjecture: {guess.verdict}, {guess.numbers['formula']} ({guess.numbers['votes']} of "
          f"{guess.numbers['fitted']} fitted runs, {guess.numbers['runs']} runs)")
    units = relu_units(probe)
    run.log(findings=findings.as_dicts({"learning_rate": choice, "conjecture": guess, "fits": fit_summary(rows),
                                        "cut_off": cut_off_finding(rows)}),
            verdicts=[r.verdict for r in results], seeds=seeds, epochs=epochs,
            learning_rate=learning_rate, parameters=probe.count_params(), bce_floor=floor,
            relu_units=units, relu_unit_count=sum(units),
            final_losses=[r.history["loss"][-1] for r in results], train_mses=[r.train_mse for r in results],
            dead_units=[r.extra["dead_units"] for r in results],
            last_hidden_alive=[r.extra["last_hidden_alive"] for r in results], train_digit=d.train_digit,
            train_index=d.train_index, test_indices=d.test_indices, ratio=RATIO, fit_mse=FIT_MSE,
            cut_off_spread=CUT_OFF_SPREAD, cut_off_seeds=[row["seed"] for row in rows if row["input_cut_off"]],
            train_seconds=round(sum(r.seconds for r in results), 1))
    return results


def add_protocol_arguments(parser, default_seeds: int) -> None:
    """The A1/A2 flags: which image to learn (--digit/--occurrence) and how many seeds (--seeds)."""
    add_data_arguments(parser)
    parser.add_argument("--seeds", type=bounded_int(1, MAX_SEEDS, "a number of seeds"),
                        help=f"number of repeated runs (default {default_seeds})")


def add_data_arguments(parser, default_digit: int = 7) -> None:
    """--digit / --occurrence: which MNIST training image is the single training example."""
    parser.add_argument("--digit", type=bounded_int(0, 9, "a digit"), default=default_digit,
                        help=f"digit of the single training image (default {default_digit})")
    # the exact bound (the count of that digit) is checked once the data is loaded
    parser.add_argument("--occurrence", type=bounded_int(0, 59_999, "an image index"), default=0,
                        help="use the k-th training image of that digit (default 0: the first)")


# ----------------------------------------------------------------------------- A3 / A4: exact constructions
# Weights for h(x) = W3 ReLU(W2 ReLU(W1 x + b1) + b2) + b3, in the formulas' (out x in) layout;
# hwkit.two_hidden_relu_net turns them into a Keras model.

TOLERANCE = 1e-6       # a construction is verified when its max |error| on random inputs is at most this
VERIFIED, NOT_VERIFIED = "verified", "not verified"


def construction_check(rows: Sequence[dict], tolerance: float = TOLERANCE) -> findings.Finding:
    """A3/A4: are all constructions exact (max |error| <= ``tolerance``) on the inputs inside their claimed domains?

    ``rows``: one dict per (construction, inputs) with ``claimed_domain`` and ``max_abs_error`` (and optionally
    ``output_shape_ok``, which must then be true too). The numbers also give the largest error outside a claimed
    domain (where a construction is not claimed to hold)."""
    claimed = [r for r in rows if r["claimed_domain"]]
    inside = [r["max_abs_error"] for r in claimed]
    outside = [r["max_abs_error"] for r in rows if not r["claimed_domain"]]
    if not inside:
        raise ValueError("construction_check: no check inside a claimed domain")
    numbers = {"checks": len(inside), "worst_inside": max(inside), "tolerance": tolerance,
               "failing": sum(r["max_abs_error"] > tolerance or not r.get("output_shape_ok", True) for r in claimed),
               "worst_outside": max(outside) if outside else None}
    return findings.Finding(VERIFIED if numbers["failing"] == 0 else NOT_VERIFIED, numbers,
                            criterion=f"max |error| <= {tolerance:g} on every check inside a claimed domain")


def identity_weights(n: int, shift: float = 1.0) -> tuple[np.ndarray, ...]:
    """W1 = W2 = W3 = I (a = n), b1 = shift*1, b2 = 0, b3 = -shift*1: h(x) = x on {x : x_i >= -shift}.

    Both ReLUs see x + shift >= 0 there and pass it unchanged; the last layer removes the shift.
    ``shift = 0`` gives the bias-free version, exact on the orthant x >= 0 (so on [0,1]^n).
    """
    eye, one = np.eye(n, dtype="float32"), np.ones(n, dtype="float32")
    return eye, shift * one, eye, np.zeros(n, "float32"), eye, -shift * one


def wide_identity_weights(n: int) -> tuple[np.ndarray, ...]:
    """Identity on ALL of R^n, with the second hidden layer widened to 2n (b2 in R^2n, W3 in R^n x 2n).

    W1 = [I; -I], W2 = I_2n, W3 = [I, -I], zero biases: W3 ReLU(ReLU([x; -x])) = ReLU(x) - ReLU(-x) = x.
    """
    eye = np.eye(n, dtype="float32")
    zeros = np.zeros(2 * n, "float32")
    return np.vstack([eye, -eye]), zeros, np.eye(2 * n, dtype="float32"), zeros, np.hstack([eye, -eye]), \
        np.zeros(n, "float32")


def constant_weights(x0: np.ndarray, a: int) -> tuple[np.ndarray, ...]:
    """All weights 0 and b3 = x0 (b1, b2 anything; here 0): h(x) = x0 for every x in R^n."""
    n = x0.size
    zero = lambda *shape: np.zeros(shape, "float32")  # noqa: E731
    return zero(a, n), zero(a), zero(n, a), zero(n), zero(n, n), np.asarray(x0, "float32").reshape(n)


def max_error(model: keras.Model, x: np.ndarray, target: np.ndarray) -> float:
    """max |model(x) - target| over all inputs and coordinates."""
    return float(np.max(np.abs(np.asarray(model(x, training=False), dtype=np.float64) - target)))


# ----------------------------------------------------------------------------- A5: the depth sweep against the paper

PAPER = ("Zhang, Bengio, Hardt, Mozer and Singer, \u201cIdentity Crisis: Memorization and Generalization under "
         "Extreme Overparameterization\u201d, ICLR 2020, Fig. 3")
PAPER_CLAIM = ("CNNs trained on one image learn the identity when shallow, the constant map (they output the training "
               "image whatever the input) when deep (20 layers), and neither at the depths in between")
PHASES = ("identity", "neither", "constant")     # the paper's order as depth grows


AGREES, PARTLY, DISAGREES = "agreement", "partial agreement", "disagreement"
PAPER_DEEP = 20     # the paper's deepest CNN (hidden layers), the depth at which it reports the constant map
PAPER_RULE = ("a depth is judged when at least half of its runs fit x_train, by the verdict of more than half of "
              "those fitted runs (else \u201cmixed\u201d). Agreement: the judged verdicts never go back along "
              "identity \u2192 neither \u2192 constant as depth grows, the shallowest judged depth is the identity, "
              f"and the deepest judged depth is at least the paper's {PAPER_DEEP} layers and the constant map. "
              "Disagreement: the order goes back, the shallowest judged depth is not the identity, or a judged depth "
              f"of at least {PAPER_DEEP} layers is still the identity. Partial agreement otherwise (the order holds "
              f"from the identity, but the constant map is not seen at {PAPER_DEEP} or more layers). Fewer than 2 "
              "judged depths: not comparable")


def verdict_counts(rows: Sequence[dict]) -> dict[int, dict[str, int]]:
    """{depth: {verdict: number of fitted seeds, ..., "failed to fit": number of seeds that did not fit}}.

    ``rows``: the sweep's runs, each with ``depth``, ``fit`` and ``distance_verdict``. Only runs that fit
    x_train are counted under a verdict."""
    out: dict[int, dict[str, int]] = {}
    for r in rows:
        c = out.setdefault(int(r["depth"]), {**{v: 0 for v in VERDICTS}, findings.FAILED: 0})
        c[r["distance_verdict"] if r["fit"] == findings.FITS else findings.FAILED] += 1
    return dict(sorted(out.items()))


NOT_JUDGED = "not judged"


def depth_verdict(counts: dict[str, int]) -> str:
    """One depth's verdict from its counts: "not judged" when fewer than half of its runs fit (or none),
    else the verdict of more than half of the fitted runs, or "mixed" when none has that."""
    fitted = sum(counts[v] for v in VERDICTS)
    if fitted == 0 or 2 * fitted < fitted + counts.get(findings.FAILED, 0):
        return NOT_JUDGED
    best = max(VERDICTS, key=lambda v: counts[v])
    return best if 2 * counts[best] > fitted else MIXED


def _by_depth(rows: Sequence[dict], depth: int, key: str) -> findings.Interval | None:
    values = [r[key] for r in rows if r["depth"] == depth and r["fit"] == findings.FITS]
    return findings.seed_interval(values) if values else None


def paper_comparison(rows: Sequence[dict]) -> findings.Finding:
    """Compare the measured depth sweep with the paper's Fig. 3 by ``PAPER_RULE``: agreement, partial
    agreement, disagreement or not comparable.

    ``rows``: the sweep's runs with ``depth``, ``fit``, ``distance_verdict``, ``d_const``, ``d_id`` and
    ``spread``. Runs that failed to fit are counted as failures and left out of every verdict; the numbers
    hold the per-depth counts and verdicts, the depths grouped by verdict, and the fitted runs' distances
    (median and range) at the shallowest and deepest judged depths.
    """
    counts = verdict_counts(rows)
    depths = list(counts)
    verdicts = {d: depth_verdict(c) for d, c in counts.items()}
    judged = [d for d in depths if verdicts[d] != NOT_JUDGED]
    by = {v: [d for d in depths if verdicts[d] == v] for v in (*VERDICTS, MIXED, NOT_JUDGED)}
    numbers: dict = {"counts": {str(d): c for d, c in counts.items()},
                     "verdicts": {str(d): v for d, v in verdicts.items()},
                     **{f"{v.replace(' ', '_')}_depths": ds for v, ds in by.items()},
                     "failed_depths": [d for d in depths if counts[d][findings.FAILED]],
                     "failed_runs": sum(c[findings.FAILED] for c in counts.values()), "runs": len(rows),
                     "judged_depths": judged, "deepest": depths[-1] if depths else None,
                     "seeds_per_depth": max((sum(c.values()) for c in counts.values()), default=0)}
    if len(judged) < 2:
        numbers["monotone"] = None
        return findings.Finding(findings.NOT_COMPARABLE, numbers, criterion=PAPER_RULE)
    phases = [PHASES.index(verdicts[d]) for d in judged if verdicts[d] in PHASES]
    monotone = all(a <= b for a, b in zip(phases, phases[1:]))
    shallow, deep = judged[0], judged[-1]
    for name, depth in (("shallow", shallow), ("deep", deep)):
        numbers[name] = depth
        for key in ("d_const", "d_id", "spread"):
            i = _by_depth(rows, depth, key)
            numbers.update({f"{name}_{key}": i.center, f"{name}_{key}_low": i.low, f"{name}_{key}_high": i.high,
                            f"{name}_runs": i.n})
    numbers.update(monotone=monotone, shallow_identity=verdicts[shallow] == "identity",
                   shallow_verdict=verdicts[shallow], paper_deep_judged=deep >= PAPER_DEEP,
                   deep_verdict=verdicts[deep], paper_deep=PAPER_DEEP,
                   deeper_not_judged=[d for d in depths if d > deep])
    if not monotone or verdicts[shallow] != "identity" or (deep >= PAPER_DEEP and verdicts[deep] == "identity"):
        verdict_ = DISAGREES
    elif deep >= PAPER_DEEP and verdicts[deep] == "constant":
        verdict_ = AGREES
    else:
        verdict_ = PARTLY
    return findings.Finding(verdict_, numbers, criterion=PAPER_RULE)


def distance_vs_depth_figure(rows: Sequence[dict], title: str = ""):
    """A5: normalised distances to x_train and to the input against the number of hidden layers.

    One dot per run: filled if it fit x_train, a grey cross if it failed to (its distances describe an
    unfinished training); the lines join the medians over the fitted runs of each depth."""
    from hwkit import plots
    depths = sorted({r["depth"] for r in rows})
    fitted = [r for r in rows if r["fit"] == findings.FITS]
    failed = [r for r in rows if r["fit"] != findings.FITS]
    fig, axes = plots.figure(1, 1, width="full", height_cm=7)
    ax = axes[0, 0]
    for key, label, colour in (("d_const", "d(g(x), x_train): 0 = constant map", "tab:red"),
                               ("d_id", "d(g(x), x): 0 = identity", "tab:blue")):
        ax.scatter([r["depth"] for r in fitted], [r[key] for r in fitted], color=colour, s=14)
        ax.scatter([r["depth"] for r in failed], [r[key] for r in failed], color="grey", marker="x", s=18)
        line = [(k, np.median([r[key] for r in fitted if r["depth"] == k])) for k in depths
                if any(r["depth"] == k for r in fitted)]
        ax.plot([k for k, _ in line], [v for _, v in line], color=colour, label=label + " (median, fitted runs)")
    if failed:
        ax.scatter([], [], color="grey", marker="x", label="run that failed to fit x_train")
    ax.set_xticks(depths)
    ax.set_xlabel("hidden conv layers")
    ax.set_ylabel("mean squared distance / gap")
    ax.axhline(0, color="k", lw=0.5)
    ax.grid(alpha=0.3)
    ax.legend()
    if title:
        ax.set_title(title)
    return fig


# ----------------------------------------------------------------------------- models

def identity_mlp(hidden_layers: int = 6, units: int = 4, image_shape=(28, 28, 1)) -> keras.Model:
    """A1: h: [0,1]^28x28 -> [0,1]^28x28, ``hidden_layers`` Dense(units, ReLU) then Dense(784, sigmoid).

    7 trainable dense layers by default; the sigmoid keeps every output pixel in [0, 1] like the
    targets, and the Reshape gives the prediction the input's shape.
    """
    inputs = keras.Input(image_shape, name="image")
    x = layers.Flatten()(inputs)
    for i in range(hidden_layers):
        x = layers.Dense(units, activation="relu", name=f"hidden{i + 1}")(x)
    height, width, channels = image_shape
    x = layers.Reshape(image_shape)(layers.Dense(height * width * channels, name="pixels")(x))
    # The sigmoid comes last, after the Reshape: Keras' binary cross-entropy then works on the logits it
    # keeps on a sigmoid's output. Behind a Reshape it would clip probabilities instead, and a pixel
    # saturated at the wrong end would get zero gradient and stay wrong for good.
    outputs = layers.Activation("sigmoid", name="sigmoid")(x)
    return keras.Model(inputs, outputs, name="identity_mlp")


def identity_cnn(hidden_layers: int = 1, filters: int = 10, kernel_size: int = 5,
                 image_shape=(28, 28, 1)) -> keras.Model:
    """A2 (and the A5 depth sweep): ``hidden_layers`` x Conv(filters, k x k, "same", ReLU), then the output conv.

    Output layer: 1 filter (one grey channel, like the input), the same k x k kernel with "same"
    padding and stride 1 (so the output is 28x28 again), and a sigmoid so that g maps into [0,1].
    """
    inputs = keras.Input(image_shape, name="image")
    x = inputs
    for i in range(hidden_layers):
        x = layers.Conv2D(filters, kernel_size, padding="same", activation="relu", name=f"conv{i + 1}")(x)
    outputs = layers.Conv2D(image_shape[-1], kernel_size, padding="same", activation="sigmoid", name="pixels")(x)
    return keras.Model(inputs, outputs, name=f"identity_cnn_{hidden_layers}")


# A3 / A4: networks whose weights are SET, not learnt. W (out x in, as in the formulas) is stored
# transposed in a Dense kernel (in x out); conv kernels are (d, d, in_channels, filters).

def two_hidden_relu_net(w1, b1, w2, b2, w3, b3) -> keras.Model:
    """A3: h(x) = W3 ReLU(W2 ReLU(W1 x + b1) + b2) + b3 as a Keras model with these exact weights."""
    n_in = w1.shape[1]
    inputs = keras.Input((n_in,), name="x")
    x = inputs
    for i, (w, b, act) in enumerate([(w1, b1, "relu"), (w2, b2, "relu"), (w3, b3, None)]):
        layer = layers.Dense(w.shape[0], activation=act, name=f"W{i + 1}")
        x = layer(x)
        layer.set_weights([w.T, b])
    return keras.Model(inputs, x, name="two_hidden_relu_net")


def conv_identity_net(d: int = 3, relu: bool = False, filters: int | None = None) -> keras.Model:
    """A4: g = 1x1 output conv o hidden conv (``filters`` delta filters d x d, "same", stride 1).

    Hidden layer: filter k is s_k * delta (1 at the centre of the d x d window, 0 elsewhere) with
    s = (+1,) or, by default with ``relu``, (+1, -1); zero bias; identity or ReLU activation.
    Output: Conv2D(1 filter, 1x1, linear) with weights s and zero bias, so
    g(x) = sum_k s_k act(s_k x) = x  (act = identity: 1*x; ReLU: ReLU(x) - ReLU(-x) = x).
    ``filters=1`` with ``relu`` gives ReLU(x): the identity only for x >= 0.
    Input is (H, W, 1) with any H, W: the construction does not depend on the image size.
    """
    if d < 3 or d % 2 == 0:
        raise ValueError(f"d must be an odd number > 1, got {d}")
    signs = [1.0, -1.0][: filters or (2 if relu else 1)]
    kernel = np.zeros((d, d, 1, len(signs)), dtype="float32")
    for k, s in enumerate(signs):
        kernel[d // 2, d // 2, 0, k] = s
    inputs = keras.Input((None, None, 1), name="image")
    hidden = layers.Conv2D(len(signs), d, strides=1, padding="same", activation="relu" if relu else None,
                           name="hidden")
    output = layers.Conv2D(1, 1, strides=1, padding="same", activation=None, name="output")
    outputs = output(hidden(inputs))
    hidden.set_weights([kernel, np.zeros(len(signs), "float32")])
    output.set_weights([np.array(signs, "float32").reshape(1, 1, len(signs), 1), np.zeros(1, "float32")])
    return keras.Model(inputs, outputs, name=f"conv_identity_d{d}_c{len(signs)}_{'relu' if relu else 'linear'}")
