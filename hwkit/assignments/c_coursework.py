"""Assignment C's experiment protocol: train one (model, setting) the way Coursework 1 prescribes.

The protocol (shared by C1, C3, C6/C7 and C10's final training):

* batch size 100, the training set reshuffled every epoch, ``num_epochs`` full passes;
* plain SGD on the softmax cross-entropy summed over the batch (``compile_coursework``);
* every 20 000 training samples (200 updates) training stops for a moment and the accuracy is
  measured on a *fixed* 20% of the training set and on the whole test set.

The test-set curve is the coursework's monitoring protocol: nothing is chosen or stopped on it.
Results come back in the coursework's own structure and in the row format the report tables use.
"""
from __future__ import annotations

from hwkit import tf_runtime  # noqa: F401  (quiet TensorFlow import before Keras)

# isort: split

import dataclasses
import hashlib
import math
import time
from dataclasses import dataclass
from typing import Sequence

import keras
import keras_tuner as kt
import numpy as np
from keras import layers

from hwkit import data, plots, runs, training
from hwkit import findings as fnd
from hwkit import numpy_nn as nn

BATCH_SIZE = 100
LOG_PERIOD_SAMPLES = 20_000     # evaluate every 200 updates
# Updates per call into TensorFlow: at batch 100 these small models spend much of a step in Python and dispatch.
# Several per call give the same updates with fewer round trips (the C tasks' wall times: benchmarks/results).
STEPS_PER_EXECUTION = 20
TRAIN_EVAL_FRACTION = 0.2       # the "20% of the train set" the accuracy is measured on
TRAIN_EVAL_SEED = 1234          # fixed subset: the same 12 000 images for every run

# Hidden ReLU layers of the MLP models 1-3 (model 1: linear + softmax), for the Keras and the numpy versions.
HIDDEN_UNITS: dict[int, tuple[int, ...]] = {1: (), 2: (32,), 3: (32, 32)}

# The (num_epochs, learning_rate) settings of the text, per model.
SETTINGS: dict[int, list[tuple[int, float]]] = {
    1: [(5, 1e-4), (5, 1e-3), (15, 0.1)],
    2: [(15, 1e-4), (15, 5e-3), (15, 0.1)],
    3: [(5, 1e-3), (40, 1e-3), (40, 0.05)],
    4: [(5, 0.01), (10, 1e-3), (20, 1e-3)],
    5: [(5, 0.01), (10, 1e-3), (20, 1e-3)],
}


@dataclass(frozen=True)
class Recipe:
    """The protocol's settings for one run: data sizes, evaluation period, and an epochs override.

    ``FULL`` is the text's protocol; ``QUICK`` (smoke runs) a few thousand images, one epoch and an
    evaluation every 2 000 samples. Tasks extend it (``class Recipe(c_coursework.Recipe)``) with their
    own settings and pick one with ``hwkit.task.choose_recipe``.
    """

    train_rows: int | None = None       # None: all 60 000 training images
    test_rows: int | None = None        # None: all 10 000 test images
    log_period: int = LOG_PERIOD_SAMPLES
    epochs: int | None = None           # None: each setting's own num_epochs


FULL = Recipe()
QUICK = Recipe(train_rows=4_000, test_rows=1_000, log_period=2_000, epochs=1)


@dataclass
class CourseworkData:
    """Training images, the fixed 20% evaluation subset of them, and the test images (float32, 28x28x1)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_train_eval: np.ndarray
    y_train_eval: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    train_eval_indices: np.ndarray      # rows of x_train that form the fixed 20% evaluation subset
    log_period: int = LOG_PERIOD_SAMPLES

    @property
    def train_eval_digest(self) -> str:
        """SHA-256 of the evaluation rows: their indices, images and labels
        (equal digests = C1 and C4 evaluate the same)."""
        h = hashlib.sha256()
        for a in (np.asarray(self.train_eval_indices, dtype=np.int64), self.x_train_eval, self.y_train_eval):
            h.update(np.ascontiguousarray(a).tobytes())
        return h.hexdigest()

    @property
    def splits(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        return {"train": (self.x_train_eval, self.y_train_eval), "test": (self.x_test, self.y_test)}


def train_eval_rows(n_train: int) -> int:
    """How many of ``n_train`` training rows the protocol evaluates on (TRAIN_EVAL_FRACTION of them)."""
    return int(round(TRAIN_EVAL_FRACTION * n_train))


def train_eval_indices(n_train: int) -> np.ndarray:
    """The fixed 20% of ``n_train`` training rows the protocol evaluates on (sorted; TRAIN_EVAL_SEED, never --seed)."""
    return np.sort(np.random.default_rng(TRAIN_EVAL_SEED).choice(n_train, train_eval_rows(n_train), replace=False))


SUMMED_LR_EXAMPLE = 0.01   # a learning rate of the text, to show what a summed loss does to it


def load_data(data_dir=None, recipe: Recipe = FULL, seed: int = 0) -> CourseworkData:
    """MNIST scaled to [0, 1] (a seeded subset when the recipe asks for one) and the fixed evaluation rows."""
    (x_train, y_train), (x_test, y_test) = data.load_images(data.load_mnist, data_dir, train_rows=recipe.train_rows,
                                                            test_rows=recipe.test_rows, seed=seed)
    rows = train_eval_indices(len(x_train))
    return CourseworkData(x_train, y_train, x_train[rows], y_train[rows], x_test, y_test, rows,
                          log_period=recipe.log_period)


def expected_evaluations(n_train: int, epochs: int, log_period: int = LOG_PERIOD_SAMPLES,
                         batch_size: int = BATCH_SIZE) -> int:
    """How many evaluations the protocol makes: one per ``log_period`` samples actually trained on."""
    steps = math.ceil(n_train / batch_size) * epochs
    return steps // (log_period // batch_size)


@dataclass
class SettingResult:
    """One trained (model, setting): the coursework's curves plus what the report tables need."""

    model: int
    setting: int                 # 1..3, position in SETTINGS[model]
    epochs: int
    learning_rate: float
    samples: list[int]
    train_accuracy: list[float]
    test_accuracy: list[float]
    seconds: float
    weights_finite: bool = True  # False when SGD diverged to inf/NaN weights
    parameters: int = 0
    # 1/0 per example: the final model right or wrong on the 20% training subset and on the test set (bootstraps)
    train_eval_correct: np.ndarray | None = None
    test_correct: np.ndarray | None = None

    @property
    def fit(self) -> fnd.Finding:
        return fit_finding(self.train_accuracy[-1] if self.train_accuracy else float("nan"), self.weights_finite)

    @property
    def experiment(self) -> tuple:
        """The coursework's tuple: ((num_epochs, learning_rate), train_accuracy, test_accuracy)."""
        return (self.epochs, self.learning_rate), self.train_accuracy, self.test_accuracy

    def summary_row(self) -> dict:
        return {"model": self.model, "setting": self.setting, "epochs": self.epochs,
                "learning_rate": self.learning_rate,
                "final_train_accuracy": self.train_accuracy[-1] if self.train_accuracy else None,
                "final_test_accuracy": self.test_accuracy[-1] if self.test_accuracy else None,
                "seconds": round(self.seconds, 1), "evaluations": len(self.samples),
                "weights_finite": self.weights_finite, "parameters": self.parameters, "fit": self.fit.verdict}

    def per_example_rows(self) -> list[dict]:
        """The "per_example" table rows: one 0/1 string per split (position i = example i of that split)."""
        return [{"model": self.model, "setting": self.setting, "split": split, "correct": encode_correct(c)}
                for split, c in (("train_eval", self.train_eval_correct), ("test", self.test_correct)) if c is not None]

    def curve_rows(self) -> list[dict]:
        return [{"model": self.model, "setting": self.setting, "samples": s, "train_accuracy": a, "test_accuracy": b}
                for s, a, b in zip(self.samples, self.train_accuracy, self.test_accuracy)]


