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

from hwkit import HwkitError, data, models, training
from hwkit.task import MAX_SEEDS, bounded_int

FIT_MSE = 5e-3        # a run "fits" the training image when its final MSE on it is at most this
RATIO = 0.25          # verdict: the winner must be at least 4x closer (in MSE) than the loser
CUT_OFF_SPREAD = 1e-6  # spread below this: the output does not depend on the input at all (input cut off)
LATE_EPOCHS = 100      # "still learning": the loss drop over this many last epochs
DIGITS = tuple(range(10))
VERDICTS = ("constant", "identity", "neither")
FORMULAS = {"constant": "{f}(x) ≈ x_train", "identity": "{f}(x) ≈ x", "neither": "no simple formula"}

# The verdict rule as A's PDF states it (``facts`` in templates/A.html): the distance ratio, and how many
# times closer the winner must be in mean squared error and in root mean squared error.
REPORT_FACTS = {"ratio": RATIO, "closer_mse": 1 / RATIO, "closer_rms": float(np.sqrt(1 / RATIO)),
                "late_epochs": LATE_EPOCHS}


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


def conjecture(verdicts: Sequence[str], f: str = "h") -> dict:
    """The formula backed by the majority of the runs' verdicts, e.g. {'formula': 'h(x) ≈ x_train', 'votes': 5}."""
    counts = {v: list(verdicts).count(v) for v in VERDICTS}
    best = max(VERDICTS, key=lambda v: counts[v])
    return {"verdict": best, "formula": FORMULAS[best].format(f=f), "votes": counts[best], "runs": len(verdicts),
            "counts": counts}


# ----------------------------------------------------------------------------- training on one image

class EveryNEpochs(keras.callbacks.Callback):
    """A compact progress line every ``every`` epochs (1000 one-step epochs make Keras' bars unreadable).

    Placed after ``training.WallClock``, the line ends with the seconds since training began.
    """

    def __init__(self, every: int, prefix: str = ""):
        super().__init__()
        self.every, self.prefix = every, prefix

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every == 0:
            logs = dict(logs or {})
            seconds = logs.pop("time_s", None)
            items = " ".join(f"{k} {v:.5g}" for k, v in logs.items())
            print(f"{self.prefix}epoch {epoch + 1}: {items}" + (f" ({seconds:.1f} s)" if seconds is not None else ""),
                  flush=True)


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

    def row(self) -> dict:
        """This run's line of the verdict table."""
        s = self.summary
        return {"seed": self.seed, "final_loss": self.history["loss"][-1], "train_mse": self.train_mse,
                "d_const": s["d_const"], "d_id": s["d_id"], "spread": s["spread"],
                "input_cut_off": input_cut_off(s["spread"]),
                "late_loss_drop": (self.history["loss"][-min(LATE_EPOCHS, len(self.history["loss"]))]
                                   - self.history["loss"][-1]),
                "images_constant": s["images_constant"],
                "images_identity": s["images_identity"], "images_neither": s["images_neither"],
                "verdict": s["verdict"], **self.extra, "seconds": round(self.seconds, 1)}


