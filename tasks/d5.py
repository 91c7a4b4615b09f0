"""D5: numpy MLP with a PyTorch-like API trained on mnist_train.csv / mnist_test.csv (<5% test error, aim <2%).

Programming Problem 1: (a) Sigmoid, Tanh and ReLU with forward and derivative, (b) softmax
cross-entropy forward and backward, (c) ``random_normal_weight_init`` and ``zeros_bias_init``,
(d) an ``MLP`` with forward / backward / step / zero_grads / get_loss / get_error and momentum,
(e) training with ``get_training_stats``, a loss-and-error plot like the text's Fig. 7, the
final test error, and the trained model saved as ``p1_model.npz``. Everything in (a)-(d) is
``hwkit.numpy_nn`` (the same layers assignment C's numpy models use); no deep-learning package.

How the hyperparameters were chosen: 10 000 rows of ``mnist_train.csv`` are held out as a
validation split; a few candidate settings (width, activation, weight initialization, learning
rate, momentum) are each trained for two epochs on part of the rest and ranked by validation
error. The best one is trained for longer with a cosine learning-rate decay. The test CSV is
evaluated after every epoch only as a monitoring curve, and the final test error is reported once.
Every training has a fit check (``d_findings.fit``); a candidate that fails it is never chosen, and
the choice is compared with the runner-up on the same validation rows (paired bootstrap).

Weight initialization: ``random_normal_weight_init`` draws N(0, 1) exactly as the text asks.
With 784 inputs that makes pre-activations ~10x too large, and the search measures what that
does; the other candidates use ``he_normal_weight_init`` = the same draw times sqrt(2 / fan_in).
"""
from __future__ import annotations

import dataclasses
import math
import time

import numpy as np

from hwkit import HwkitError, data, findings, plots
from hwkit import numpy_nn as nn
from hwkit.assignments import d_findings, d_goals
from hwkit.task import MAX_EPOCHS, bounded_int, choose_recipe, main

INIT = {"standard normal N(0,1)": nn.random_normal_weight_init, "He: N(0,1)·sqrt(2/fan_in)": nn.he_normal_weight_init}
CANDIDATES = [                    # the search space, tried in this order
    dict(hiddens=(256, 128), activation="relu", init="standard normal N(0,1)", lr=0.05, momentum=0.9),
    dict(hiddens=(256, 128), activation="relu", init="He: N(0,1)·sqrt(2/fan_in)", lr=0.05, momentum=0.9),
    dict(hiddens=(256, 128), activation="tanh", init="He: N(0,1)·sqrt(2/fan_in)", lr=0.05, momentum=0.9),
    dict(hiddens=(256, 128), activation="sigmoid", init="He: N(0,1)·sqrt(2/fan_in)", lr=0.2, momentum=0.9),
    dict(hiddens=(512, 256), activation="relu", init="He: N(0,1)·sqrt(2/fan_in)", lr=0.05, momentum=0.9),
    dict(hiddens=(512, 256), activation="relu", init="He: N(0,1)·sqrt(2/fan_in)", lr=0.05, momentum=0.0),
]


@dataclasses.dataclass(frozen=True)
class Recipe:
    train_rows: int | None = None     # None: all 60 000 rows of mnist_train.csv
    test_rows: int | None = None
    validation_rows: int = 10_000     # held out from mnist_train.csv; chooses the hyperparameters
    batch_size: int = 64
    search_rows: int = 20_000         # training rows per search candidate
    search_epochs: int = 2
    first_candidate: int = 0          # the candidates tried: CANDIDATES[first_candidate:]
    epochs: int = 20                  # final training; cosine decay of the learning rate over these


FULL = Recipe()
QUICK = dataclasses.replace(FULL, train_rows=3_000, test_rows=1_000, validation_rows=500, search_rows=1_000,
                            search_epochs=1, first_candidate=len(CANDIDATES) - 2, epochs=2)


def add_arguments(parser):
    parser.add_argument("--search-epochs", type=bounded_int(1, MAX_EPOCHS, "a number of epochs"),
                        help=f"epochs per search candidate (default {FULL.search_epochs})")


