"""C3: Q1.4 — the most over-fitting Part 1 run retrained with an L2 penalty (chosen on validation) \
and with early stopping.

1. Pick the run: the latest C1 run's curves are diagnosed (``hwkit.assignments.c_coursework.diagnose``) and the
   over-fitting run with the largest final train-test gap is taken.
2. Choose the penalty strength: the same model and setting (epochs, learning rate, SGD, summed
   loss, batch 100) is trained on 50 000 training images for each candidate L2 strength and
   scored on the 10 000 held-out *training* images (validation split); the best one wins. The
   test set plays no part in the choice.
3. Retrain with that penalty on all 60 000 training images under the exact Part 1 protocol
   (evaluation every 20 000 samples on the fixed 20% of train and on all of test) and plot the new
   curves beside the old ones; the same diagnosis is applied to the new curves.
4. Second fix, early stopping: the unregularised model trained on the 50 000-image fit split with
   the same protocol, stopped once validation accuracy (the 10 000 held-out training images) has
   not improved for ``patience`` epochs.

L2 adds ``l2 * sum(W^2)`` once per batch of 100 to a loss *summed* over the batch, so per
example it weighs like a weight decay of l2/100 on a mean loss.
"""
from __future__ import annotations

import dataclasses
import fractions

import keras

from hwkit import HwkitError, data, plots, runs
from hwkit.assignments import c_coursework
from hwkit.task import choose_recipe, main

REQUIRES = {"c1": c_coursework.PROTOCOL_TABLES}  # tasks whose latest runs this task reads, and what of them

SOURCE_TASK = "c1"


@dataclasses.dataclass(frozen=True)
class Recipe(c_coursework.Recipe):          # the protocol's data sizes and evaluation period, plus:
    l2_candidates: tuple[float, ...] = (0.01, 0.03, 0.1)   # per-example equivalents 1e-4, 3e-4, 1e-3
    validation_fraction: float = 1 / 6     # 10 000 of the 60 000 training images
    patience: int = 3                      # early stopping: epochs without a better validation accuracy


FULL = Recipe()                                          # epochs: the picked setting's own
QUICK = Recipe(**dataclasses.asdict(c_coursework.QUICK))  # 4 000 images, 1 epoch


