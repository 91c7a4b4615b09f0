"""Assignment C, Keras parts (C1-C3, C6-C10): protocol, models, verdicts, counts, and quick runs on the real data."""
from __future__ import annotations

import keras
import numpy as np
import pdf_layout  # tests/pdf_layout.py
import pytest
from conftest import recorded

from hwkit import findings as F
from hwkit.assignments import c_coursework

# ----------------------------------------------------------------------------- models and recipe

@pytest.mark.parametrize("number, expected", [(1, 784 * 10 + 10), (2, 784 * 32 + 32 + 32 * 10 + 10),
                                              (3, 784 * 32 + 32 + 32 * 32 + 32 + 330),
                                              (4, 80 + 584 + 392 * 32 + 32 + 330),
                                              (5, 25 + 108 + 784 * 32 + 32 + 330)])
def test_model_parameter_counts(number, expected):
    assert c_coursework.coursework_model(number).count_params() == expected


def test_models_use_xavier_initialisation_and_zero_biases():
    keras.utils.set_random_seed(0)
    model = c_coursework.coursework_model(3)
    for layer in model.layers:
        if isinstance(layer, keras.layers.Dense):
            assert isinstance(layer.kernel_initializer, keras.initializers.GlorotUniform)
            fan_in, fan_out = layer.kernel.shape
            limit = np.sqrt(6 / (fan_in + fan_out))
            w = layer.kernel.numpy()
            assert np.abs(w).max() <= limit and np.abs(w).max() > 0.9 * limit
            assert not layer.bias.numpy().any()
    for layer in c_coursework.coursework_model(5).layers:
        if isinstance(layer, keras.layers.SeparableConv2D):
            assert isinstance(layer.depthwise_initializer, keras.initializers.GlorotUniform)
            assert isinstance(layer.pointwise_initializer, keras.initializers.GlorotUniform)


def test_loss_is_summed_over_the_batch_and_optimizer_is_plain_sgd():
    model = c_coursework.compile_coursework(c_coursework.coursework_model(1), 0.01)
    assert type(model.optimizer) is keras.optimizers.SGD and model.optimizer.momentum == 0
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(100, 10)).astype(np.float32)
    y = rng.integers(0, 10, 100)
    log_p = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    per_example = -log_p[np.arange(100), y]
    assert float(model.loss(y, logits)) == pytest.approx(per_example.sum(), rel=1e-5)
    assert float(model.loss(y, logits)) == pytest.approx(100 * per_example.mean(), rel=1e-5)


def test_separable_cnn_pool_and_filter_lengths_must_agree():
    with pytest.raises(ValueError):
        c_coursework.separable_cnn((8, 8), (True,))


def test_q34_search_space_is_smaller_than_model4():
    import keras_tuner as kt
    limit = c_coursework.coursework_model(4).count_params()
    largest = kt.HyperParameters()
    for name in ("filters1", "filters2", "filters3"):
        largest.Fixed(name, 16)
    largest.Fixed("dense_units", 32)
    largest.Fixed("learning_rate", 1e-3)
    assert c_coursework.SeparableCnnHyperModel().build(largest).count_params() < limit


# ----------------------------------------------------------------------------- the every-20 000-samples protocol

def test_expected_evaluations():
    assert c_coursework.expected_evaluations(60000, 1) == 3
    assert c_coursework.expected_evaluations(60000, 40) == 120
    assert sum(c_coursework.expected_evaluations(60000, e) for settings in (1, 2, 3)
               for e, _ in c_coursework.SETTINGS[settings]) == 3 * (25 + 45 + 85)


@pytest.mark.slow
def test_one_epoch_on_the_real_training_set_evaluates_three_times(data_dir):
    """60 000 images, batch 100: evaluations after 20 000, 40 000 and 60 000 samples, on 12 000 train + 10 000 test."""
    d = c_coursework.load_data(data_dir)
    assert len(d.x_train) == 60000 and len(d.x_train_eval) == 12000 and len(d.x_test) == 10000
    keras.utils.set_random_seed(0)
    r = c_coursework.train_setting(c_coursework.coursework_model(1), d, 1, 1e-3, model_number=1, setting=2, verbose=0)
    assert r.samples == [20000, 40000, 60000]
    assert len(r.train_accuracy) == len(r.test_accuracy) == 3
    assert r.test_accuracy[-1] > 0.85 and r.weights_finite


