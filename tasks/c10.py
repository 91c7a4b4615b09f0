"""C10: Q3.4 — a separable-conv model with fewer parameters than model 4 and similar accuracy, found by KerasTuner.

Idea (from Q3.2/Q3.3): models 4 and 5 keep most of their parameters in the dense layer after the
flatten, and a separable conv costs 1/c_out + 1/9 of a plain conv's weights - a saving only
where there are several input and output channels. So: three 3x3 blocks, each followed by a
2x2 max-pool (28 -> 14 -> 7 -> 4), which shrinks the flattened map to 4x4xc and the dense layer
with it; the first block is a plain conv (on one input channel a separable conv saves ~60
weights and makes all its maps multiples of one filtered image), the other two are separable.
Every model of the search space (``hwkit.c_coursework.SeparableCnnHyperModel``: filters per block 8 or
16, dense units 16 or 32, learning rate) has fewer parameters than model 4; this is checked with
count_params().

1. Search: KerasTuner random search, each trial a few epochs of the coursework recipe (SGD,
   summed cross-entropy, batch 100) on 50 000 training images, scored on the 10 000 held-out
   *training* images (validation split). The test set plays no part in the choice. A learning
   rate at which any trial collapsed (validation accuracy below ``c_coursework.CHANCE_LEVEL``) is
   not chosen, even where another trial at that rate scored best: the final training is 20 epochs,
   not a trial's 3, and such a rate is on the edge of divergence (measured: in two full runs, 4 of
   the 6 trials at LR 0.004 collapsed, and the one chosen at 0.004 collapsed in its final training
   although it had led the search at 97.2%). If every rate collapsed a trial, the best trial is
   trained and the report says so.
2. Final: the best setting is trained under the Part 1 protocol for 20 epochs, as model 4
   setting 3 (20 epochs, LR 0.001), on all 60 000 training images, and compared with model 4
   setting 3 from the latest C6 run: parameters and final test accuracy.
"""
from __future__ import annotations

import dataclasses

import keras

from hwkit import HwkitError, data, plots, runs, training, tuning
from hwkit import findings as fnd
from hwkit.assignments import c_coursework
from hwkit.task import MAX_TRIALS, bounded_int, choose_recipe, main

REQUIRES = {"c6": c_coursework.PROTOCOL_TABLES}  # tasks whose latest runs this task reads, and what of them
SEARCHES = True     # --workers N / --tuner-role: the search runs on a KerasTuner chief and workers

SIMILAR_WITHIN = 0.005          # "similar accuracy": final test accuracy within half a point of model 4's
REFERENCE = ("c6", 4, 3)        # task, model, setting of the comparison


@dataclasses.dataclass(frozen=True)
class Recipe(c_coursework.Recipe):     # the protocol's data sizes and evaluation period, plus:
    epochs: int = 20                    # final training, as model 4 setting 3
    validation_fraction: float = 1 / 6  # 10 000 of the 60 000 training images
    search_trials: int = 8
    search_epochs: int = 3              # per trial
    search_budget_s: int = 1200


FULL = Recipe()
QUICK = Recipe(**{**dataclasses.asdict(c_coursework.QUICK), "search_trials": 2, "search_epochs": 1})


def add_arguments(parser):
    parser.add_argument("--trials", type=bounded_int(1, MAX_TRIALS, "a number of trials"),
                        help=f"max search trials (default {FULL.search_trials})")


