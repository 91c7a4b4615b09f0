"""hwkit.training callbacks on a tiny model: evaluation schedule, stop at target, CSV history."""
import csv

import keras
import numpy as np
import pytest

from hwkit import training


def tiny_problem(n=1000, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int64")
    return x, y


def tiny_model(lr=0.1):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(keras.optimizers.SGD(lr), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_evaluate_every_samples_fires_on_schedule():
    x, y = tiny_problem(500)
    cb = training.EvaluateEverySamples(200, {"train": (x[:200], y[:200]), "test": (x[-100:], y[-100:])},
                                       samples_per_batch=100)
    tiny_model().fit(x, y, batch_size=100, epochs=2, verbose=0, callbacks=[cb])
    # 2 epochs x 500 samples = 1000 samples -> an evaluation after every 200 (the count runs across
    # epochs: the third falls in the middle of epoch 2): 5 of them.
    assert [r["samples"] for r in cb.records] == list(range(200, 1001, 200))
    assert {"train_accuracy", "test_accuracy", "train_loss", "test_loss"} <= set(cb.records[0])


def test_evaluate_every_samples_coursework_schedule():
    """Assignment C: 60 000 samples per epoch, batch 100, every 20 000 -> 3 evaluations per epoch."""
    x, y = tiny_problem(6000)
    cb = training.EvaluateEverySamples(2000, {"test": (x[:10], y[:10])}, samples_per_batch=100)
    tiny_model().fit(x, y, batch_size=100, epochs=2, verbose=0, callbacks=[cb])
    assert len(cb.records) == 6


def test_evaluate_every_samples_same_records_with_steps_per_execution():
    """Several steps per call into TensorFlow: the same evaluations, on the same steps, with the same numbers."""
    x, y = tiny_problem(1000)
    records = []
    for per_execution in (1, 5):
        keras.utils.set_random_seed(0)
        model = tiny_model()
        model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy", metrics=["accuracy"],
                      steps_per_execution=per_execution)
        cb = training.EvaluateEverySamples(500, {"test": (x[:300], y[:300])}, samples_per_batch=100)
        model.fit(x, y, batch_size=100, epochs=3, shuffle=False, verbose=0, callbacks=[cb])
        records.append(cb.records)
    assert [r["samples"] for r in records[1]] == [r["samples"] for r in records[0]] == list(range(500, 3001, 500))
    np.testing.assert_allclose([r["test_loss"] for r in records[1]], [r["test_loss"] for r in records[0]], rtol=1e-6)
    assert len({r["test_loss"] for r in records[0]}) == 6   # the model moved between evaluations


def test_evaluate_every_samples_rejects_steps_per_execution_off_its_period():
    x, y = tiny_problem(1000)
    model = tiny_model()
    model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy", steps_per_execution=3)
    with pytest.raises(ValueError, match="steps_per_execution"):
        model.fit(x, y, batch_size=100, epochs=1, verbose=0,
                  callbacks=[training.EvaluateEverySamples(500, {"test": (x, y)}, samples_per_batch=100)])


def test_evaluate_every_samples_rejects_ragged_schedule():
    with pytest.raises(ValueError):
        training.EvaluateEverySamples(250, {}, samples_per_batch=100)


def test_step_history_records_what_one_step_epochs_record():
    import tensorflow as tf
    x, y = tiny_problem(8)
    batch = tf.data.Dataset.from_tensors((x, y)).repeat()   # one batch, like a single training image
    keras.utils.set_random_seed(0)
    per_epoch = tiny_model().fit(batch, steps_per_epoch=1, epochs=12, verbose=0).history
    keras.utils.set_random_seed(0)
    steps = training.StepHistory()
    tiny_model().fit(batch, steps_per_epoch=12, epochs=1, verbose=0, callbacks=[steps])
    assert steps.history["loss"] == per_epoch["loss"] and steps.history["accuracy"] == per_epoch["accuracy"]
    assert len(set(steps.history["loss"])) == 12          # each step's own loss, not a running mean


def test_step_history_rejects_several_steps_per_execution():
    model = tiny_model()
    model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy", steps_per_execution=2)
    x, y = tiny_problem(8)
    with pytest.raises(ValueError, match="steps_per_execution"):
        model.fit(x, y, batch_size=4, epochs=1, verbose=0, callbacks=[training.StepHistory()])


def test_standard_callbacks_write_history_with_time(tmp_path):
    x, y = tiny_problem(300)
    tiny_model().fit(x, y, epochs=2, verbose=0, callbacks=training.standard_callbacks(tmp_path))
    rows = list(csv.DictReader((tmp_path / "history.csv").open()))
    assert len(rows) == 2 and float(rows[1]["time_s"]) >= float(rows[0]["time_s"]) > 0


def test_dataset_pipeline_batches_and_augments():
    x, y = tiny_problem(250)
    calls = []

    def augment(batch, training):
        calls.append(training)
        return batch * 0

    batches = list(training.dataset(x, y, batch_size=100, shuffle=True, augment=augment))
    assert [len(b[0]) for b in batches] == [100, 100, 50] and float(np.abs(batches[0][0]).sum()) == 0


def test_evaluate_every_samples_leaves_training_metrics_intact():
    """Mid-epoch evaluations must not reset the running training loss/accuracy fit() reports."""
    x, y = tiny_problem(1000)
    histories = []
    for callbacks in ([], [training.EvaluateEverySamples(300, {"test": (x[:50] * 5, 1 - y[:50])}, 100)]):
        keras.utils.set_random_seed(0)
        histories.append(tiny_model().fit(x, y, batch_size=100, epochs=2, shuffle=False, verbose=0,
                                          callbacks=callbacks).history)
    np.testing.assert_allclose(histories[1]["accuracy"], histories[0]["accuracy"], rtol=1e-6)
    np.testing.assert_allclose(histories[1]["loss"], histories[0]["loss"], rtol=1e-6)


def test_fit_classifier_trains_logs_and_monitors_test_per_epoch(tmp_path):
    x, y = tiny_problem(1200)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])
    fit = training.fit_classifier(model, (x[:800], y[:800]), (x[800:1000], y[800:1000]), (x[1000:], y[1000:]),
                                  learning_rate=0.05, epochs=3, batch_size=64, run_dir=tmp_path)
    assert [r["samples"] for r in fit.test_log.records] == [13 * 64, 26 * 64, 39 * 64]   # once per epoch (13 steps)
    assert fit.test_accuracy > 0.9 and fit.history["loss"][-1] < fit.history["loss"][0]
    assert fit.test_log.records[-1]["test_accuracy"] == pytest.approx(fit.test_accuracy)  # same weights, same split
    assert fit.seconds == fit.history["time_s"][-1] > 0
    assert len(list(csv.DictReader((tmp_path / "history.csv").open()))) == 3


def test_augmented_pipeline_repeats_with_the_same_seed():
    """Random augmentation in the pipeline takes its seeds in batch order: --seed makes a run repeatable."""
    from hwkit import models
    rng = np.random.default_rng(0)
    x, y = rng.random((1024, 12, 12, 1)).astype("float32"), rng.integers(0, 10, 1024)
    epochs = []
    for _ in range(2):
        keras.utils.set_random_seed(0)
        ds = training.dataset(x, y, 16, shuffle=True, seed=0, augment=models.random_shift_augmentation(0.2))
        epochs.append(np.concatenate([batch.numpy() for batch, _ in ds]))
    assert np.array_equal(*epochs)
    assert not np.array_equal(np.sort(epochs[0].ravel()), np.sort(x.ravel()))   # the shifts did move pixels