def train_one_example(build: Callable[[], keras.Model], d: OneExampleData, seed: int, epochs: int,
                      learning_rate: float, progress_every: int = 0, label: str = "") -> SeedResult:
    """Seed, build, train for ``epochs`` one-image epochs (batch of 1) with Model.fit, then measure."""
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    model = compile_one_example(build(), learning_rate)
    clock = training.WallClock()
    callbacks = [clock] + ([EveryNEpochs(progress_every, f"{label}seed {seed} ")] if progress_every else [])
    # An epoch is one SGD step on the single image (batch of 1). A repeated tf.data pipeline with
    # steps_per_epoch=1 is the same training as fit(x, x, batch_size=1) but skips Keras' per-epoch
    # re-slicing of numpy inputs, which dominates (5x) when an epoch is a single tiny step.
    one_image = tf.data.Dataset.from_tensors((d.x_train, d.x_train)).repeat()
    history = model.fit(one_image, steps_per_epoch=1, epochs=epochs, shuffle=False, verbose=0, callbacks=callbacks)
    train_pred = np.asarray(model(d.x_train, training=False))
    test_pred = np.asarray(model(d.x_test, training=False))
    result = SeedResult(seed=seed, history={k: [float(v) for v in vals] for k, vals in history.history.items()
                                            if k != "time_s"},
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
                        seed: int) -> list[dict]:
    """Train once per candidate SGD learning rate and report whether the TRAINING image is fitted.

    This is how the tasks' learning rates were chosen: there is no validation set with one example,
    and the test images must not choose anything, so the only criterion is the training fit.
    """
    rows = []
    for lr in rates:
        r = train_one_example(build, d, seed, epochs, lr)
        rows.append({"learning_rate": lr, "final_loss": r.history["loss"][-1], "train_mse": r.train_mse,
                     "fits_training_image": r.train_mse <= FIT_MSE, "dead_units": r.extra["dead_units"]})
        print(f"learning-rate check: lr {lr:g}: final loss {rows[-1]['final_loss']:.4g}, "
              f"MSE on x_train {r.train_mse:.3g}", flush=True)
    return rows


# ----------------------------------------------------------------------------- figures

def prediction_figure(d: OneExampleData, rows: Sequence[tuple[str, np.ndarray, np.ndarray]], title: str = ""):
    """Inputs in the first row, then one row per trained network: training image, then the 10 test digits.

    ``rows`` holds (label, train_prediction (1,28,28,1), test_predictions (10,28,28,1)).
    """
    from hwkit import plots
    images = [np.concatenate([d.x_train, d.x_test])]
    titles = [f"train ({d.train_digit})"] + [f"test {k}" for k in DIGITS]
    for label, train_pred, test_pred in rows:
        images.append(np.concatenate([train_pred, test_pred]))
        titles += [label] + [""] * len(DIGITS)
    fig = plots.image_grid(np.concatenate(images), titles=titles, ncols=1 + len(DIGITS), size=1.0)
    if title:
        fig.suptitle(title, fontsize=9, y=1.02)
    return fig


def loss_figure(results: Sequence[SeedResult], title: str = ""):
    """Training loss (per-pixel BCE, the optimised loss) and MSE per epoch, one line per seed, log scales."""
    from hwkit import plots
    series = {f"seed{r.seed}_{k}": r.history[k] for r in results for k in ("loss", "mse")}
    fig = plots.learning_curves(series, metrics=("loss", "mse"), title=title)
    for ax, label in zip(fig.axes, ("binary cross-entropy (per pixel)", "mean squared error (metric)")):
        ax.set_yscale("log")
        ax.set_ylabel(label)
    return fig


# ----------------------------------------------------------------------------- the A1/A2 protocol

@dataclass(frozen=True)
class Protocol:
    """The A1/A2 recipe: how long and how often to train on the single image, and at which SGD rate.

    ``lr_candidates``: rates first tried once each on the training fit (table ``lr_check``); empty
    skips that check (quick runs).
    """

    epochs: int = 1000                       # one SGD step on the single image each
    seeds: int = 5                           # runs with seeds first_seed, first_seed + 1, ...
    learning_rate: float = 0.5
    lr_candidates: tuple[float, ...] = ()

    def __post_init__(self):
        if self.epochs < 1 or self.seeds < 1:
            raise HwkitError(f"--epochs and --seeds must be at least 1, got {self.epochs} and {self.seeds}")


