"""hwkit.tuning: validation objective only, stop at target, wall-clock budget, trial table."""
import keras
import keras_tuner as kt
import numpy as np
import pytest

from hwkit import HwkitError, tuning


class TinyHyperModel(kt.HyperModel):
    def build(self, hp):
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(hp.Int("units", 2, 8, step=2), "relu"),
                                  keras.layers.Dense(2, activation="softmax")])
        model.compile(keras.optimizers.Adam(hp.Choice("lr", [0.01, 0.05])), "sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        return model


def problem(n=600):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4)).astype("float32")
    return x, (x[:, 0] > 0).astype("int64")


def test_search_stops_once_target_reached(tmp_path):
    x, y = problem()
    result = tuning.search(TinyHyperModel(), x[:500], y[:500], validation_data=(x[500:], y[500:]),
                           directory=tmp_path, target=0.8, max_trials=20, epochs=5, verbose=0)
    assert result.stop_reason.startswith("target val_accuracy 0.8 reached")
    assert len(result.trials) < 20 and result.best_score >= 0.8
    row = result.trials[0]
    assert {"trial", "units", "lr", "score", "seconds", "status"} <= set(row) and row["seconds"] > 0


def test_search_respects_max_trials_when_target_unreachable(tmp_path):
    x, y = problem()
    result = tuning.search(TinyHyperModel(), x[:500], y[:500], validation_data=(x[500:], y[500:]),
                           directory=tmp_path, target=1.01, max_trials=1, epochs=1, verbose=0)
    assert len(result.trials) == 1 and "max_trials" in result.stop_reason
    assert {t["worker"] for t in result.trials} == {"tuner0"}          # one process: KerasTuner's default id
    # The same directory again resumes: the finished trial is kept (same table row), only the second one runs.
    again = tuning.search(TinyHyperModel(), x[:500], y[:500], validation_data=(x[500:], y[500:]),
                          directory=tmp_path, target=1.01, max_trials=2, epochs=1, verbose=0)
    assert len(again.trials) == 2 and again.trials[:1] == result.trials and "max_trials" in again.stop_reason


def test_search_budget(tmp_path):
    x, y = problem()
    result = tuning.search(TinyHyperModel(), x[:500], y[:500], validation_data=(x[500:], y[500:]),
                           directory=tmp_path, max_trials=50, time_budget_s=0.0, epochs=1, verbose=0)
    assert len(result.trials) == 1 and "budget" in result.stop_reason  # one trial, then the budget is spent


def test_search_refuses_test_style_objectives(tmp_path):
    x, y = problem()
    with pytest.raises(HwkitError, match="validation"):
        tuning.search(TinyHyperModel(), x, y, validation_data=(x, y), directory=tmp_path, objective="accuracy")
    with pytest.raises(HwkitError, match="validation_data"):
        tuning.search(TinyHyperModel(), x, y, validation_data=None, directory=tmp_path)