def dataset(x: np.ndarray, y: np.ndarray, seed: int = 0):
    """Batches of 100, reshuffled every epoch (the text's ``next_batch(100)``)."""
    return training.dataset(x, y, BATCH_SIZE, shuffle=True, seed=seed)


def train_setting(model: keras.Model, d: CourseworkData, epochs: int, learning_rate: float, *, model_number: int,
                  setting: int, seed: int = 0, callbacks: Sequence[keras.callbacks.Callback] = (),
                  validation_data: tuple | None = None, verbose: int = 2, run_dir=None) -> SettingResult:
    """Train ``model`` for ``epochs`` under the coursework protocol and return its curves.

    ``validation_data`` (a split of the *training* images) is evaluated at each epoch end as
    ``val_*`` for callbacks such as early stopping. With ``run_dir`` the fit checkpoints there
    (``training.ResumeFromBackup``): a rerun of an interrupted task skips the settings it finished
    and continues the interrupted one.
    """
    monitor = training.EvaluateEverySamples(d.log_period, d.splits, samples_per_batch=BATCH_SIZE)
    # Several steps per call into TensorFlow, each evaluation still on its step (the same updates, fewer round trips).
    compile_coursework(model, learning_rate,
                       steps_per_execution=math.gcd(monitor.every_steps, math.ceil(len(d.x_train) / BATCH_SIZE),
                                                    STEPS_PER_EXECUTION))
    print(f"model {model_number} setting {setting}: {epochs} epochs, learning rate {learning_rate}, "
          f"{model.count_params()} parameters")
    clock = training.WallClock()
    resume = ([training.ResumeFromBackup(run_dir, runs.next_fit_name(run_dir), state_of=[clock, monitor])]
              if run_dir is not None else [])
    training.fit(model, dataset(d.x_train, d.y_train, seed), validation_data=validation_data,
                 epochs=epochs, verbose=verbose, callbacks=[clock, monitor, *callbacks, *resume])
    return SettingResult(model=model_number, setting=setting, epochs=epochs, learning_rate=learning_rate,
                         samples=monitor.series("samples"), train_accuracy=monitor.series("train_accuracy"),
                         test_accuracy=monitor.series("test_accuracy"), seconds=clock.seconds,
                         weights_finite=all(bool(np.isfinite(w).all()) for w in model.get_weights()),
                         parameters=model.count_params(),
                         train_eval_correct=correct_per_example(model, d.x_train_eval, d.y_train_eval),
                         test_correct=correct_per_example(model, d.x_test, d.y_test))