def _fake_mnist(monkeypatch, n_train=500, n_test=100):
    rng = np.random.default_rng(0)
    train = (rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8), rng.integers(0, 10, n_train))
    test = (rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8), rng.integers(0, 10, n_test))
    from hwkit import data
    monkeypatch.setattr(data, "load_mnist", lambda data_dir=None: (train, test))
    return train, test


def test_numpy_protocol_loop_evaluates_every_log_period_and_is_seeded():
    """C4's loop: one evaluation per ``log_period`` samples across epochs, the summed-loss SGD learns,
    same seed = same run."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 784)).astype("float32")
    y = (x[:, :10].argmax(1)).astype("int64")
    evals = {"train": (x[:120], y[:120]), "test": (x[-100:], y[-100:])}
    result = c_coursework.train_numpy_setting(2, 2, 1e-3, (x, y), evals, log_period=400, seed=3)
    assert [r["samples"] for r in result["curves"]] == [400, 800, 1200]      # 1 200 samples in 2 epochs of 600
    assert result["parameters"] == 784 * 32 + 32 + 32 * 10 + 10 and not result["diverged"]
    assert result["final"]["train"] > result["curves"][0]["train_accuracy"] - 0.05 and result["final"]["train"] > 0.3
    again = c_coursework.train_numpy_setting(2, 2, 1e-3, (x, y), evals, log_period=400, seed=3)
    assert again["curves"] == result["curves"]


def test_earlier_experiments_without_the_run_name_the_command(runs_dir):
    from hwkit import HwkitError
    with pytest.raises(HwkitError, match=r"task c7 reads the latest .*c1.*run `python -m tasks.c1 --quick` first"):
        c_coursework.earlier_experiments({3: "c1"}, include_quick=True, reader="c7")


def test_train_eval_rows_are_fixed_whatever_the_seed(monkeypatch):
    """C1 and C4 (both through load_data) evaluate the same 20% of the training rows, whatever --seed is."""
    train, _ = _fake_mnist(monkeypatch)
    a = c_coursework.load_data(None, c_coursework.FULL, seed=0)
    b = c_coursework.load_data(None, c_coursework.FULL, seed=7)
    assert len(a.train_eval_indices) == 100 and np.array_equal(a.train_eval_indices, b.train_eval_indices)
    assert np.array_equal(a.train_eval_indices, c_coursework.train_eval_indices(500))
    assert a.train_eval_digest == b.train_eval_digest
    assert np.array_equal(a.y_train_eval, train[1][a.train_eval_indices])
    # Not the rows --seed would draw: seed 0's own subset differs from the fixed one.
    assert not np.array_equal(a.train_eval_indices, np.sort(np.random.default_rng(0).choice(500, 100, replace=False)))


def test_train_eval_digest_covers_indices_images_and_labels(monkeypatch):
    _fake_mnist(monkeypatch)
    d = c_coursework.load_data(None, c_coursework.FULL)
    digest = d.train_eval_digest
    pixel = d.x_train_eval[0, 0, 0, 0]
    d.x_train_eval[0, 0, 0, 0] = pixel + 0.5
    assert d.train_eval_digest != digest
    d.x_train_eval[0, 0, 0, 0] = pixel
    assert d.train_eval_digest == digest
    d.y_train_eval[0] = (d.y_train_eval[0] + 1) % 10
    assert d.train_eval_digest != digest


def test_quick_recipe_shrinks_the_data(monkeypatch):
    _fake_mnist(monkeypatch, n_train=5000, n_test=2000)
    d = c_coursework.load_data(None, c_coursework.QUICK, seed=1)
    assert (len(d.x_train), len(d.x_test), len(d.x_train_eval), d.log_period) == (4000, 1000, 800, 2000)
    assert d.x_train.dtype == np.float32 and d.x_train.shape[1:] == (28, 28, 1) and d.x_train.max() <= 1.0


# ----------------------------------------------------------------------------- C2 verdicts

def _run(model, setting, train, test, weights_finite=True):
    summary = {"model": model, "setting": setting, "epochs": 5, "learning_rate": 0.01,
               "final_train_accuracy": train[-1], "final_test_accuracy": test[-1], "weights_finite": weights_finite}
    curves = [{"model": model, "setting": setting, "samples": 20000 * (i + 1), "train_accuracy": a, "test_accuracy": b}
              for i, (a, b) in enumerate(zip(train, test))]
    return summary, curves


def test_diagnose_separates_the_four_cases():
    n = 12
    rising = np.linspace(0.90, 0.995, n)
    cases = {
        (1, 1): (rising, rising - np.linspace(0.0, 0.03, n)),                        # over-fitting
        (1, 2): (np.linspace(0.5, 0.9, n), np.linspace(0.5, 0.9, n) - 0.002),        # under-fitting (same model fits)
        (2, 1): (np.linspace(0.95, 0.985, n), np.linspace(0.95, 0.98, n)),           # good fit
        (2, 2): (0.85 + 0.05 * (-1) ** np.arange(n), np.full(n, 0.85)),              # unstable (jitter)
        (3, 1): (np.full(n, 0.098), np.full(n, 0.098)),                              # collapsed
        (4, 1): (np.linspace(0.90, 0.92, n), np.linspace(0.90, 0.92, n)),            # capacity under-fit
    }
    summary, curves = [], []
    for (model, setting), (train, test) in cases.items():
        s, c = _run(model, setting, list(train), list(test))
        summary.append(s)
        curves += c
    verdicts = {(v["model"], v["setting"]): v for v in c_coursework.diagnose(summary, curves)}
    assert verdicts[(1, 1)]["verdict"] == "over-fitting"
    assert verdicts[(1, 2)]["verdict"] == "under-fitting" and verdicts[(1, 2)]["reason"].startswith("optimisation")
    assert verdicts[(2, 1)]["verdict"] == "good fit"
    assert verdicts[(2, 2)]["verdict"] == "unstable"
    assert verdicts[(3, 1)]["verdict"] == "unstable"
    assert verdicts[(4, 1)]["verdict"] == "under-fitting" and verdicts[(4, 1)]["reason"].startswith("capacity")
    assert verdicts[(1, 1)]["final_gap"] == pytest.approx(0.03)


def test_pick_overfitting_run_takes_largest_gap():
    v = [{"verdict": "over-fitting", "final_gap": 0.02, "id": 1},
         {"verdict": "over-fitting", "final_gap": 0.03, "id": 2},
         {"verdict": "unstable", "final_gap": 0.2, "id": 3}, {"verdict": "good fit", "final_gap": 0.01, "id": 4}]
    assert c_coursework.pick_overfitting_run(v)[0]["id"] == 2
    assert c_coursework.pick_overfitting_run([x for x in v if x["id"] > 2])[0]["id"] == 4


# ----------------------------------------------------------------------------- C8 counts

def test_fit_overview_and_below_best_train():
    summary, curves = [], []
    for model, train, test in ((1, [0.8, 0.9], [0.8, 0.85]), (2, [0.9, 0.97], [0.9, 0.95])):
        s_, c = _run(model, 1, train, test)
        summary.append(s_)
        curves += c
    verdicts = c_coursework.diagnose(summary, curves)
    assert [v["below_best_train"] for v in verdicts] == pytest.approx([0.07, 0.0])
    assert c_coursework.fit_overview(verdicts) == pytest.approx({"best_train_accuracy": 0.97, "largest_gap": 0.05})


def test_fix_effect_says_whether_the_gap_narrowed():
    before = {"final_gap": 0.03, "final_test_accuracy": 0.95}
    better = c_coursework.fix_effect(before, {"final_gap": 0.01, "final_test_accuracy": 0.96, "verdict": "good fit"})
    assert better["gap_narrower"] and better["test_accuracy_change"] == pytest.approx(0.01)
    assert better["verdict"] == "good fit"
    worse = c_coursework.fix_effect(before, {"final_gap": 0.04, "final_test_accuracy": 0.94})
    assert not worse["gap_narrower"] and worse["test_accuracy_change"] == pytest.approx(-0.01)


def _summary_rows(accuracies):
    return [{"model": m, "setting": s, "epochs": 5, "learning_rate": 0.01, "final_test_accuracy": a, "seconds": 10.0}
            for (m, s), a in accuracies.items()]


def test_compare_implementations_counts_agreement_in_points():
    ours = _summary_rows({(1, s): 0.90 for s in (1, 2, 3)})
    theirs = _summary_rows({(1, 1): 0.90, (1, 2): 0.91, (1, 3): 0.92})      # gaps of 0, 1 and 2 points
    rows, o = c_coursework.compare_implementations(ours, [], theirs, None)
    assert [r["difference_points"] for r in rows] == pytest.approx([0.0, -1.0, -2.0])
    assert (o["settings"], o["agree"], o["settings_mean"]) == (3, 2, 0) and o["largest_gap"] == pytest.approx(2.0)
    assert rows[0]["seconds_per_epoch"] == 2.0 and rows[0]["mean_difference_points"] is None
    # Curves: the mean of the last `window` evaluations, ours 1 point below theirs everywhere.
    curves = [{"model": 1, "setting": s, "samples": i, "test_accuracy": 0.5 + 0.01 * i}
              for s in (1, 2, 3) for i in range(20)]
    other = [{**c, "test_accuracy": c["test_accuracy"] + 0.01} for c in curves]
    rows, o = c_coursework.compare_implementations(ours, curves, theirs, other, window=15)
    assert rows[0]["mean_last"] == pytest.approx(0.5 + 0.01 * 12)                 # mean of i = 5 .. 19
    assert (o["settings_mean"], o["agree_mean"]) == (3, 3) and o["largest_gap_mean"] == pytest.approx(1.0)
    _, o = c_coursework.compare_implementations(ours, curves, theirs, other, within=0.5)
    assert (o["agree"], o["agree_mean"]) == (1, 0)


def test_collapsed_settings_below_chance_level():
    rows = _summary_rows({(2, 3): 0.098, (2, 2): 0.95, (3, 3): 0.2})
    assert [(r["model"], r["setting"]) for r in c_coursework.collapsed_settings(rows)] == [(2, 3)]


def test_convolution_answer_compares_each_chosen_setting_with_the_mlp_chosen_the_same_way():
    def row(m, p, train, test, s1, s1_fit):
        return {"model": m, "parameters": p, "chosen_setting": 3, "chosen_fit": "fits", "chosen_train_accuracy": train,
                "chosen_test_accuracy": test, "setting1": s1, "setting1_fit": s1_fit}
    cmp = [row(1, 7850, 0.93, 0.92, 0.9, "fits"), row(2, 25450, 0.99, 0.96, 0.9, "fits"),
           row(3, 26506, 0.98, 0.97, 0.9, "fits"),   # best test accuracy, but not the best on the training subset
           row(4, 13570, 0.99, 0.985, 0.1, "failed to fit"), row(5, 25583, 0.98, 0.975, 0.11, "failed to fit")]
    n = 1000
    scores = {2: (np.arange(n) < 960).astype(int), 4: (np.arange(n) < 985).astype(int),
              5: (np.arange(n) < 960).astype(int)}
    a = c_coursework.convolution_answer(cmp, scores)
    assert (a["mlp_model"], a["mlp_parameters"]) == (2, 25450)      # chosen by training accuracy, not test
    assert a["model4"]["parameters_percent_of_mlp"] == pytest.approx(100 * 13570 / 25450)
    f = a["findings"]
    assert f["model4_vs_mlp"]["verdict"] == F.BETTER and f["model5_vs_mlp"]["verdict"] == F.SAME
    assert f["setting1_fit"]["verdict"] == F.FAILED
    cmp[4]["setting1_fit"] = "fits"
    assert c_coursework.convolution_answer(cmp, scores)["findings"]["setting1_fit"]["verdict"] == c_coursework.MIXED
    cmp[3]["setting1_fit"] = "fits"
    assert c_coursework.convolution_answer(cmp, scores)["findings"]["setting1_fit"]["verdict"] == F.FITS
    cmp[3]["chosen_fit"] = F.FAILED      # a failed model is never compared
    assert c_coursework.convolution_answer(cmp, scores)["findings"]["model4_vs_mlp"]["verdict"] == F.NOT_COMPARABLE
    assert c_coursework.convolution_answer(cmp, {})["findings"]["model5_vs_mlp"]["verdict"] == F.NOT_COMPARABLE
    assert c_coursework.convolution_answer(cmp[:4]) is None


def test_q31_counts():
    from hwkit.assignments.c_convolutions import conv_costs
    depthwise, pointwise, separable, plain = conv_costs(28, 28, 16, 64, 3)
    assert depthwise["output"] == (28, 28, 16) and depthwise["mults"] == 28 * 28 * 16 * 9 == 112_896
    assert pointwise["output"] == (28, 28, 64) and pointwise["mults"] == 28 * 28 * 16 * 64 == 802_816
    assert plain["output"] == (28, 28, 64) and plain["mults"] == 28 * 28 * 64 * 9 * 16 == 7_225_344
    assert separable["weights"] == 9 * 16 + 16 * 64 and plain["weights"] == 9 * 16 * 64
    assert conv_costs(28, 28, 16, 64, 3, "valid")[3]["output"] == (26, 26, 64)


def test_q31_formulas_match_keras_and_profiler():
    from hwkit.assignments.c_convolutions import check_q31
    rows = check_q31("same")
    assert all(r["matches"] for r in rows if "matches" in r) and sum("matches" in r for r in rows) == 3


def test_q32_layer_formulas_match_count_params():
    from hwkit.assignments.c_convolutions import layer_parameter_formulas
    for number in (4, 5):
        rows = layer_parameter_formulas(c_coursework.coursework_model(number))
        assert all(r["matches"] for r in rows)
        assert sum(r["parameters"] for r in rows) == c_coursework.coursework_model(number).count_params()


def test_separable_ratio_closed_form():
    from hwkit.assignments.c_convolutions import separable_ratio_rows
    for r in separable_ratio_rows():
        assert r["ratio"] == pytest.approx(r["closed_form"])


# ----------------------------------------------------------------------------- C9

def test_rank_one_kernel_equals_two_passes_and_orientation_matters():
    from hwkit.assignments.c_convolutions import apply, column_then_row, row_then_column
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 20, 20))
    k1, k2 = rng.normal(size=3), rng.normal(size=5)
    for padding in ("valid", "same"):
        full = apply(x, np.outer(k1, k2), padding)
        assert np.abs(full - column_then_row(x, k1, k2, padding)).max() < 1e-4
        assert np.abs(full - row_then_column(x, k1, k2, padding)).max() < 1e-4
    k1b = rng.normal(size=5)
    assert np.abs(apply(x, np.outer(k1b, k2)) - apply(x, np.outer(k2, k1b))).max() > 0.1


def test_apply_is_cross_correlation():
    from hwkit.assignments.c_convolutions import apply
    x = np.zeros((1, 5, 5))
    x[0, 2, 2] = 1.0
    k = np.arange(9.0).reshape(3, 3)
    out = apply(x, k, "same")[0]
    assert np.allclose(out[1:4, 1:4], k[::-1, ::-1])   # an impulse returns the flipped kernel


def test_laplacian_has_rank_two_and_svd_pairs_reproduce_it():
    from hwkit.assignments.c_convolutions import LAPLACIAN, rank_analysis
    x = np.random.default_rng(0).normal(size=(1, 16, 16))
    r = rank_analysis(LAPLACIAN, x)
    assert r["rank"] == 2
    assert r["best_rank1_spectral_error"] == pytest.approx(r["singular_values"][1])
    assert r["best_rank1_output_diff"] > 0.1
    assert r["svd_sum_of_separable_passes_diff"] < 1e-4


# ----------------------------------------------------------------------------- quick end-to-end runs on the real data

@pytest.mark.slow
def test_quick_runs_and_pdf(run_task, data_dir, tmp_path):
    """Every Keras task of C in quick mode (in dependency order), then the C report with include_quick."""
    c1 = run_task("c1", "--quick", "--data-dir", str(data_dir))
    rows = c1.table("summary")
    assert len(rows) == 9 and {r["model"] for r in rows} == {1, 2, 3}
    q = c_coursework.QUICK
    per_run = c_coursework.expected_evaluations(q.train_rows, q.epochs, q.log_period)
    assert all(r["evaluations"] == per_run == 2 for r in rows)
    assert len(c1.table("curves")) == 9 * per_run
    assert c1.figure("learning_curves") and c1.figure("summary_table")

    c4 = run_task("c4", "--quick", "--data-dir", str(data_dir))   # numpy Part 2: the same evaluation rows as C1
    assert c4.metrics["train_eval_digest"] == c1.metrics["train_eval_digest"]
    assert c4.metrics["keras_comparison"]["run"] == c1.name and len(c4.table("keras_comparison")) == 9

    c2 = run_task("c2", "--quick")
    assert c2.metrics["source_run"] == recorded(c1.path) and len(c2.table("verdicts")) == 9

    c3 = run_task("c3", "--quick", "--data-dir", str(data_dir))
    assert c3.metrics["chosen_l2"] in (0.01, 0.03, 0.1) and c3.figure("before_after")
    assert len(c3.table("before_after")) == 4 and c3.metrics["early_stopping_epochs"] == 1
    wanted = {"l2_test", "l2_gap", "early_stopping_test", "early_stopping_gap", "l2_choice"}
    assert wanted <= set(c3.metrics["findings"])

    c6 = run_task("c6", "--quick", "--data-dir", str(data_dir))
    assert [r["model"] for r in c6.table("summary")] == [4, 4, 4]
    c7 = run_task("c7", "--quick", "--data-dir", str(data_dir))
    assert set(c7.metrics["models345_sources"]) == {"model3", "model4"}
    assert c7.figure("learning_curves_models345")

    c8 = run_task("c8", "--quick")
    assert c8.metrics["model4_parameters"] == 13570 and c8.metrics["model5_parameters"] == 25583
    assert {r["model"] for r in c8.table("accuracy_comparison")} == {1, 2, 3, 4, 5}

    c9 = run_task("c9", "--quick", "--data-dir", str(data_dir))
    assert c9.metrics["rank_one_equal"] and not c9.metrics["laplacian_decomposes"]

    c10 = run_task("c10", "--quick", "--data-dir", str(data_dir))
    assert c10.metrics["parameters"] < c10.metrics["model4_parameters"]
    assert c10.metrics["reference_run"] == recorded(c6.path)

    from pypdf import PdfReader

    from hwkit import cli
    pdf = cli.render_report("C", include_quick=True, out_dir=tmp_path)
    reader = PdfReader(pdf)
    text = "".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages) >= 8
    for heading in ("C1 — Part 1", "C2 — Q1.1", "C3 — Q1.4", "C6 — Part 3", "C7 — Part 3", "C8 — Q3.1",
                    "C9 — Q3.3", "C10 — Q3.4", "SMOKE RESULT"):
        assert heading in text
    # A heading is there even for a task that did not run: every task run above has its section filled.
    flat = " ".join(text.split())
    assert not [t for t in ("c1", "c2", "c3", "c6", "c7", "c8", "c9", "c10") if f"full run of {t} was" in flat]
    assert pdf_layout.report_figures("C") >= 10


def test_c10_never_chooses_a_learning_rate_that_collapsed_a_trial():
    """The measured case: LR 0.004 led the search (0.9721) while two other trials at 0.004 collapsed to 0.11."""
    from tasks import c10

    def trial(lr, score, status="COMPLETED"):
        return {"learning_rate": lr, "score": score, "status": status}
    trials = [trial(0.001, 0.9443), trial(0.004, 0.1107), trial(0.002, 0.9707), trial(0.004, 0.9721),
              trial(0.002, 0.9668), trial(0.004, None, "FAILED")]
    chosen, unstable = c10.stable_best(trials)
    assert chosen == trials[2] and unstable == [0.004]
    assert c10.stable_best(trials[:1] + trials[2:3])[0] == trials[2]     # nothing collapsed: simply the best
    every = [trial(0.004, 0.11), trial(0.004, 0.97), trial(0.002, 0.15)]   # every rate collapsed once
    assert c10.stable_best(every) == (every[1], [0.002, 0.004])
