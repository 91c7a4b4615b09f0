"""Z1: a tiny KerasTuner search for the distributed-search tests (synthetic data, a one-layer net).

The tests copy this module into a throw-away task package (``HWKIT_TASKS``) and run it as
``python -m <package>.z1`` with ``--workers 2`` or as chief and workers, exactly as a real task.

Each trial really trains a small Keras model for one epoch, then waits ``--trial-seconds`` so
that trials overlap across workers. The objective ``val_score`` is ``units / 16``, a deterministic
function of the trial's hyperparameter, so a test knows which trial reaches ``--target``.
TensorFlow is imported inside ``run`` only: a worker that cannot reach its chief fails before it.
"""
from __future__ import annotations

import time

from hwkit.task import main

SEARCHES = True
UNITS = tuple(range(1, 17))


def add_arguments(parser):
    parser.add_argument("--trials", type=int, default=6)
    parser.add_argument("--target", type=float, help="stop the search once val_score reaches this")
    parser.add_argument("--trial-seconds", type=float, default=1.0, help="extra seconds per trial")


def run(args, run):
    import keras
    import keras_tuner as kt
    import numpy as np

    from hwkit import tuning

    rng = np.random.default_rng(args.seed)
    x = rng.normal(size=(320, 4)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int32")
    (x_fit, y_fit), (x_val, y_val) = (x[:256], y[:256]), (x[256:], y[256:])

    class Tiny(kt.HyperModel):
        def build(self, hp):
            model = keras.Sequential([keras.Input((4,)),
                                      keras.layers.Dense(hp.Choice("units", UNITS), activation="relu"),
                                      keras.layers.Dense(2)])
            model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
            return model

        def fit(self, hp, model, *fit_args, **fit_kwargs):
            history = model.fit(*fit_args, **fit_kwargs)
            time.sleep(args.trial_seconds)
            return {"val_score": hp["units"] / len(UNITS), "val_accuracy": history.history["val_accuracy"][-1]}

    result = tuning.search(Tiny(), x_fit, y_fit, validation_data=(x_val, y_val), directory=run.path / "tuner",
                           objective="val_score", target=args.target, max_trials=args.trials, epochs=1,
                           seed=args.seed, verbose=0, batch_size=64)
    run.save_table("trials", result.trials)
    model = Tiny().build(result.best_hyperparameters)
    model.fit(x_fit, y_fit, epochs=1, verbose=0)
    run.log(best_units=result.best_hyperparameters["units"], search_stop_reason=result.stop_reason,
            search_trials=len(result.trials), val_accuracy=float(model.evaluate(x_val, y_val, verbose=0)[1]))


if __name__ == "__main__":
    raise SystemExit(main(__spec__.name))
