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
   not improved for ``patience`` epochs. Compared like for like: the same training goes on to the
   last epoch (``c_coursework.StopPoint`` records the model where early stopping would stop), which is
   the unregularised run on the same 50 000 images, and the two are scored on the same test images.
5. Findings (``hwkit.findings``): the L2 model against the C1 run it fixes (same images, same seed) and
   the early-stopped model against the unstopped one, each by a paired bootstrap over the test images
   (accuracy) and over training-subset and test images (train - test gap); the choice of lambda by a
   paired bootstrap over the validation images; a fit check for every trained model.

L2 adds ``l2 * sum(W^2)`` once per batch of 100 to a loss *summed* over the batch, so per
example it weighs like a weight decay of l2/100 on a mean loss.
"""
from __future__ import annotations

import dataclasses

import keras

from hwkit import HwkitError, data, plots, runs
from hwkit import findings as fnd
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
    verdicts = c_coursework.diagnose(source.table("summary"), source.table("curves"), source.table("per_example"))
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
    candidates, validation_scores = [], {}
    for l2 in recipe.l2_candidates:
        keras.utils.set_random_seed(args.seed + 100 * number + setting)
        model = c_coursework.compile_coursework(c_coursework.coursework_model(number, l2=l2), lr)
        model.fit(c_coursework.dataset(x_fit, y_fit, args.seed), epochs=epochs, verbose=2)
        validation_scores[l2] = c_coursework.correct_per_example(model, x_val, y_val)
        val_accuracy = float(validation_scores[l2].mean())
        fit_accuracy = float(c_coursework.correct_per_example(model, x_fit, y_fit).mean())
        candidates.append({"l2": l2, "validation_accuracy": val_accuracy, "fit_accuracy": fit_accuracy,
                           "fit_minus_validation": fit_accuracy - val_accuracy})
        print(f"  L2 {l2}: validation accuracy {val_accuracy:.4f} (fit split {fit_accuracy:.4f})")
    run.save_table("l2_search", candidates)
    best_l2 = max(candidates, key=lambda c: c["validation_accuracy"])["l2"]

    # 3. Retrain under the Part 1 protocol (same images and seed as the C1 run it fixes).
    keras.utils.set_random_seed(args.seed + 100 * number + setting)
    fixed = c_coursework.train_setting(c_coursework.coursework_model(number, l2=best_l2), d, epochs, lr,
                                       model_number=number, setting=setting, seed=args.seed)
    # 4. Early stopping on the validation split (no penalty), same protocol on the fit split; the training
    # runs on to the end, so the unstopped model on the same images comes from the same run.
    keras.utils.set_random_seed(args.seed + 100 * number + setting)
    d_fit = dataclasses.replace(d, x_train=x_fit, y_train=y_fit)
    stop = c_coursework.StopPoint(recipe.patience, {"train_eval": (d.x_train_eval, d.y_train_eval),
                                                    "test": (d.x_test, d.y_test)})
    unstopped = c_coursework.train_setting(c_coursework.coursework_model(number), d_fit, epochs, lr,
                                           model_number=number, setting=setting, seed=args.seed,
                                           validation_data=(x_val, y_val), callbacks=[stop])
    unstopped = c_coursework.ending_at_its_model(unstopped, epochs * -(-len(x_fit) // c_coursework.BATCH_SIZE)
                                                 * c_coursework.BATCH_SIZE)
    stopped = c_coursework.early_stopped(unstopped, stop, len(x_fit))

    old = c_coursework.experiments_from_tables(source.table("summary"), source.table("curves"), number)[setting - 1]
    run.save_table("curves", fixed.curve_rows())
    run.save_table("summary", [fixed.summary_row()])
    run.save_table("early_stopping_curves", stopped.curve_rows())
    run.save_table("unstopped_curves", unstopped.curve_rows())
    fig = plots.learning_curve_grid([[old], [fixed.experiment], [stopped.experiment]],
                                    [f"Model {number} as in Part 1", f"+ L2 {best_l2}",
                                     f"early stopping (patience {recipe.patience})"],
                                    d.log_period, "Q1.4: before and after the fixes")
    run.save_figure(fig, "before_after")
    fixes = {"l2": fixed, "unstopped": unstopped, "early_stopping": stopped}
    diagnosed = c_coursework.diagnose(
        source.table("summary") + [{**r.summary_row(), "model": -i} for i, r in enumerate(fixes.values(), 1)],
        source.table("curves") + [{**c, "model": -i} for i, r in enumerate(fixes.values(), 1) for c in r.curve_rows()],
        (source.table("per_example") or [])
        + [{**c, "model": -i} for i, r in enumerate(fixes.values(), 1) for c in r.per_example_rows()])
    before = next(v for v in verdicts if v["model"] == number and v["setting"] == setting)
    after = dict(zip(fixes, diagnosed[-len(fixes):]))
    before_fit = c_coursework.fit_finding(target["final_train_accuracy"],
                                          next(r for r in source.table("summary") if r["model"] == number
                                               and r["setting"] == setting).get("weights_finite", True))
    run.save_table("before_after", [
        {"run": "before (C1)", "training_images": len(d.x_train), "fit": before_fit.verdict, **before},
        {"run": f"L2 {best_l2}", "training_images": len(d.x_train), "fit": fixed.fit.verdict, **after["l2"]},
        {"run": "no fix, fit split", "training_images": len(x_fit), "fit": unstopped.fit.verdict,
         **after["unstopped"]},
        {"run": f"early stopping ({len(stopped.samples)} evaluations)", "training_images": len(x_fit),
         "fit": stopped.fit.verdict, **after["early_stopping"]}])
    found = c_coursework.fix_findings(source.table("per_example"), number, setting, before_fit,
                                      fixed, unstopped, stopped)
    found["l2_choice"] = c_coursework.choice_finding(validation_scores)
    found["early_stopping_point"] = fnd.Finding(
        STOPPED if stop.stopped else RAN_TO_END, {"epoch": stop.stopped_epoch, "epochs": epochs},
        criterion=f"validation accuracy not improved for {recipe.patience} epochs")
    for name, f in found.items():
        print(f"{name}: {f.verdict} {dict(f.numbers)}")
    run.log(source_run=str(source.path), model=number, setting=setting, epochs=epochs, learning_rate=lr,
            picked_because=why, chosen_l2=best_l2, validation_rows=len(x_val), fit_rows=len(x_fit),
            train_rows=len(d.x_train), before=before, after=after["l2"], after_early_stopping=after["early_stopping"],
            unstopped=after["unstopped"], early_stopping_patience=recipe.patience,
            early_stopping_epochs=stop.stopped_epoch, early_stopping_best_val_accuracy=stop.best,
            findings=fnd.as_dicts(found), seconds=round(fixed.seconds + unstopped.seconds, 1))


STOPPED, RAN_TO_END = "stopped", "ran to the end"


if __name__ == "__main__":
    raise SystemExit(main(__spec__.name))