def run(args, run):
    recipe = choose_recipe(args, FULL, QUICK)
    source = runs.require_run(SOURCE_TASK, args.quick, needs=REQUIRES[SOURCE_TASK], reader=run.task)
    verdicts = c_coursework.diagnose(source.table("summary"), source.table("curves"))
    target, why = c_coursework.pick_overfitting_run(verdicts)
    number, setting = target["model"], target["setting"]
    if number > 3:
        raise HwkitError("C3 fixes a Part 1 model (1-3)")
    epochs = recipe.epochs or target["epochs"]
    lr = target["learning_rate"]
    print(f"fixing model {number} setting {setting} ({target['epochs']} epochs, LR {lr}): {why}")

    # 2. The penalty strength, chosen on a validation split of the training set.
    d = c_coursework.load_data(args.data_dir, recipe, seed=args.seed)
    (x_fit, y_fit), (x_val, y_val) = data.validation_split(d.x_train, d.y_train, recipe.validation_fraction,
                                                           seed=args.seed)
    candidates = []
    for l2 in recipe.l2_candidates:
        keras.utils.set_random_seed(args.seed + 100 * number + setting)
        model = c_coursework.compile_coursework(c_coursework.coursework_model(number, l2=l2), lr)
        model.fit(c_coursework.dataset(x_fit, y_fit, args.seed), epochs=epochs, verbose=2)
        _, val_accuracy = model.evaluate(x_val, y_val, batch_size=1000, verbose=0)
        _, fit_accuracy = model.evaluate(x_fit, y_fit, batch_size=1000, verbose=0)
        candidates.append({"l2": l2, "validation_accuracy": val_accuracy, "fit_accuracy": fit_accuracy,
                           "fit_minus_validation": fit_accuracy - val_accuracy})
        print(f"  L2 {l2}: validation accuracy {val_accuracy:.4f} (fit split {fit_accuracy:.4f})")
    run.save_table("l2_search", candidates)
    best_l2 = max(candidates, key=lambda c: c["validation_accuracy"])["l2"]

    # 3. Retrain under the Part 1 protocol and compare with the original curves.
    keras.utils.set_random_seed(args.seed + 100 * number + setting)
    fixed = c_coursework.train_setting(c_coursework.coursework_model(number, l2=best_l2), d, epochs, lr,
                                     model_number=number, setting=setting, seed=args.seed)
    # 4. Early stopping on the validation split (no penalty), same protocol on the fit split.
    keras.utils.set_random_seed(args.seed + 100 * number + setting)
    d_fit = dataclasses.replace(d, x_train=x_fit, y_train=y_fit)
    stopper = keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=recipe.patience)
    stopped = c_coursework.train_setting(c_coursework.coursework_model(number), d_fit, epochs, lr, model_number=number,
                                       setting=setting, seed=args.seed, validation_data=(x_val, y_val),
                                       callbacks=[stopper])
    stopped_epochs = stopper.stopped_epoch + 1 if stopper.stopped_epoch else epochs   # epochs actually trained

    old = c_coursework.experiments_from_tables(source.table("summary"), source.table("curves"), number)[setting - 1]
    run.save_table("curves", fixed.curve_rows())
    run.save_table("summary", [fixed.summary_row()])
    run.save_table("early_stopping_curves", stopped.curve_rows())
    fig = plots.learning_curve_grid([[old], [fixed.experiment], [stopped.experiment]],
                                    [f"Model {number} as in Part 1", f"+ L2 {best_l2}",
                                     f"early stopping (patience {recipe.patience})"],
                                    d.log_period, "Q1.4: before and after the fixes")
    run.save_figure(fig, "before_after")
    fixes = {"l2": fixed, "early_stopping": stopped}
    diagnosed = c_coursework.diagnose(
        source.table("summary") + [{**r.summary_row(), "model": -i} for i, r in enumerate(fixes.values(), 1)],
        source.table("curves") + [{**c, "model": -i} for i, r in enumerate(fixes.values(), 1) for c in r.curve_rows()])
    before = next(v for v in verdicts if v["model"] == number and v["setting"] == setting)
    after = {name: c_coursework.fix_effect(before, v) for name, v in zip(fixes, diagnosed[-len(fixes):])}
    by_strength = sorted(candidates, key=lambda c: c["l2"])
    run.save_table("before_after", [{"run": "before (C1)", **before}, {"run": f"L2 {best_l2}", **after["l2"]},
                                    {"run": f"early stopping ({len(stopped.samples)} evaluations)",
                                     **after["early_stopping"]}])
    for name, v in after.items():
        print(f"{name}: gap {before['final_gap']:+.4f} -> {v['final_gap']:+.4f}; "
              f"test {before['final_test_accuracy']:.4f} -> {v['final_test_accuracy']:.4f}")
    run.log(source_run=str(source.path), model=number, setting=setting, epochs=epochs, learning_rate=lr,
            picked_because=why, chosen_l2=best_l2, validation_rows=len(x_val), fit_rows=len(x_fit),
            validation_share=str(fractions.Fraction(recipe.validation_fraction).limit_denominator(1000)),
            before=before, after=after["l2"], after_early_stopping=after["early_stopping"],
            early_stopping_patience=recipe.patience, early_stopping_epochs=stopped_epochs,
            l2_mildest=by_strength[0], l2_strongest=by_strength[-1],
            early_stopping_best_val_accuracy=stopper.best, seconds=round(fixed.seconds + stopped.seconds, 1))


if __name__ == "__main__":
    raise SystemExit(main(__spec__.name))