def build(candidate: dict, seed: int) -> nn.MLP:
    """The candidate's MLP: 784 -> hiddens -> 10, softmax cross-entropy (mean over the batch)."""
    return nn.MLP(784, 10, candidate["hiddens"], [nn.ACTIVATIONS[candidate["activation"]]() for _ in
                                                  candidate["hiddens"]],
                  weight_init_fn=INIT[candidate["init"]], bias_init_fn=nn.zeros_bias_init,
                  criterion=nn.SoftmaxCrossEntropy(reduction="mean"), lr=candidate["lr"],
                  momentum=candidate["momentum"], rng=np.random.default_rng(seed))


def labels(y: np.ndarray) -> np.ndarray:
    """Class indices of integer or one-hot labels."""
    return y.argmax(1) if y.ndim == 2 else y


def describe(c: dict) -> str:
    return (f"{'-'.join(map(str, c['hiddens']))} {c['activation']}, {c['init'].split(':')[0]} init, "
            f"lr {c['lr']}, momentum {c['momentum']}")


def run(args, run):
    recipe = choose_recipe(args, FULL, QUICK)
    batch_size = recipe.batch_size
    # Data: the assignment's CSV files (python -m hwkit.data export-csv writes them), pixels / 255.
    (x_train, y_train), (x_test, y_test) = data.load_images(data.load_mnist_csv, args.data_dir,
                                                            train_rows=recipe.train_rows, test_rows=recipe.test_rows,
                                                            seed=args.seed, channel_axis=False)
    x_train, x_test = x_train.reshape(len(x_train), -1), x_test.reshape(len(x_test), -1)
    (x_fit, y_fit), (x_val, y_val) = data.validation_split(x_train, y_train, recipe.validation_rows / len(x_train),
                                                           seed=args.seed)

    # Why the literal N(0, 1) init is a poor start: the spread of first-layer pre-activations x W.
    preactivation_std = {name: float(np.std(x_val[:1000] @ init(784, 256, np.random.default_rng(args.seed))))
                         for name, init in INIT.items()}

    with nn.single_threaded_blas():
        # Hyperparameters: each candidate briefly, ranked by validation error (never the test set).
        x_search, y_search = data.subset(x_fit, y_fit, recipe.search_rows, seed=args.seed)
        search_epochs = args.search_epochs or recipe.search_epochs
        candidates = CANDIDATES[recipe.first_candidate:]
        trials, val_correct, fits = [], [], []   # per candidate: 1/0 per validation row, fit check
        for i, candidate in enumerate(candidates):
            started = time.perf_counter()
            with np.errstate(over="ignore", invalid="ignore"):
                model = build(candidate, args.seed)
                stats = nn.get_training_stats(model, {"train": (x_search, y_search), "val": (x_val, y_val)},
                                              search_epochs, batch_size, np.random.default_rng(args.seed))
                val_correct.append((model.forward(x_val).argmax(1) == labels(y_val)).astype(float))
            val_error = stats["val_error"][-1]
            fits.append(d_findings.fit(stats["train_loss"][-1]))
            trials.append({"trial": i + 1, "hiddens": "-".join(map(str, candidate["hiddens"])),
                           "activation": candidate["activation"], "init": candidate["init"],
                           "lr": candidate["lr"], "momentum": candidate["momentum"],
                           "train_loss": stats["train_loss"][-1], "val_loss": stats["val_loss"][-1],
                           "val_error": val_error, "fit": fits[-1].verdict,
                           "seconds": round(time.perf_counter() - started, 1)})
            print(f"search {i + 1}/{len(candidates)} {describe(candidate)}: validation error {val_error:.4f}",
                  flush=True)
        fitted = [t for t, f in zip(trials, fits) if f.verdict == findings.FITS]   # a failed fit is never chosen
        if not fitted:
            raise HwkitError("D5: no search candidate fitted (training loss stayed on the chance plateau): "
                             f"{[t['train_loss'] for t in trials]}")
        best_trial = min(fitted, key=lambda t: t["val_error"])
        best = candidates[best_trial["trial"] - 1]
        run.save_table("search", trials)
        print(f"chosen: {describe(best)}")

        # (e) Train the chosen MLP on the fit split; per epoch loss and error on train, validation
        # and (monitoring only) test.
        epochs = recipe.epochs
        mlp = build(best, args.seed)

        def cosine(epoch: int) -> float:   # learning rate at the start of each epoch, decaying towards 0
            return best["lr"] * 0.5 * (1 + math.cos(math.pi * epoch / epochs))

        def show(epoch: int, last: dict) -> None:
            print(f"epoch {epoch + 1}/{epochs} lr {mlp.lr:.4f}: train loss {last['train_loss']:.4f} "
                  f"error {last['train_error']:.4f} | validation loss {last['val_loss']:.4f} "
                  f"error {last['val_error']:.4f} | test error {last['test_error']:.4f} (monitoring)", flush=True)

        started = time.perf_counter()
        stats = nn.get_training_stats(mlp, {"train": (x_fit, y_fit), "val": (x_val, y_val), "test": (x_test, y_test)},
                                      epochs, batch_size, np.random.default_rng(args.seed + 1),
                                      lr_schedule=cosine, on_epoch=show)
        train_seconds = time.perf_counter() - started

        # Final test error, p1_model.npz, and the reloaded model's error (must be identical).
        test_loss, test_error = mlp.evaluate(x_test, y_test)
        model_path = run.model_path("p1_model.npz")
        mlp.save(model_path)
        reloaded_loss, reloaded_error = nn.MLP.load(model_path).evaluate(x_test, y_test)

    # Findings: the final model's fit, the choice against the runner-up and N(0, 1) against He init (the two
    # first candidates differ in the weights' scale only), paired over the same validation rows.
    found = {"fit": d_findings.fit(stats["train_loss"][-1]),
             "search_choice": d_findings.search_choice([1.0 - t["val_error"] if math.isfinite(t["val_error"]) else 0.0
                                                        for t in trials], len(x_val), val_correct, fits)}
    found["reload"] = d_findings.reload_check(test_error, reloaded_error)
    test_wrong = (mlp.forward(x_test).argmax(1) != labels(y_test)).astype(float)
    found["test_error"] = d_findings.accuracy(test_wrong)
    verdict = d_goals.d5_verdict(test_error)
    for name, threshold in (("required", verdict["required_error"]), ("aim", verdict["aim_error"])):
        found[name] = d_findings.cutoff(test_error, threshold, found["test_error"].interval.low,
                                        found["test_error"].interval.high, higher_is_better=False)
    names = [c["init"] for c in candidates]
    if candidates[:2] == CANDIDATES[:2]:   # A = N(0, 1), B = He
        found["init_fit"] = d_findings.which_failed(fits[0], fits[1])
        found["init"] = d_findings.paired_if_fitted(val_correct[1], val_correct[0], fits[:2])
    else:
        missing = findings.Finding(findings.NOT_COMPARABLE, {"candidates": names},
                                   criterion="the N(0, 1) and He candidates were not both trained (quick mode)")
        found["init_fit"] = found["init"] = missing
    history = [{"epoch": e + 1, **{k: v[e] for k, v in stats.items()}} for e in range(epochs)]
    run.save_table("history", history)
    # Fig. 7: loss and error per epoch; the test series is labelled as monitoring.
    curves = {f"{split}_{metric}": stats[f"{split}_{metric}"] for metric in ("loss", "error")
              for split in ("train", "val", "test")}
    curves = {k.replace("test_", "test (monitoring)_"): v for k, v in curves.items()}
    run.save_figure(plots.learning_curves(
        curves, metrics=("loss", "error"),
        title=f"D5 numpy MLP: {len(x_fit):,} training rows, validation = {len(x_val):,} held-out training rows"),
        "training_plot")
    print(f"test error {test_error:.4f} ({round(test_error * len(x_test))} of {len(x_test)} wrong); "
          f"reloaded p1_model.npz: {reloaded_error:.4f}")
    run.log(test_error=test_error, test_loss=test_loss, test_wrong=round(test_error * len(x_test)),
            reloaded_test_error=reloaded_error, reload_identical=reloaded_error == test_error,
            final_val_error=stats["val_error"][-1], final_train_error=stats["train_error"][-1],
            epochs=epochs, batch_size=batch_size, chosen=best | {"hiddens": list(best["hiddens"])},
            chosen_description=describe(best), search_epochs=search_epochs, search_rows=len(x_search),
            train_seconds=round(train_seconds, 1), seconds_per_epoch=round(train_seconds / epochs, 2),
            search_seconds=round(sum(t["seconds"] for t in trials), 1), parameters=mlp.net.count_params(),
            first_layer_preactivation_std=preactivation_std, train_rows=len(x_fit), validation_rows=len(x_val),
            test_rows=len(x_test),
            final_train_loss=stats["train_loss"][-1], findings=findings.as_dicts(found),
            model_file=str(model_path.relative_to(run.path)), **verdict)


if __name__ == "__main__":
    raise SystemExit(main(__spec__.name))