def run(args, run):
    recipe = choose_recipe(args, FULL, QUICK)
    d = c_coursework.load_data(args.data_dir, recipe, seed=args.seed)
    (x_fit, y_fit), (x_val, y_val) = data.validation_split(d.x_train, d.y_train, recipe.validation_fraction,
                                                           seed=args.seed)
    model4_parameters = c_coursework.coursework_model(4).count_params()

    # 1. Search on the validation split.
    result = tuning.search(c_coursework.SeparableCnnHyperModel(), c_coursework.dataset(x_fit, y_fit, args.seed),
                           validation_data=(x_val, y_val), directory=run.path / "tuner",
                           max_trials=args.trials or recipe.search_trials, time_budget_s=recipe.search_budget_s,
                           epochs=recipe.search_epochs, seed=args.seed, verbose=2)
    for trial in result.trials:
        trial["parameters"] = c_coursework.SeparableCnnHyperModel().build(_fixed(trial)).count_params()
    run.save_table("trials", result.trials)
    chosen, unstable_rates = stable_best(result.trials)
    hp = _fixed(chosen)
    print(f"search: {len(result.trials)} trials in {result.seconds:.0f} s ({result.stop_reason}); "
          f"learning rates that collapsed a trial: {unstable_rates or 'none'}; chosen {hp.values}")

    # 2. Final training under the Part 1 protocol, compared with model 4 setting 3.
    keras.utils.set_random_seed(args.seed)
    model = c_coursework.SeparableCnnHyperModel().build(hp)
    if model.count_params() >= model4_parameters:
        raise HwkitError(f"the chosen model has {model.count_params()} parameters, not fewer than model 4's "
                         f"{model4_parameters}")
    epochs = recipe.epochs
    final = c_coursework.train_setting(model, d, epochs, hp["learning_rate"], model_number=6, setting=1, seed=args.seed)
    training.save_model(model, run.model_path("q34_separable.keras"))
    run.save_table("summary", [final.summary_row()])
    run.save_table("curves", final.curve_rows())
    model.summary(print_fn=lambda line, **_: run.file("model_summary.txt").open("a").write(line + "\n"))

    task, ref_model, ref_setting = REFERENCE
    reference = runs.require_run(task, args.quick, needs=REQUIRES[task], reader=run.task)
    ref_row = next((r for r in reference.table("summary") if r["model"] == ref_model and r["setting"] == ref_setting),
                   None)
    ref_experiment = c_coursework.experiments_from_tables(reference.table("summary"), reference.table("curves"),
                                                        ref_model)[ref_setting - 1]
    experiments = [[ref_experiment], [final.experiment]]
    names = [f"Model 4 setting 3 ({model4_parameters:,} parameters)", f"Q3.4 model ({final.parameters:,} parameters)"]
    run.save_figure(plots.learning_curve_grid(experiments, names, d.log_period, "Q3.4 model vs model 4 (setting 3)"),
                    "comparison")
    difference = None if ref_row is None else final.test_accuracy[-1] - ref_row["final_test_accuracy"]
    ref_fit = (fnd.Finding(fnd.FAILED, criterion="no model 4 setting 3 in the C6 run") if ref_row is None else
               c_coursework.fit_finding(ref_row["final_train_accuracy"], ref_row.get("weights_finite", True)))
    versus = c_coursework.compare_on_examples(
        final.test_correct, c_coursework.scores_from_table(reference.table("per_example"), ref_model, ref_setting),
        final.fit, ref_fit)
    found = {"fit_q34": final.fit, "fit_model4": ref_fit, "vs_model4": versus,
             "similar": c_coursework.similar_finding(versus, SIMILAR_WITHIN)}
    run.log(best_hyperparameters=hp.values, parameters=final.parameters, model4_parameters=model4_parameters,
            parameter_ratio=final.parameters / model4_parameters,
            parameter_saving=1 - final.parameters / model4_parameters, final_test_accuracy=final.test_accuracy[-1],
            final_train_accuracy=final.train_accuracy[-1], epochs=epochs, train_seconds=round(final.seconds, 1),
            search_seconds=result.seconds, search_stop_reason=result.stop_reason, search_trials=len(result.trials),
            best_validation_accuracy=chosen["score"], search_best_score=result.best_score,
            unstable_learning_rates=unstable_rates, no_stable_rate=chosen["learning_rate"] in unstable_rates,
            top_score_excluded=result.best_score > chosen["score"], validation_rows=len(x_val), fit_rows=len(x_fit),
            reference_run=str(reference.path),
            model4_final_test_accuracy=None if ref_row is None else ref_row["final_test_accuracy"],
            accuracy_difference=difference,
            similar_within=SIMILAR_WITHIN, findings=fnd.as_dicts(found))


def stable_best(trials: list[dict]) -> tuple[dict, list[float]]:
    """The best completed trial at a learning rate that collapsed no trial, and the rates that did."""
    done = [t for t in trials if t["status"] == "COMPLETED" and t["score"] is not None]
    unstable = sorted({t["learning_rate"] for t in done if t["score"] < c_coursework.CHANCE_LEVEL})
    stable = [t for t in done if t["learning_rate"] not in unstable]
    # Every rate collapsed a trial (a quick run's one short epoch can stay below chance level): the plain
    # best trial, and the report says that no stable rate was found.
    return max(stable or done, key=lambda t: t["score"]), unstable


def _fixed(trial: dict):
    """A trial-table row as fixed KerasTuner hyperparameters (to rebuild the model and count its weights)."""
    import keras_tuner as kt
    hp = kt.HyperParameters()
    for name in ("filters1", "filters2", "filters3", "dense_units", "learning_rate"):
        hp.Fixed(name, trial[name])
    return hp


if __name__ == "__main__":
    raise SystemExit(main(__spec__.name))
