"""C3: Q1.4 — the most over-fitting Part 1 run retrained with an L2 weight penalty chosen on a validation split.

1. Pick the run: the latest C1 run's curves are diagnosed (``hwkit.coursework.diagnose``) and the
   over-fitting run with the largest final train-test gap is taken.
2. Choose the penalty strength: the same model and setting (epochs, learning rate, SGD, summed
   loss, batch 100) is trained on 50 000 training images for each candidate L2 strength and
   scored on the 10 000 held-out *training* images (validation split); the best one wins. The
   test set plays no part in the choice.
3. Retrain with that penalty on all 60 000 training images under the exact Part 1 protocol
   (evaluation every 20 000 samples on the fixed 20% of train and on all of test) and plot the new
   curves beside the old ones; the same diagnosis is applied to the new curves.

L2 adds ``l2 * sum(W^2)`` once per batch of 100 to a loss *summed* over the batch, so per
example it weighs like a weight decay of l2/100 on a mean loss.
"""
from __future__ import annotations

import keras

from hwkit import HwkitError, coursework, data, models, plots, runs
from hwkit.cli import task_main

SOURCE_TASK = "c1"
L2_CANDIDATES = (0.01, 0.03, 0.1)   # per-example equivalents 1e-4, 3e-4, 1e-3
VALIDATION_FRACTION = 1 / 6         # 10 000 of the 60 000 training images


def pick_overfitting_run(verdicts: list[dict]) -> tuple[dict, str]:
    """The over-fitting run with the largest final gap (or, if none passed the test, the largest gap)."""
    overfit = [v for v in verdicts if v["verdict"] == "over-fitting"]
    if overfit:
        return max(overfit, key=lambda v: v["final_gap"]), "largest final gap among the over-fitting runs"
    stable = [v for v in verdicts if v["verdict"] != "unstable"]
    return max(stable, key=lambda v: v["final_gap"]), "no run passed the over-fitting test: largest gap used"


def run(args, run):
    source = runs.latest_run(SOURCE_TASK, include_quick=args.quick)
    if source is None or not source.table("summary"):
        raise HwkitError(f"no completed {SOURCE_TASK} run: run python -m tasks.{SOURCE_TASK} first")
    verdicts = coursework.diagnose(source.table("summary"), source.table("curves"))
    target, why = pick_overfitting_run(verdicts)
    number, setting = target["model"], target["setting"]
    if number > 3:
        raise HwkitError("C3 fixes a Part 1 model (1-3)")
    epochs = args.epochs or (coursework.QUICK["epochs"] if args.quick else target["epochs"])
    lr = target["learning_rate"]
    print(f"fixing model {number} setting {setting} ({target['epochs']} epochs, LR {lr}): {why}")

    # 2. The penalty strength, chosen on a validation split of the training set.
    d = coursework.load_data(args.data_dir, quick=args.quick, seed=args.seed)
    (x_fit, y_fit), (x_val, y_val) = data.validation_split(d.x_train, d.y_train, VALIDATION_FRACTION, seed=args.seed)
    candidates = []
    for l2 in L2_CANDIDATES:
        keras.utils.set_random_seed(args.seed + 100 * number + setting)
        model = models.compile_coursework(models.coursework_model(number, l2=l2), lr)
        model.fit(coursework.dataset(x_fit, y_fit, args.seed), epochs=epochs, verbose=2)
        _, val_accuracy = model.evaluate(x_val, y_val, batch_size=1000, verbose=0)
        _, fit_accuracy = model.evaluate(x_fit, y_fit, batch_size=1000, verbose=0)
        candidates.append({"l2": l2, "validation_accuracy": val_accuracy, "fit_accuracy": fit_accuracy,
                           "fit_minus_validation": fit_accuracy - val_accuracy})
        print(f"  L2 {l2}: validation accuracy {val_accuracy:.4f} (fit split {fit_accuracy:.4f})")
    run.save_table("l2_search", candidates)
    best_l2 = max(candidates, key=lambda c: c["validation_accuracy"])["l2"]

    # 3. Retrain under the Part 1 protocol and compare with the original curves.
    keras.utils.set_random_seed(args.seed + 100 * number + setting)
    fixed = coursework.train_setting(models.coursework_model(number, l2=best_l2), d, epochs, lr,
                                     model_number=number, setting=setting, seed=args.seed)
    old = coursework.experiments_from_tables(source.table("summary"), source.table("curves"), number)[setting - 1]
    new = fixed.experiment
    run.save_table("curves", fixed.curve_rows())
    run.save_table("summary", [fixed.summary_row()])
    fig = plots.learning_curve_grid([[old], [new]], [f"Model {number} as in Part 1", f"Model {number} + L2 {best_l2}"],
                                    d.log_period, "Q1.4: before and after the fix")
    run.save_figure(fig, "before_after")
    after = coursework.diagnose(source.table("summary") + [{**fixed.summary_row(), "model": 0}],
                                source.table("curves") + [{**c, "model": 0} for c in fixed.curve_rows()])[-1]
    before = next(v for v in verdicts if v["model"] == number and v["setting"] == setting)
    run.save_table("before_after", [{"run": "before (C1)", **before}, {"run": f"after (L2 {best_l2})", **after}])
    print(f"gap {before['final_gap']:+.4f} -> {after['final_gap']:+.4f}; "
          f"test {before['final_test_accuracy']:.4f} -> {after['final_test_accuracy']:.4f}")
    run.log(source_run=str(source.path), model=number, setting=setting, epochs=epochs, learning_rate=lr,
            picked_because=why, chosen_l2=best_l2, validation_rows=len(x_val), fit_rows=len(x_fit),
            before=before, after=after, seconds=round(fixed.seconds, 1))


if __name__ == "__main__":
    raise SystemExit(task_main(__spec__.name))
