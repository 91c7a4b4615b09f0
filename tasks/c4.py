"""C4: Part 2 — models 1–3 in numpy only (own forward, backward, SGD), the nine settings of Part 1.

Coursework 1, Part 2 "Backpropagation": the same three models, hyper-parameters and reporting as
Part 1 (task c1, Keras), but every layer's forward and backward pass, the softmax cross-entropy
and the SGD update are our own numpy code (``hwkit.numpy_nn``, gradient-checked in task c5 and
the tests). As in Part 1: Xavier-uniform weights and zero biases, plain SGD, batch size 100,
cross-entropy *summed* over the batch, and every 20 000 training samples (200 updates) the
accuracy on a fixed seeded 20% of the training set and on the whole test set. Only the data
loading uses hwkit.data; the model and the training are numpy. The nine results are then compared
with the latest C1 run of the same kind (``c_coursework.compare_implementations``).
"""
from __future__ import annotations

from hwkit import findings as fnd
from hwkit import numpy_nn as nn
from hwkit import plots, runs
from hwkit.assignments import c_coursework
from hwkit.task import choose_recipe, main

REQUIRES = {"c1": c_coursework.PROTOCOL_TABLES}  # the Keras run (Part 1) the numpy models are compared with

BATCH_SIZE = c_coursework.BATCH_SIZE
SETTINGS = {m: c_coursework.SETTINGS[m] for m in (1, 2, 3)}   # (num_epochs, learning_rate), as in Part 1
MODEL_NAMES = ["Model 1 (linear + softmax)", "Model 2 (32 ReLU)", "Model 3 (32-32 ReLU)"]
KERAS_TASK = "c1"
FULL, QUICK = c_coursework.FULL, c_coursework.QUICK   # Part 1's data protocol; quick: 4 000 images, 1 epoch


def run(args, run):
    # The data: all 60 000 training images for SGD; a fixed seeded 20% of them and the whole
    # test set for the periodic evaluation (as Part 1).
    # Exactly Part 1's data protocol (the same quick subset and the same evaluation rows as C1).
    recipe = choose_recipe(args, FULL, QUICK)
    d = c_coursework.load_data(args.data_dir, recipe, seed=args.seed)
    flat = c_coursework.flat_images
    x_train, y_train, x_test, y_test = flat(d.x_train), d.y_train, flat(d.x_test), d.y_test
    x_eval, y_eval = flat(d.x_train_eval), d.y_train_eval
    evals = {"train": (x_eval, y_eval), "test": (x_test, y_test)}
    log_period = d.log_period

    # Models 1-3, three settings each, trained with our own forward/backward/SGD.
    summary, curve_rows, experiments, correct, fits = [], [], [], {}, {}
    with nn.single_threaded_blas():
        for model_id, settings in SETTINGS.items():
            model_runs = []
            for setting, (epochs, learning_rate) in enumerate(settings, start=1):
                epochs = recipe.epochs or epochs
                result = c_coursework.train_numpy_setting(model_id, epochs, learning_rate, (x_train, y_train),
                                                          evals, log_period, args.seed)
                curve_rows += [{"model": model_id, "setting": setting, **row} for row in result["curves"]]
                correct[model_id, setting] = result["correct"]["test"]
                fits[model_id, setting] = c_coursework.fit_finding(result["final"]["train"], not result["diverged"])
                summary.append({"model": model_id, "setting": setting, "epochs": epochs,
                                "learning_rate": learning_rate,
                                "final_train_accuracy": result["final"]["train"],
                                "final_test_accuracy": result["final"]["test"],
                                "seconds": round(result["seconds"], 2),
                                "seconds_per_epoch": round(result["seconds"] / epochs, 3),
                                "diverged": result["diverged"], "dead_relu_fraction": result["dead_relu_fraction"],
                                "parameters": result["parameters"], "fit": fits[model_id, setting].verdict})
                model_runs.append(((epochs, learning_rate),
                                   [r["train_accuracy"] for r in result["curves"]],
                                   [r["test_accuracy"] for r in result["curves"]]))
            experiments.append(model_runs)

    # Reporting: the coursework's learning-curve grid and summary table.
    run.save_table("summary", summary)
    run.save_table("curves", curve_rows)
    run.save_figure(plots.learning_curve_grid(experiments, MODEL_NAMES, log_period,
                                              title="Numpy models 1-3: learning curves (train = fixed 20% of the "
                                                    "training set)"), "learning_curves")
    run.save_figure(plots.summary_table(experiments, MODEL_NAMES), "summary_table")
    # Numpy against Keras: the latest C1 run, when it is of the same kind (full or quick): same models and settings.
    keras_run = runs.require_run(KERAS_TASK, args.quick, needs=REQUIRES[KERAS_TASK], reader=run.task)
    comparison, found = None, {}
    if keras_run.quick == args.quick:   # a quick C4 may find only a full C1: different data, nothing to compare
        rows, comparison = c_coursework.compare_implementations(summary, curve_rows, keras_run.table("summary"),
                                                                keras_run.table("curves"))
        per_setting, found["numpy_vs_keras"] = c_coursework.implementation_findings(
            correct, keras_run.table("per_example"), fits, keras_run.table("summary"))
        for r in rows:
            f = per_setting[r["model"], r["setting"]]
            r.update(final_verdict=f.verdict, difference_low=f.numbers.get("difference_low"),
                     difference_high=f.numbers.get("difference_high"))
        run.save_table("keras_comparison", rows)
        comparison["run"] = keras_run.name
        print(f"against {keras_run.name}: {comparison['agree']} of {comparison['settings']} settings within "
              f"{comparison['within_points']} points (largest gap {comparison['largest_gap']:.2f})")

    best = max(summary, key=lambda r: r["final_test_accuracy"])
    run.log(keras_comparison=comparison, collapsed=c_coursework.collapsed_settings(summary),
            chance_level=c_coursework.CHANCE_LEVEL,
            best_model=best["model"], best_setting=best["setting"], best_test_accuracy=best["final_test_accuracy"],
            train_seconds=round(sum(r["seconds"] for r in summary), 1),
            epochs_total=sum(r["epochs"] for r in summary),
            seconds_per_epoch=round(sum(r["seconds"] for r in summary) / sum(r["epochs"] for r in summary), 3),
            batch_size=BATCH_SIZE, log_period_samples=log_period, train_rows=len(x_train),
            eval_train_rows=len(x_eval), train_eval_digest=d.train_eval_digest, test_rows=len(x_test),
            blas_threads=1, findings=fnd.as_dicts(found))


if __name__ == "__main__":
    raise SystemExit(main(__spec__.name))