def correct_per_example(model: keras.Model, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """1/0 per example: does the model's top class match the label (what a bootstrap over examples resamples)."""
    logits = model.predict(x, batch_size=1000, verbose=0)
    return (np.argmax(logits, axis=1) == np.asarray(y).ravel()).astype(np.int8)


def encode_correct(correct) -> str:
    """0/1 per example as a compact string ("0110..."), the form the per-example tables store."""
    return "".join("1" if c else "0" for c in np.asarray(correct).ravel())


def decode_correct(text: str) -> np.ndarray:
    if set(text) - {"0", "1"}:
        raise ValueError("a per-example score string holds only 0 and 1")
    return np.frombuffer(text.encode(), dtype=np.uint8) - ord("0")


def scores_from_table(rows: list[dict] | None, model: int, setting: int, split: str = "test") -> np.ndarray | None:
    """One run's per-example 0/1 scores of (model, setting) on ``split``; None when the run did not record them."""
    row = next((r for r in rows or [] if r["model"] == model and r["setting"] == setting and r["split"] == split),
               None)
    return None if row is None else decode_correct(row["correct"])


# ----------------------------------------------------------------------------- Part 2 (C4): numpy

def flat_images(x: np.ndarray) -> np.ndarray:
    """float32 images (N, 28, 28, 1) in [0, 1] -> (N, 784), the coursework's input layout."""
    return x.reshape(len(x), -1)


def train_numpy_setting(model_id: int, epochs: int, learning_rate: float, train: tuple, evals: dict,
                        log_period: int, seed: int) -> dict:
    """C4: train model ``model_id`` (1-3) of ``hwkit.numpy_nn`` with the protocol's own loop, in numpy only.

    Xavier-uniform weights, zero biases, plain SGD on the summed cross-entropy, batches of
    BATCH_SIZE, and every ``log_period`` samples the accuracy on each of ``evals`` (name -> (x, y)
    with flat images). Returns the curves, seconds, final accuracies, divergence and dead-ReLU share.
    """
    x, y = train
    # Seeded by (seed, model, learning rate): settings that differ only in epochs (model 3's
    # (5, 1e-3) and (40, 1e-3)) share initial weights and batch order, so one is a prefix of the other.
    rng = np.random.default_rng([seed, model_id, int(round(learning_rate * 1e6))])
    model = nn.mlp(x.shape[1], HIDDEN_UNITS[model_id], 10, activation="relu", weight_init=nn.xavier_uniform, rng=rng)
    loss = nn.SoftmaxCrossEntropy(reduction="sum")
    optimizer = nn.SGD(model.parameters(), lr=learning_rate)
    log_period_updates = log_period // BATCH_SIZE
    curves, batch_losses, updates = [], [], 0
    started = time.perf_counter()
    with np.errstate(over="ignore", invalid="ignore"):   # a diverging setting is measured, not warned about
        for epoch in range(epochs):
            for idx in nn.batches(len(x), BATCH_SIZE, rng):
                batch_losses.append(nn.train_step(model, loss, optimizer, x[idx], y[idx]))
                updates += 1
                if updates % log_period_updates == 0:
                    row = {"samples": updates * BATCH_SIZE,
                           "train_loss": float(np.mean(batch_losses)) / BATCH_SIZE}  # per example
                    batch_losses = []
                    for split, (xe, ye) in evals.items():
                        row[f"{split}_accuracy"] = nn.accuracy(model, xe, ye)
                    curves.append(row)
            last = curves[-1] if curves else {}
            print(f"model {model_id} lr {learning_rate:g} epoch {epoch + 1}/{epochs}: "
                  f"train(20%) {last.get('train_accuracy', float('nan')):.4f} "
                  f"test {last.get('test_accuracy', float('nan')):.4f}", flush=True)
    seconds = time.perf_counter() - started
    final = {split: nn.accuracy(model, xe, ye) for split, (xe, ye) in evals.items()}
    with np.errstate(over="ignore", invalid="ignore"):
        correct = {split: (nn.predict(model, xe).argmax(axis=1) == ye).astype(np.int8)
                   for split, (xe, ye) in evals.items()}
    return {"curves": curves, "seconds": seconds, "final": final, "correct": correct,
            "diverged": not all(np.isfinite(p.data).all() for p in model.parameters()),
            "dead_relu_fraction": nn.dead_relu_fraction(model, evals["train"][0]),
            "parameters": model.count_params()}


def run_models(d: CourseworkData, model_numbers: Sequence[int], epochs_override: int | None = None,
               seed: int = 0, run_dir=None) -> dict[int, list[SettingResult]]:
    """Train every setting of each model (fresh Xavier-initialised weights each time; ``epochs_override`` for all)."""
    results: dict[int, list[SettingResult]] = {}
    for number in model_numbers:
        results[number] = []
        for j, (epochs, lr) in enumerate(SETTINGS[number], 1):
            keras.utils.set_random_seed(seed + 100 * number + j)
            result = train_setting(coursework_model(number), d, epochs_override or epochs, lr,
                                   model_number=number, setting=j, seed=seed, run_dir=run_dir)
            print(f"  -> final train accuracy {result.train_accuracy[-1]:.4f}, "
                  f"test accuracy {result.test_accuracy[-1]:.4f} ({result.seconds:.0f} s)")
            results[number].append(result)
    return results


def log_results(run, d: CourseworkData, results: dict[int, list[SettingResult]]) -> None:
    """Metrics every protocol run records: data sizes, evaluation period and final test accuracies."""
    flat = [r for rs in results.values() for r in rs]
    run.log(train_rows=len(d.x_train), train_eval_rows=len(d.x_train_eval), train_eval_digest=d.train_eval_digest,
            test_rows=len(d.x_test),
            log_period_samples=d.log_period, batch_size=BATCH_SIZE,
            final_test_accuracy={f"model{r.model}_setting{r.setting}": r.test_accuracy[-1] for r in flat},
            parameters={f"model{r.model}": r.parameters for r in flat},
            training_seconds=round(sum(r.seconds for r in flat), 1))


def run_protocol(run, args, model_numbers: Sequence[int], recipe: Recipe, title: str
                 ) -> tuple[CourseworkData, dict[int, list[SettingResult]]]:
    """Parts 1 and 3 (C1, C6, C7): every setting of these models under the protocol, saved and logged."""
    d = load_data(args.data_dir, recipe, seed=args.seed)
    results = run_models(d, model_numbers, epochs_override=recipe.epochs, seed=args.seed, run_dir=run.path)
    save_results(run, results, d.log_period, title)
    log_results(run, d, results)
    return d, results


def save_results(run, results: dict[int, list[SettingResult]], log_period: int, title: str) -> None:
    """The shared contract: tables "summary" and "curves", figures "learning_curves" and "summary_table"."""
    flat = [r for rs in results.values() for r in rs]
    run.save_table("summary", [r.summary_row() for r in flat])
    run.save_table("curves", [row for r in flat for row in r.curve_rows()])
    run.save_table("per_example", [row for r in flat for row in r.per_example_rows()])
    save_experiment_figures(run, {n: [r.experiment for r in rs] for n, rs in results.items()}, log_period, title)


def save_experiment_figures(run, experiments: dict[int, list[tuple]], log_period: int, title: str,
                            suffix: str = "") -> None:
    """The coursework's plot_learning_curves / plot_summary_table for ``{model number: experiment list}``."""
    names = [f"Model {n}" for n in experiments]
    run.save_figure(plots.learning_curve_grid(list(experiments.values()), names, log_period, title),
                    "learning_curves" + suffix)
    run.save_figure(plots.summary_table(list(experiments.values()), names), "summary_table" + suffix)


# The columns of a protocol run's tables (C1, C6, C7, C10) that the tasks reading them compute with: the schema
# hwkit.runs checks before such a task starts (its ``REQUIRES = {"c1": PROTOCOL_TABLES}``).
PROTOCOL_TABLES = {
    "tables/summary.json": [{"model": int, "setting": int, "epochs": int, "learning_rate": runs.NUMBER,
                             "final_train_accuracy": runs.NUMBER, "final_test_accuracy": runs.NUMBER,
                             "seconds?": runs.NUMBER, "weights_finite?": bool, "parameters?": int, "fit?": str}],
    "tables/curves.json": [{"model": int, "setting": int, "samples": runs.NUMBER, "train_accuracy": runs.NUMBER,
                            "test_accuracy": runs.NUMBER}],
}


def experiments_from_tables(summary: list[dict], curves: list[dict], model: int) -> list[tuple]:
    """Rebuild one model's experiment list from a run's "summary" and "curves" tables."""
    out = []
    for row in sorted((r for r in summary if r["model"] == model), key=lambda r: r["setting"]):
        points = sorted((c for c in curves if c["model"] == model and c["setting"] == row["setting"]),
                        key=lambda c: c["samples"])
        out.append(((row["epochs"], row["learning_rate"]), [c["train_accuracy"] for c in points],
                    [c["test_accuracy"] for c in points]))
    return out


def earlier_experiments(model_tasks: dict[int, str], include_quick: bool = False, reader: str | None = None
                        ) -> tuple[dict[int, list[tuple]], dict[str, str]]:
    """``{model: experiment list}`` read from the latest run of the task that trained it, and those runs' paths.

    A task without such a run (with its summary and curves tables, as ``PROTOCOL_TABLES`` says) stops the
    reader with one error naming the command (``hwkit.runs.require_run``).
    """
    experiments, sources = {}, {}
    for number, task in model_tasks.items():
        earlier = runs.require_run(task, include_quick, needs=PROTOCOL_TABLES, reader=reader)
        experiments[number] = experiments_from_tables(earlier.table("summary"), earlier.table("curves"), number)
        sources[f"model{number}"] = str(earlier.path)
    return experiments, sources


# ----------------------------------------------------------------------------- over-/under-fitting (C2, C3)
# Verdicts are computed from the measured curves with these named thresholds (accuracy units).
OVERFIT_GAP = 0.01          # final train - test accuracy of at least 1 point ...
UNDERFIT_MARGIN = 0.02      # final train accuracy 2+ points below the best of the nine runs
UNSTABLE_STD = 0.01         # train accuracy jitter (std about its linear trend) over the last third > 1 point
CHANCE_LEVEL = 0.2          # a run ending below this has collapsed (10 classes: chance is 0.1)


def diagnose(summary: list[dict], curves: list[dict], per_example: list[dict] | None = None) -> list[dict]:
    """Over-/under-fitting verdict per run, from the measured curves (and per-example scores, where recorded).

    * over-fitting: the train-test gap ends at >= OVERFIT_GAP *and* grew during training (the
      mean gap of the last third of the evaluations exceeds that of the first third) *and*, where the
      run recorded per-example scores (``per_example``: its "per_example" table), the 95% bootstrap
      interval of the final gap lies above 0 (``gap_finding``);
    * unstable: weights not finite, accuracy collapsed to near chance, or the training accuracy
      still jumps around (std about its linear trend > UNSTABLE_STD over the last third) - the
      learning rate is too large;
    * under-fitting: not unstable, and the final training accuracy is UNDERFIT_MARGIN or more
      below the best final training accuracy of all runs (and, with per-example scores, the paired
      bootstrap interval of that difference lies above 0: ``below_best_finding``) - the data could be
      fitted better.
      Its reasons: "capacity" when no setting of the same model gets within the margin of the best
      run, "optimisation" when another setting of
      the same model fits the training data better by the margin - or both;
    * otherwise "good fit".
    """
    best_train = max(r["final_train_accuracy"] for r in summary)
    best_row = max(summary, key=lambda r: r["final_train_accuracy"])
    best_scores = scores_from_table(per_example, best_row["model"], best_row["setting"], "train_eval")
    best_by_model = {}
    for r in summary:
        best_by_model[r["model"]] = max(best_by_model.get(r["model"], 0.0), r["final_train_accuracy"])
    out = []
    for r in summary:
        pts = sorted((c for c in curves if c["model"] == r["model"] and c["setting"] == r["setting"]),
                     key=lambda c: c["samples"])
        train = np.array([c["train_accuracy"] for c in pts])
        test = np.array([c["test_accuracy"] for c in pts])
        third = max(1, len(pts) // 3)
        gap = train - test
        final_gap = float(gap[-1])
        gap_growth = float(gap[-third:].mean() - gap[:third].mean())
        late_train_std = _detrended_std(train[-third:])
        late_train_slope = float((train[-1] - train[-third - 1]) / third) if len(train) > third else 0.0
        unstable = (not r.get("weights_finite", True) or r["final_train_accuracy"] < CHANCE_LEVEL
                    or late_train_std > UNSTABLE_STD)
        scored = [scores_from_table(per_example, r["model"], r["setting"], split) for split in ("train_eval", "test")]
        gap = gap_finding(*scored) if all(s is not None and len(s) for s in scored) else None
        overfit = (not unstable and final_gap >= OVERFIT_GAP and gap_growth > 0
                   and (gap is None or gap.verdict == TRAIN_ABOVE_TEST))
        own = scored[0]
        below = (below_best_finding(best_scores, own) if best_scores is not None and own is not None
                 and len(own) == len(best_scores) else None)
        underfit = (not unstable and r["final_train_accuracy"] <= best_train - UNDERFIT_MARGIN
                    and (below is None or below.interval.low > 0))
        if unstable:
            verdict, reason = "unstable", "non-finite weights, training accuracy near chance, or a jittering curve"
        elif overfit:
            verdict, reason = "over-fitting", "a measurable train - test gap that grew during training"
        elif underfit:
            verdict, reasons = "under-fitting", []
            if best_by_model[r["model"]] <= best_train - UNDERFIT_MARGIN:
                reasons.append("capacity: no setting of this model gets within the margin of the best run")
            if r["final_train_accuracy"] <= best_by_model[r["model"]] - UNDERFIT_MARGIN:
                reasons.append("optimisation: another setting of the same model fits the training data better "
                               "by the margin")
            reason = "; ".join(reasons)
        else:
            verdict, reason = "good fit", "none of the rules above applies"
        out.append({"model": r["model"], "setting": r["setting"], "epochs": r["epochs"],
                    "learning_rate": r["learning_rate"], "final_train_accuracy": r["final_train_accuracy"],
                    "final_test_accuracy": r["final_test_accuracy"],
                    "below_best_train": best_train - r["final_train_accuracy"],
                    "below_best_low": below.interval.low if below else None,
                    "below_best_high": below.interval.high if below else None, "final_gap": final_gap,
                    "gap_growth": gap_growth, "peak_test_accuracy": float(test.max()),
                    "test_drop_from_peak": float(test.max() - test[-1]), "late_train_std": late_train_std,
                    "late_train_slope_per_eval": late_train_slope,
                    "gap_low": gap.interval.low if gap else None, "gap_high": gap.interval.high if gap else None,
                    "gap_interval": gap.interval.method if gap else None, "verdict": verdict, "reason": reason})
    return out


def gap_figure(summary: list[dict], curves: list[dict], title: str):
    """Train - test accuracy of every run against samples processed: one column per model, one row per setting."""
    models = sorted({r["model"] for r in summary})
    panels = []
    for model in models:
        column = []
        for r in sorted((r for r in summary if r["model"] == model), key=lambda r: r["setting"]):
            pts = sorted((c for c in curves if c["model"] == model and c["setting"] == r["setting"]),
                         key=lambda c: c["samples"])
            column.append({"x": [c["samples"] for c in pts],
                           "series": {"train - test accuracy": [c["train_accuracy"] - c["test_accuracy"] for c in pts]},
                           "setting": (r["epochs"], r["learning_rate"])})
        panels.append(column)
    return plots.series_grid(panels, [f"Model {m}" for m in models],
                             row_label=lambda s: f"{s[0]} ep, lr {s[1]:g}", ylabel="train − test acc.",
                             xlabel="training samples processed", title=title)


def pick_overfitting_run(verdicts: list[dict]) -> tuple[dict, str]:
    """The over-fitting run with the largest final gap (or, if none passed the test, the largest gap)."""
    overfit = [v for v in verdicts if v["verdict"] == "over-fitting"]
    if overfit:
        return max(overfit, key=lambda v: v["final_gap"]), "largest final gap among the over-fitting runs"
    stable = [v for v in verdicts if v["verdict"] != "unstable"]
    return max(stable, key=lambda v: v["final_gap"]), "no run passed the over-fitting test: largest gap used"


def fit_overview(verdicts: list[dict]) -> dict:
    """The numbers Q1.1-Q1.2's answers quote beside the verdict rows: best final train accuracy, largest gap."""
    return {"best_train_accuracy": max(v["final_train_accuracy"] for v in verdicts),
            "largest_gap": max(v["final_gap"] for v in verdicts)}


def fix_effect(before: dict, after: dict) -> dict:
    """A fix's verdict row (``diagnose``) with what it changed against the original run (C3)."""
    return {**after, "gap_narrower": after["final_gap"] < before["final_gap"],
            "test_accuracy_change": after["final_test_accuracy"] - before["final_test_accuracy"]}


# ----------------------------------------------------------------------------- findings (C3, C8, C10)
# What the report says about a comparison comes from these: each returns a ``hwkit.findings.Finding``
# (verdict, numbers, interval) that the task stores under metrics["findings"]; the template words by verdict.
NARROWER, WIDER = "narrower", "wider"   # a train - test gap, against another run's
MIXED = "mixed"                         # some of a group of runs fit, others failed
TRAIN_ABOVE_TEST, TEST_ABOVE_TRAIN = "train above test", "test above train"   # one model's gap


def fit_finding(final_train_accuracy: float, weights_finite: bool = True,
                chance_level: float = CHANCE_LEVEL) -> fnd.Finding:
    """Did a training fit? Its final accuracy on the training subset must be at least ``chance_level``
    (10 classes: chance is 10%) with finite weights; a run left on the chance plateau failed to fit."""
    accuracy = float(final_train_accuracy)
    ok = bool(weights_finite) and bool(np.isfinite(accuracy)) and accuracy >= chance_level
    return fnd.Finding(fnd.FITS if ok else fnd.FAILED,
                       {"final_train_accuracy": accuracy, "threshold": chance_level,
                        "weights_finite": bool(weights_finite)},
                       criterion=f"final accuracy on the training subset at least {chance_level:.0%} "
                                 "(chance: 10%) with finite weights")


def compare_on_examples(a: np.ndarray | None, b: np.ndarray | None,
                        *fit_checks: fnd.Finding | dict) -> fnd.Finding:
    """Model A against model B on the same examples (1/0 each): the paired bootstrap of the accuracy difference.

    "not comparable" when either run did not record its per-example scores, the examples differ,
    or a fit check says a model failed to fit (a failed model is never compared)."""
    if a is None or b is None:
        return fnd.Finding(fnd.NOT_COMPARABLE, criterion="per-example scores not recorded by both runs")
    if len(a) != len(b):
        return fnd.Finding(fnd.NOT_COMPARABLE, {"examples_a": len(a), "examples_b": len(b)},
                           criterion="the two runs were scored on different examples")
    found = fnd.compare_paired(a, b, higher_is_better=True)
    if not fnd.fitted(*fit_checks):
        return fnd.Finding(fnd.NOT_COMPARABLE, found.numbers, found.interval,
                           criterion="a model failed to fit: it is not compared")
    return found


def _two_set_bootstrap(d_train: np.ndarray, d_test: np.ndarray, samples: int, level: float, seed: int
                       ) -> tuple[float, float, str]:
    """Percentile interval of mean(d_train) - mean(d_test), the two example sets resampled independently."""
    rng = np.random.default_rng(seed)
    boot = fnd.resampled_means(d_train, samples, rng) - fnd.resampled_means(d_test, samples, rng)
    tail = (1.0 - level) / 2.0
    low, high = (float(v) for v in np.quantile(boot, [tail, 1.0 - tail]))
    return low, high, f"{level:.0%} bootstrap over {d_train.size} training-subset and {d_test.size} test examples"


def below_best_finding(best: np.ndarray, own: np.ndarray, *, samples: int = fnd.BOOTSTRAP_SAMPLES,
                       level: float = fnd.LEVEL, seed: int = 0) -> fnd.Finding:
    """How far a run's training-subset accuracy is below the best run's, on the same images (1/0 each): the
    paired difference best - own with its bootstrap interval; "worse" only when the whole interval is above 0."""
    d = np.asarray(best, dtype=float).ravel() - np.asarray(own, dtype=float).ravel()
    if not d.size:
        raise ValueError("below_best_finding: no examples")
    boot = fnd.resampled_means(d, samples, np.random.default_rng(seed))
    tail = (1.0 - level) / 2.0
    low, high = (float(v) for v in np.quantile(boot, [tail, 1.0 - tail]))
    method = f"{level:.0%} paired bootstrap over {d.size} training-subset examples"
    verdict = fnd.WORSE if low > 0 else fnd.BETTER if high < 0 else fnd.SAME
    return fnd.Finding(verdict, {"below_best": float(d.mean()), "low": low, "high": high},
                       fnd.Interval(float(d.mean()), low, high, int(d.size), method),
                       criterion=f"the {method} interval of best - own excludes 0")


def gap_finding(train: np.ndarray, test: np.ndarray, *, samples: int = fnd.BOOTSTRAP_SAMPLES,
                level: float = fnd.LEVEL, seed: int = 0) -> fnd.Finding:
    """One model's train - test accuracy gap (1/0 per training-subset and per test example) with its interval.

    "train above test" only when the whole interval is above 0 ("test above train" below 0)."""
    train, test = (np.asarray(v, dtype=float).ravel() for v in (train, test))
    if not train.size or not test.size:
        raise ValueError("gap_finding: no examples")
    low, high, method = _two_set_bootstrap(train, test, samples, level, seed)
    center = float(train.mean() - test.mean())
    verdict = TRAIN_ABOVE_TEST if low > 0 else TEST_ABOVE_TRAIN if high < 0 else fnd.SAME
    return fnd.Finding(verdict, {"gap": center, "gap_low": low, "gap_high": high},
                       fnd.Interval(center, low, high, int(test.size), method),
                       criterion=f"the {method} interval of the gap excludes 0")


def gap_change(a_train: np.ndarray, a_test: np.ndarray, b_train: np.ndarray, b_test: np.ndarray, *,
               samples: int = fnd.BOOTSTRAP_SAMPLES, level: float = fnd.LEVEL, seed: int = 0) -> fnd.Finding:
    """Is A's train - test accuracy gap narrower than B's? Both models scored on the same training-subset
    and test examples (1/0 each); the two example sets are resampled independently, each paired A vs B.

    "narrower" ("wider") only when the whole interval of gap_A - gap_B is below (above) 0."""
    a_train, a_test, b_train, b_test = (np.asarray(v, dtype=float).ravel() for v in (a_train, a_test, b_train, b_test))
    if a_train.shape != b_train.shape or a_test.shape != b_test.shape or not a_train.size or not a_test.size:
        raise ValueError("gap_change: both models need scores on the same, non-empty example sets")
    d_train, d_test = a_train - b_train, a_test - b_test
    low, high, method = _two_set_bootstrap(d_train, d_test, samples, level, seed)
    center = float(d_train.mean() - d_test.mean())
    interval = fnd.Interval(center, low, high, int(d_test.size), method)
    numbers = {"gap_a": float(a_train.mean() - a_test.mean()), "gap_b": float(b_train.mean() - b_test.mean()),
               "difference": center, "difference_low": low, "difference_high": high}
    verdict = NARROWER if high < 0 else WIDER if low > 0 else fnd.SAME
    return fnd.Finding(verdict, numbers, interval, criterion=f"the {method} interval of the change excludes 0")


def choice_finding(candidates: dict[float, np.ndarray]) -> fnd.Finding:
    """Was the candidate with the best validation accuracy measurably better than each other candidate?

    ``candidates``: value -> 1/0 per validation example. "better" when the paired bootstrap puts the
    winner above every other candidate; otherwise "no measurable difference" against the closest one."""
    if len(candidates) < 2:
        return fnd.Finding(fnd.NOT_COMPARABLE, criterion="fewer than two candidates")
    ranked = sorted(candidates, key=lambda v: float(np.mean(candidates[v])), reverse=True)
    chosen, runner_up = ranked[0], ranked[1]
    versus = {v: fnd.compare_paired(candidates[chosen], candidates[v], higher_is_better=True) for v in ranked[1:]}
    close = versus[runner_up]
    numbers = {"chosen": chosen, "runner_up": runner_up, **close.numbers,
               "indistinguishable": [v for v, f in versus.items() if f.verdict != fnd.BETTER]}
    verdict = fnd.BETTER if all(f.verdict == fnd.BETTER for f in versus.values()) else fnd.SAME
    return fnd.Finding(verdict, numbers, close.interval,
                       criterion="the chosen value is better only when the paired bootstrap interval of its "
                                 "validation-accuracy difference to every other candidate excludes 0")


class StopPoint(keras.callbacks.Callback):
    """Keras ``EarlyStopping(monitor="val_accuracy", patience)`` that records instead of stopping.

    At the epoch where early stopping would stop, the model's per-example scores on ``splits``
    (name -> (x, y)) are kept; training goes on to the last epoch. One training thus gives the
    early-stopped model and the unstopped model on the same images (a like-for-like comparison).
    """

    def __init__(self, patience: int, splits: dict[str, tuple]):
        super().__init__()
        self.patience, self.splits = patience, splits
        self.best, self.wait, self.stopped_epoch, self.stopped, self.scores = -np.inf, 0, None, False, {}

    def on_epoch_end(self, epoch, logs=None):
        if self.stopped_epoch is not None:
            return
        value = (logs or {}).get("val_accuracy")
        if value is not None and value > self.best:
            self.best, self.wait = float(value), 0
        else:
            self.wait += 1
        if self.wait >= self.patience:
            self._stop_here(epoch + 1, stopped=True)

    def on_train_end(self, logs=None):
        if self.stopped_epoch is None:          # patience never ran out: early stopping trains to the end
            self._stop_here(self.params.get("epochs"), stopped=False)

    def _stop_here(self, epoch: int | None, stopped: bool):
        self.stopped_epoch, self.stopped = epoch, stopped
        self.scores = {name: correct_per_example(self.model, x, y) for name, (x, y) in self.splits.items()}


SIMILAR, NOT_SIMILAR = "similar or better", "worse by more than the margin"


def similar_finding(versus: fnd.Finding, margin: float) -> fnd.Finding:
    """Q3.4's "similar accuracy", as a non-inferiority test on the paired bootstrap ``versus`` (Q3.4 - model 4):
    "similar or better" when the whole interval of the difference lies above -``margin``, "worse by more than
    the margin" when it lies below, "no measurable difference" from the margin otherwise."""
    if versus.verdict == fnd.NOT_COMPARABLE or versus.interval is None:
        return fnd.Finding(fnd.NOT_COMPARABLE, versus.numbers, criterion=versus.criterion)
    low, high = versus.interval.low, versus.interval.high
    verdict = SIMILAR if low >= -margin else NOT_SIMILAR if high < -margin else fnd.SAME
    return fnd.Finding(verdict, {**versus.numbers, "margin": margin}, versus.interval,
                       criterion=f"the {versus.interval.method} interval of the difference against -{margin:g}")

def early_stopped(unstopped: SettingResult, stop: StopPoint, fit_rows: int) -> SettingResult:
    """The early-stopped model as a result of its own: the curves up to the stop point and the scores there."""
    last_sample = stop.stopped_epoch * -(-fit_rows // BATCH_SIZE) * BATCH_SIZE
    keep = [i for i, s in enumerate(unstopped.samples) if s <= last_sample]
    cut = dataclasses.replace(unstopped, epochs=stop.stopped_epoch, samples=[unstopped.samples[i] for i in keep],
                              train_accuracy=[unstopped.train_accuracy[i] for i in keep],
                              test_accuracy=[unstopped.test_accuracy[i] for i in keep],
                              train_eval_correct=stop.scores["train_eval"], test_correct=stop.scores["test"])
    return ending_at_its_model(cut, last_sample)


def ending_at_its_model(result: SettingResult, last_sample: int) -> SettingResult:
    """The curves with one more point at ``last_sample`` (the end of training) from the per-example scores,
    where the periodic evaluations stopped short of it: the last point is then the model that is compared."""
    if result.samples and result.samples[-1] >= last_sample:
        return result
    return dataclasses.replace(result, samples=[*result.samples, last_sample],
                               train_accuracy=[*result.train_accuracy, float(np.mean(result.train_eval_correct))],
                               test_accuracy=[*result.test_accuracy, float(np.mean(result.test_correct))])


def fix_findings(source_scores: list[dict] | None, number: int, setting: int, before_fit: fnd.Finding,
                 fixed: SettingResult, unstopped: SettingResult, stopped: SettingResult) -> dict[str, fnd.Finding]:
    """C3: each fix against the run it fixes, on the same examples: test accuracy and train - test gap.

    L2 (``fixed``) against the C1 run (``source_scores``: its "per_example" table); the early-stopped model
    against the unstopped one trained on the same fit split; and a fit check of each new model."""
    before_train = scores_from_table(source_scores, number, setting, "train_eval")
    before_test = scores_from_table(source_scores, number, setting, "test")
    out = {"fit_l2": fixed.fit, "fit_unstopped": unstopped.fit, "fit_early_stopping": stopped.fit,
           "l2_test": compare_on_examples(fixed.test_correct, before_test, fixed.fit, before_fit),
           "early_stopping_test": compare_on_examples(stopped.test_correct, unstopped.test_correct,
                                                                   stopped.fit, unstopped.fit),
           "early_stopping_gap": gap_change(stopped.train_eval_correct, stopped.test_correct,
                                                         unstopped.train_eval_correct, unstopped.test_correct)}
    if before_train is None or before_test is None or len(before_test) != len(fixed.test_correct):
        out["l2_gap"] = fnd.Finding(fnd.NOT_COMPARABLE, criterion="per-example scores not recorded by the C1 run")
    else:
        out["l2_gap"] = gap_change(fixed.train_eval_correct, fixed.test_correct, before_train, before_test)
    return out


def _detrended_std(values: np.ndarray) -> float:
    """Standard deviation about the least-squares line: jitter, not a steady climb."""
    if len(values) < 3:
        return 0.0
    t = np.arange(len(values))
    return float((values - np.polyval(np.polyfit(t, values, 1), t)).std())


# ----------------------------------------------------------------------------- numpy (C4) against Keras (C1)
AGREE_WITHIN_POINTS = 1.5    # two implementations "agree" when test accuracies differ by at most 1.5 points
LAST_EVALUATIONS = 15        # the level of a noisy curve: mean of its last 15 evaluations (5 epochs of a full run)


def compare_implementations(summary: list[dict], curves: list[dict], other_summary: list[dict],
                            other_curves: list[dict] | None, within: float = AGREE_WITHIN_POINTS,
                            window: int = LAST_EVALUATIONS) -> tuple[list[dict], dict]:
    """Per (model, setting): final test accuracy and mean of the last ``window`` evaluations, ours vs the other's.

    Differences are in accuracy *points* (ours - other's). Returns the rows and the counts the
    answer quotes: how many settings agree within ``within`` points, and the largest gap, for the
    final evaluation and (when both runs have curves) for the mean of the last evaluations.
    """
    def last_test(rows, r):
        return [c["test_accuracy"] for c in rows if c["model"] == r["model"] and c["setting"] == r["setting"]][-window:]

    rows = []
    for r in summary:
        for k in (k for k in other_summary if k["model"] == r["model"] and k["setting"] == r["setting"]):
            a, b = last_test(curves or [], r), last_test(other_curves or [], r)
            mean_a = sum(a) / len(a) if a and b else None
            mean_b = sum(b) / len(b) if a and b else None
            rows.append({"model": r["model"], "setting": r["setting"], "epochs": r["epochs"],
                         "learning_rate": r["learning_rate"], "test_accuracy": r["final_test_accuracy"],
                         "other_test_accuracy": k["final_test_accuracy"],
                         "difference_points": 100 * (r["final_test_accuracy"] - k["final_test_accuracy"]),
                         "mean_last": mean_a, "other_mean_last": mean_b,
                         "mean_difference_points": None if mean_a is None else 100 * (mean_a - mean_b),
                         "seconds_per_epoch": r["seconds"] / r["epochs"],
                         "other_seconds_per_epoch": k["seconds"] / k["epochs"] if k.get("seconds") and k.get("epochs")
                         else None})
    final = [abs(r["difference_points"]) for r in rows]
    means = [abs(r["mean_difference_points"]) for r in rows if r["mean_difference_points"] is not None]
    overview = {"within_points": within, "window": window,
                "settings": len(final), "agree": sum(d <= within for d in final),
                "largest_gap": max(final, default=0.0),
                "settings_mean": len(means), "agree_mean": sum(d <= within for d in means),
                "largest_gap_mean": max(means, default=0.0)}
    return rows, overview


def implementation_findings(ours: dict[tuple, np.ndarray], other_rows: list[dict] | None,
                            fits: dict[tuple, fnd.Finding], other_summary: list[dict]) -> tuple[dict, fnd.Finding]:
    """C4 against C1, setting by setting: the paired bootstrap of the final test accuracy (numpy - Keras) on the
    same test images, and an overall finding: "no measurable difference" when every setting that fit on both
    sides shows none, "mixed" when some differ, "not comparable" when none can be compared.

    ``ours``: (model, setting) -> 1/0 per test image; ``other_rows``: the C1 run's "per_example" table."""
    per_setting = {}
    for key, correct in ours.items():
        row = next((r for r in other_summary if (r["model"], r["setting"]) == key), None)
        other_fit = (fit_finding(row["final_train_accuracy"], row.get("weights_finite", True)) if row
                     else fnd.Finding(fnd.FAILED, criterion="no such setting in the C1 run"))
        per_setting[key] = compare_on_examples(correct, scores_from_table(other_rows, *key), fits[key], other_fit)
    counts = {v: sum(f.verdict == v for f in per_setting.values())
              for v in (fnd.BETTER, fnd.WORSE, fnd.SAME, fnd.NOT_COMPARABLE)}
    comparable = len(per_setting) - counts[fnd.NOT_COMPARABLE]
    verdict = (fnd.NOT_COMPARABLE if not comparable else fnd.SAME if counts[fnd.SAME] == comparable else MIXED)
    numbers = {**{k.replace(" ", "_"): n for k, n in counts.items()}, "settings": len(per_setting)}
    overall = fnd.Finding(verdict, numbers,
                          criterion="every setting that fit on both sides: paired bootstrap interval of the "
                                    "test-accuracy difference includes 0")
    return per_setting, overall


def collapsed_settings(summary: list[dict], chance_level: float = CHANCE_LEVEL) -> list[dict]:
    """The settings whose final test accuracy ended below ``chance_level`` (training collapsed)."""
    return [r for r in summary if r["final_test_accuracy"] < chance_level]


# ----------------------------------------------------------------------------- convolutional vs Part 1 (C8)

def accuracy_comparison(quick: bool) -> tuple[list[dict], dict, dict]:
    """Per-setting final test accuracy of models 1-5 from the latest C1, C6 and C7 runs, and each model's
    chosen setting: the one with the best final accuracy on the *training* subset among the settings that
    fit (the test set chooses nothing). Also returns the runs' paths and the chosen settings' per-example
    test scores ``{model: 1/0 array}`` (absent where a run did not record them)."""
    rows, sources, scores = [], {}, {}
    for task in ("c1", "c6", "c7"):
        record = runs.latest_run(task, include_quick=quick)
        if record is None or not record.table("summary"):
            continue
        sources[task] = str(record.path)
        by_model: dict[int, list[dict]] = {}
        for r in record.table("summary"):
            by_model.setdefault(r["model"], []).append(r)
        for model, rs in sorted(by_model.items()):
            fits = {r["setting"]: fit_finding(r["final_train_accuracy"], r.get("weights_finite", True))
                    for r in rs}
            fitted = [r for r in rs if fits[r["setting"]].verdict == fnd.FITS]
            chosen = max(fitted or rs, key=lambda r: r["final_train_accuracy"])
            rows.append({"model": model, "parameters": rs[0].get("parameters"),
                         **{f"setting{r['setting']}": r["final_test_accuracy"] for r in rs},
                         **{f"setting{r['setting']}_fit": fits[r["setting"]].verdict for r in rs},
                         "chosen_setting": chosen["setting"], "chosen_fit": fits[chosen["setting"]].verdict,
                         "chosen_train_accuracy": chosen["final_train_accuracy"],
                         "chosen_test_accuracy": chosen["final_test_accuracy"], "run": record.name})
            test = scores_from_table(record.table("per_example"), model, chosen["setting"])
            if test is not None:
                scores[model] = test
    return rows, sources, scores


def convolution_answer(comparison: list[dict], scores: dict[int, np.ndarray] | None = None) -> dict | None:
    """Q3.2's comparison of models 4 and 5 with the best Part 1 MLP, from C8's "accuracy_comparison" rows.

    Each model is represented by its chosen setting (best training-subset accuracy among the settings
    that fit: ``c_convolutions.accuracy_comparison``); the best MLP is the MLP whose chosen setting has
    the best training-subset accuracy. ``scores`` (model -> 1/0 per test example of that setting) give
    the findings "model4_vs_mlp" and "model5_vs_mlp": paired bootstraps of the test-accuracy difference.
    None unless all five models are present. Differences are in points; parameter shares in percent.
    """
    if len({r["model"] for r in comparison}) < 5:
        return None
    scores = scores or {}
    mlp = max((r for r in comparison if r["model"] <= 3), key=lambda r: r["chosen_train_accuracy"])
    out = {"mlp_model": mlp["model"], "mlp_parameters": mlp["parameters"], "mlp_setting": mlp["chosen_setting"],
           "mlp_test_accuracy": mlp["chosen_test_accuracy"], "findings": {}}
    for m in (4, 5):
        r = next(r for r in comparison if r["model"] == m)
        out[f"model{m}"] = {"test_accuracy": r["chosen_test_accuracy"], "setting": r["chosen_setting"],
                            "parameters": r["parameters"], "setting1": r.get("setting1"),
                            "setting1_fit": r.get("setting1_fit"),
                            "parameters_percent_of_mlp": 100 * r["parameters"] / mlp["parameters"]}
        checks = [{"verdict": r["chosen_fit"]}, {"verdict": mlp["chosen_fit"]}]
        out["findings"][f"model{m}_vs_mlp"] = compare_on_examples(scores.get(m), scores.get(mlp["model"]),
                                                                  *checks).as_dict()
    # Setting 1 (LR 0.01 on a summed loss) of models 4 and 5: did both fail the fit check?
    fits = {out[f"model{m}"]["setting1_fit"] for m in (4, 5)}
    out["findings"]["setting1_fit"] = fnd.Finding(
        fits.pop() if len(fits) == 1 and None not in fits else MIXED,
        {"model4": out["model4"]["setting1"], "model5": out["model5"]["setting1"]},
        criterion="the fit check of C1's tables, for setting 1 of models 4 and 5").as_dict()
    return out


# ----------------------------------------------------------------------------- models
# Coursework 1 models, exactly as the text specifies them. Every layer uses Keras' default
# kernel initializer, glorot_uniform = Xavier initialisation (Glorot & Bengio 2010), and zero
# biases. The models output *logits* (the input to the softmax): the softmax lives inside the
# cross-entropy (``from_logits=True``), which is the numerically stable form of the same loss.

def coursework_mlp(hidden_units: tuple[int, ...] = (), name: str = "mlp", l2: float = 0.0) -> keras.Model:
    """C models 1-3: flattened 28x28 image -> [Dense(h) + ReLU]* -> Dense(10) logits.

    Model 1: ``()`` (linear + softmax); model 2: ``(32,)``; model 3: ``(32, 32)``.
    ``l2`` > 0 adds l2 * sum(W^2) of every weight matrix to the loss once per batch (C3's fix).
    """
    reg = keras.regularizers.L2(l2) if l2 else None
    inputs = keras.Input((28, 28, 1), name="image")
    x = layers.Flatten()(inputs)
    for i, units in enumerate(hidden_units, 1):
        x = layers.Dense(units, activation="relu", kernel_initializer="glorot_uniform", kernel_regularizer=reg,
                         name=f"hidden{i}")(x)
    outputs = layers.Dense(10, kernel_initializer="glorot_uniform", kernel_regularizer=reg, name="logits")(x)
    return keras.Model(inputs, outputs, name=name)


def coursework_cnn() -> keras.Model:
    """C model 4: [conv 3x3x8 + ReLU, maxpool 2x2] x2 (SAME padding, stride 1) -> Dense(32) ReLU -> logits."""
    inputs = keras.Input((28, 28, 1), name="image")
    x = inputs
    for i in (1, 2):
        x = layers.Conv2D(8, 3, padding="same", activation="relu", name=f"conv{i}")(x)
        x = layers.MaxPooling2D(2, padding="same", name=f"pool{i}")(x)  # 28 -> 14 -> 7
    x = layers.Flatten()(x)
    x = layers.Dense(32, activation="relu", name="hidden")(x)
    outputs = layers.Dense(10, name="logits")(x)
    return keras.Model(inputs, outputs, name="model4_cnn")


def separable_cnn(filters: tuple[int, ...] = (8, 4), pool_after: tuple[bool, ...] = (False, True),
                  dense_units: int = 32, name: str = "separable_cnn", plain_first: bool = False) -> keras.Model:
    """Separable convs (depthwise 3x3 + pointwise 1x1, ReLU, SAME), optional 2x2 max-pool after each.

    The defaults are C model 5: sep-conv 3x3x8, sep-conv 3x3x4 + maxpool -> Dense(32) ReLU -> logits.
    ``plain_first`` makes the first layer a plain 3x3 conv: on a 1-channel input a separable conv
    saves almost nothing (9 + f weights instead of 9f) and its f maps are all multiples of one
    filtered image.
    """
    if len(filters) != len(pool_after):
        raise ValueError("filters and pool_after need one entry per separable conv")
    inputs = keras.Input((28, 28, 1), name="image")
    x = inputs
    for i, (f, pool) in enumerate(zip(filters, pool_after), 1):
        conv = layers.Conv2D if (plain_first and i == 1) else layers.SeparableConv2D
        x = conv(f, 3, padding="same", activation="relu",
                 name=f"{'conv' if conv is layers.Conv2D else 'sepconv'}{i}")(x)
        if pool:
            x = layers.MaxPooling2D(2, padding="same", name=f"pool{i}")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(dense_units, activation="relu", name="hidden")(x)
    outputs = layers.Dense(10, name="logits")(x)
    return keras.Model(inputs, outputs, name=name)


def coursework_model(number: int, l2: float = 0.0) -> keras.Model:
    """C models 1-5 by their number in the coursework (``l2``: weight penalty, MLPs 1-3 only)."""
    if l2 and number > 3:
        raise ValueError("the l2 penalty is implemented for the MLP models 1-3 only")
    factories = {1: lambda: coursework_mlp(HIDDEN_UNITS[1], "model1_linear", l2),
                 2: lambda: coursework_mlp(HIDDEN_UNITS[2], "model2_mlp32", l2),
                 3: lambda: coursework_mlp(HIDDEN_UNITS[3], "model3_mlp32x32", l2),
                 4: coursework_cnn,
                 5: lambda: separable_cnn(name="model5_separable")}
    if number not in factories:
        raise ValueError(f"the coursework has models 1-5, not {number}")
    return factories[number]()


def compile_coursework(model: keras.Model, learning_rate: float,
                       steps_per_execution: int = STEPS_PER_EXECUTION) -> keras.Model:
    """The coursework recipe: plain SGD, softmax cross-entropy *summed* over the batch.

    Summing (tf.reduce_sum in the text) instead of averaging makes each step 100x larger than
    the usual mean loss at batch size 100, which is why the text's learning rates look small.
    ``steps_per_execution`` changes no update, only how many run per call into TensorFlow.
    """
    model.compile(optimizer=keras.optimizers.SGD(learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="sum"),
                  metrics=["accuracy"], jit_compile=False,  # XLA costs more than it saves for these tiny models on CPU
                  steps_per_execution=steps_per_execution)
    return model


class SeparableCnnHyperModel(kt.HyperModel):
    """C10 (Q3.4) search space: a plain 3x3 conv, then two separable-conv blocks, each block + 2x2 max-pool.

    Pooling after every block (28 -> 14 -> 7 -> 4) keeps the dense layer small, which is where
    models 4 and 5 keep most of their parameters; the largest model in this space
    (16-16-16 filters, 32 units) has 9.5 k parameters, below model 4's 13.6 k, so every trial
    qualifies. Trained with the coursework recipe (SGD, summed cross-entropy).
    """

    def __init__(self):
        super().__init__(name="separable_cnn")

    def build(self, hp: kt.HyperParameters) -> keras.Model:
        filters = tuple(hp.Choice(f"filters{i}", [8, 16]) for i in (1, 2, 3))
        model = separable_cnn(filters, (True, True, True), dense_units=hp.Choice("dense_units", [16, 32]),
                              name="q34_separable", plain_first=True)
        # Model 4 setting 1 (LR 0.01) shows what larger rates do to a summed loss: they diverge.
        return compile_coursework(model, hp.Choice("learning_rate", [1e-3, 2e-3, 4e-3]))


# What C's PDF states about the protocol besides the runs (``facts`` in templates/C.html), for a full run.
REPORT_FACTS = {
    "batch_size": BATCH_SIZE,
    "chance_level": CHANCE_LEVEL,   # below it a run (or a search trial) has collapsed
    "log_period_samples": LOG_PERIOD_SAMPLES,
    "log_period_updates": LOG_PERIOD_SAMPLES // BATCH_SIZE,
    "train_eval_fraction": TRAIN_EVAL_FRACTION,
    "train_eval_rows": train_eval_rows(data.MNIST_COUNTS["train"]),
    # With the loss summed over a batch, each SGD step is BATCH_SIZE times the step of the mean loss.
    "summed_lr_example": SUMMED_LR_EXAMPLE,
    "summed_lr_example_as_mean": SUMMED_LR_EXAMPLE * BATCH_SIZE,
    # C4 vs C1: the level of a noisy curve is the mean of its last LAST_EVALUATIONS evaluations = this many full epochs
    "last_evaluations_epochs": LAST_EVALUATIONS * LOG_PERIOD_SAMPLES / data.MNIST_COUNTS["train"],
}