def run_protocol(run, build: Callable[[], keras.Model], d: OneExampleData, protocol: Protocol, *, first_seed: int,
                 name: str, f: str) -> list[SeedResult]:
    """A1/A2 (P*.1-P*.3): train ``build()`` once per seed on the single image, write everything the report needs.

    Writes history.csv (loss and MSE per epoch and seed), figures ``loss`` and ``predictions``,
    tables ``verdicts`` (one row per seed) and ``distances`` (one row per seed and test digit),
    and the metrics: the per-run verdicts and the conjectured formula for ``f`` they back, and
    which runs had their input cut off (``input_cut_off``). With ``protocol.lr_candidates``, first
    records (table ``lr_check``) which rates fit the training image.
    """
    print(f"training image: digit {d.train_digit}, MNIST training row {d.train_index}; "
          f"test rows {d.test_indices}")
    seeds = [first_seed + k for k in range(protocol.seeds)]
    epochs, learning_rate = protocol.epochs, protocol.learning_rate
    if protocol.lr_candidates:
        run.save_table("lr_check", learning_rate_check(build, d, protocol.lr_candidates, epochs, seeds[0]))
    probe = build()
    print(f"{name}: {probe.count_params()} parameters, {len(seeds)} runs x {epochs} epochs, "
          f"SGD learning rate {learning_rate}", flush=True)
    results = [train_one_example(build, d, seed, epochs, learning_rate, progress_every=max(1, epochs // 4))
               for seed in seeds]

    # Loss over epochs (P*.2).
    write_histories(run.path / "history.csv", results)
    floor = bce_floor(d.x_train)
    fig = loss_figure(results, title=f"{name}: training loss on the single image")
    fig.axes[0].axhline(floor, color="k", ls=":", lw=1, label=f"BCE floor {floor:.4f}")
    fig.axes[0].legend(fontsize=7)
    run.save_figure(fig, "loss")

    # Predictions on the training image and the 10 test images (P*.3), and the measured verdicts.
    run.save_figure(prediction_figure(d, [(f"seed {r.seed}: {r.summary['verdict']}", r.train_prediction,
                                           r.test_predictions) for r in results],
                                      title=f"{name}: inputs (top) and predictions of each run"), "predictions")
    rows = [r.row() for r in results]
    run.save_table("verdicts", rows)
    run.save_table("distances", distance_rows(results, d))
    guess = conjecture([r.summary["verdict"] for r in results], f)
    for row in rows:
        print(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))
    print(f"conjecture: {guess['formula']} ({guess['votes']}/{guess['runs']} runs)")
    units = relu_units(probe)
    run.log(conjecture=guess, verdicts=[r.summary["verdict"] for r in results], seeds=seeds, epochs=epochs,
            learning_rate=learning_rate, parameters=probe.count_params(), bce_floor=floor,
            relu_units=units, relu_unit_count=sum(units),
            mean_d_const=float(np.mean([r.summary["d_const"] for r in results])),
            mean_d_id=float(np.mean([r.summary["d_id"] for r in results])),
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


def verdict_counts(rows: Sequence[dict]) -> dict[int, dict[str, int]]:
    """{depth: {verdict: number of seeds}} from the sweep's rows (each with ``depth`` and ``verdict``)."""
    out: dict[int, dict[str, int]] = {}
    for r in rows:
        out.setdefault(int(r["depth"]), {v: 0 for v in VERDICTS})[r["verdict"]] += 1
    return dict(sorted(out.items()))


def majority(counts: dict[str, int]) -> str:
    """The verdict most seeds agree on, or ``"mixed"`` when two verdicts tie for the most."""
    top = max(counts.values())
    winners = [v for v in VERDICTS if counts[v] == top]
    return winners[0] if len(winners) == 1 else "mixed"


def _span(depths: Sequence[int]) -> str:
    return ", ".join(str(d) for d in depths) if depths else "none"


def paper_comparison(rows: Sequence[dict], fit_mse: float = FIT_MSE) -> dict:
    """Compare the measured depth sweep with the paper's Fig. 3, as numbers and one computed paragraph.

    Per depth the majority verdict over seeds; the paper's picture holds when the shallowest depth is
    "identity", the deepest is "constant", and the majority verdicts never go back along the order
    identity -> neither -> constant as depth grows. Runs that did not fit the training image
    (MSE > ``fit_mse``) are counted and named, because their verdict describes a failed fit.
    """
    counts = verdict_counts(rows)
    depths = list(counts)
    majorities = {d: majority(c) for d, c in counts.items()}
    phase = [PHASES.index(m) if m in PHASES else None for m in majorities.values()]
    known = [p for p in phase if p is not None]
    monotone = all(a <= b for a, b in zip(known, known[1:]))
    by = {v: [d for d, m in majorities.items() if m == v] for v in (*VERDICTS, "mixed")}
    unfit = sorted({int(r["depth"]) for r in rows if r["train_mse"] > fit_mse})
    mean = lambda key, d: float(np.mean([r[key] for r in rows if r["depth"] == d]))  # noqa: E731
    shallow, deep = depths[0], depths[-1]
    shallow_ok, deep_ok = majorities[shallow] == "identity", majorities[deep] == "constant"
    agreement = ("agrees with" if shallow_ok and deep_ok and monotone else
                 "partly agrees with" if shallow_ok and monotone else "disagrees with")
    seeds = max(sum(c.values()) for c in counts.values())
    text = [f"{PAPER} reports that {PAPER_CLAIM}.",
            f"Here ({seeds} seed{'s' if seeds > 1 else ''} per depth, majority verdict) the CNN learns "
            + "; ".join(f"{label} at depth {_span(by[v])}" for v, label in
                        (("identity", "the identity"), ("neither", "neither"), ("constant", "the constant map"),
                         ("mixed", "split verdicts")) if by[v])
            + "".join(f"; {label} at no depth" for v, label in (("constant", "the constant map"),) if not by[v]) + "."]
    text.append(f"The normalised distance of the test outputs to the input goes from {mean('d_id', shallow):.2f} "
                f"(depth {shallow}) to {mean('d_id', deep):.2f} (depth {deep}) while the distance to the training "
                f"image goes from {mean('d_const', shallow):.2f} to {mean('d_const', deep):.2f}, and the spread of "
                f"the outputs from {mean('spread', shallow):.2f} to {mean('spread', deep):.2f}.")
    if monotone:
        text.append("The verdicts follow the paper's order identity \u2192 neither \u2192 constant as depth grows, "
                    f"so this sweep {agreement} Fig. 3"
                    + ("." if deep_ok else f": the deepest net ({deep} layers) is not yet the constant map."))
    else:
        text.append(f"The verdicts do not follow one order with depth, so this sweep {agreement} Fig. 3.")
    deep_rows = [r for r in rows if r["depth"] == deep]
    if not deep_ok and mean("spread", deep) < 0.05:
        text.append(f"At depth {deep} the output barely depends on the input (spread {mean('spread', deep):.2f}): "
                    f"the net has become a constant map, but its constant is not the training image (mean MSE on "
                    f"x_train {float(np.mean([r['train_mse'] for r in deep_rows])):.3f}), "
                    "so training collapsed before it fitted.")
    if unfit:
        text.append(f"At depth {_span(unfit)} some runs did not fit the training image (MSE on x_train > {fit_mse}): "
                    "their verdict describes a failed fit, not a learnt function.")
    return {"counts": {str(d): c for d, c in counts.items()}, "majority": {str(d): m for d, m in majorities.items()},
            "identity_depths": by["identity"], "neither_depths": by["neither"], "constant_depths": by["constant"],
            "mixed_depths": by["mixed"], "monotone": monotone, "agreement": agreement, "unfit_depths": unfit,
            "text": " ".join(text)}


def distance_vs_depth_figure(rows: Sequence[dict], title: str = ""):
    """A5: normalised distances to x_train and to the input against the number of hidden layers (one point per run)."""
    import matplotlib.pyplot as plt
    depths = sorted({r["depth"] for r in rows})
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for key, label, colour in (("d_const", "d(g(x), x_train): 0 = constant map", "tab:red"),
                               ("d_id", "d(g(x), x): 0 = identity", "tab:blue")):
        ax.scatter([r["depth"] for r in rows], [r[key] for r in rows], color=colour, s=14)
        ax.plot(depths, [np.mean([r[key] for r in rows if r["depth"] == k]) for k in depths], color=colour,
                label=label)
    ax.set_xticks(depths)
    ax.set_xlabel("hidden conv layers")
    ax.set_ylabel("mean squared distance / gap")
    ax.axhline(0, color="k", lw=0.5)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
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
