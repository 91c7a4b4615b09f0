"""Assignment A: verdict logic on synthetic predictions, exact A3/A4 constructions, quick end-to-end runs, the PDF."""
from __future__ import annotations

import numpy as np
import pdf_layout  # tests/pdf_layout.py
import pytest

from hwkit.assignments import a_identity
from hwkit.findings import FAILED, FITS, NOT_COMPARABLE

RNG = np.random.default_rng(0)


def _images(n: int, rng: np.random.Generator = RNG) -> np.ndarray:
    """Sparse 'digit-like' images in [0,1]: mostly 0, some bright pixels, all different."""
    x = rng.uniform(0, 1, (n, 28, 28, 1)) * (rng.uniform(0, 1, (n, 28, 28, 1)) < 0.2)
    return x.astype("float32")


# ----------------------------------------------------------------------------- distances and verdicts

def test_constant_predictor_is_called_constant():
    x_train, x = _images(1), _images(10)
    s = a_identity.summarise(np.repeat(x_train, 10, axis=0), x, x_train)
    assert s["verdict"] == "constant" and s["images_constant"] == 10
    assert s["d_const"] == pytest.approx(0) and s["d_id"] == pytest.approx(1)


def test_identity_predictor_is_called_identity():
    x_train, x = _images(1), _images(10)
    s = a_identity.summarise(x.copy(), x, x_train)
    assert s["verdict"] == "identity" and s["images_identity"] == 10
    assert s["d_id"] == pytest.approx(0) and s["d_const"] == pytest.approx(1)


@pytest.mark.parametrize("seed", range(5))
def test_noisy_and_faded_versions_keep_their_verdicts(seed):
    # its own generator: the verdicts must not depend on which tests drew from the module's RNG before
    rng = np.random.default_rng(seed)
    x_train, x = _images(1, rng), _images(10, rng)
    noise = rng.normal(0, 0.05, x.shape)
    assert a_identity.summarise(np.clip(x + noise, 0, 1), x, x_train)["verdict"] == "identity"
    assert a_identity.summarise(np.clip(x_train + noise, 0, 1), x, x_train)["verdict"] == "constant"
    # documented: half intensity still counts
    assert a_identity.summarise(0.5 * x, x, x_train)["verdict"] == "identity"


def test_blank_and_blend_predictions_are_neither():
    x_train, x = _images(1), _images(10)
    assert a_identity.summarise(np.zeros_like(x), x, x_train)["verdict"] == "neither"
    assert a_identity.summarise(0.5 * x + 0.5 * x_train, x, x_train)["verdict"] == "neither"


def test_spread_separates_constant_maps_from_input_dependent_ones():
    x_train, x = _images(1), _images(10)
    assert a_identity.spread(np.repeat(x_train, 10, axis=0), x) == pytest.approx(0)
    assert a_identity.spread(x, x) == pytest.approx(1)
    grey = a_identity.summarise(np.full_like(x, 0.3), x, x_train)    # constant, but not x_train
    assert grey["verdict"] == "neither" and grey["spread"] == pytest.approx(0)


def test_verdict_threshold_rule():
    assert a_identity.verdict(0.1, 0.4) == "constant"        # exactly 4x closer
    assert a_identity.verdict(0.11, 0.4) == "neither"
    assert a_identity.verdict(0.4, 0.1) == "identity"
    with pytest.raises(ValueError):                          # input == x_train: undecidable
        a_identity.distances(_images(1), np.zeros((1, 28, 28, 1)) + 0.0, np.zeros((1, 28, 28, 1)))


def _run(seed, verdict_, fit=True, d_const=0.1, d_id=0.9, spread=0.5, train_mse=None, late=0.01):
    if train_mse is None:
        train_mse = 1e-4 if fit else 0.02
    return {"seed": seed, "distance_verdict": verdict_, "fit": FITS if fit else FAILED, "d_const": d_const,
            "d_id": d_id, "spread": spread, "train_mse": train_mse, "late_loss_drop": late}


def test_fit_check_uses_the_stated_threshold():
    assert a_identity.fit_check(a_identity.FIT_MSE / 2).verdict == FITS
    assert a_identity.fit_check(a_identity.FIT_MSE).verdict == FAILED           # "below", as the report says
    assert a_identity.fit_check(0.0207).verdict == FAILED                       # the cut-off A1 runs
    assert a_identity.fit_check(float("nan")).verdict == FAILED


def test_conjecture_counts_only_fitted_runs():
    # Two failed runs whose distances say "neither" must not vote, nor shift the distances.
    rows = [_run(0, "constant", d_const=0.01), _run(1, "constant", d_const=0.03), _run(2, "constant", d_const=0.02),
            _run(3, "neither", fit=False, d_const=0.7), _run(4, "neither", fit=False, d_const=0.8)]
    c = a_identity.conjecture(rows, "h")
    assert c.verdict == "constant" and c.numbers["formula"] == "h(x) ≈ x_train"
    assert (c.numbers["votes"], c.numbers["fitted"], c.numbers["runs"]) == (3, 3, 5)
    assert c.numbers["failed_seeds"] == [3, 4] and c.numbers["counts"]["neither"] == 0
    assert (c.numbers["d_const"], c.numbers["d_const_low"], c.numbers["d_const_high"]) == (0.02, 0.01, 0.03)
    assert a_identity.conjecture([_run(k, "identity") for k in range(5)], "g").numbers["formula"] == "g(x) ≈ x"
    assert a_identity.conjecture([_run(k, "neither") for k in range(3)]).verdict == "neither"


def test_conjecture_needs_a_strict_majority_of_enough_fitted_runs():
    split = [_run(0, "constant"), _run(1, "constant"), _run(2, "identity"), _run(3, "identity")]
    assert a_identity.conjecture(split).verdict == a_identity.MIXED
    plurality = [_run(0, "constant"), _run(1, "constant"), _run(2, "identity"), _run(3, "neither")]
    assert a_identity.conjecture(plurality).verdict == a_identity.MIXED           # 2 of 4 is not more than half
    too_few = [_run(0, "constant"), _run(1, "constant"), _run(2, "constant", fit=False)]
    c = a_identity.conjecture(too_few)
    assert c.verdict == a_identity.TOO_FEW and c.numbers["fitted"] == 2 and c.numbers["d_const"] == 0.1
    none = a_identity.conjecture([_run(k, "neither", fit=False) for k in range(5)])
    assert none.verdict == a_identity.TOO_FEW and none.interval is None and "d_const" not in none.numbers


def test_fit_summary_names_the_failed_runs():
    assert a_identity.fit_summary([_run(0, "identity"), _run(1, "identity")]).verdict == FITS
    f = a_identity.fit_summary([{**_run(0, "identity"), "depth": 3}, {**_run(1, "neither", fit=False), "depth": 20}])
    assert f.verdict == FAILED and f.numbers["failed_seeds"] == [1] and f.numbers["failed_depths"] == [20]


def test_cut_off_finding_branches():
    none = a_identity.cut_off_finding([_run(0, "constant"), _run(1, "constant")])
    assert none.verdict == a_identity.NO_CUT_OFF and none.numbers["seeds"] == []
    cut = [_run(0, "constant"), _run(1, "neither", fit=False, spread=0.0, late=0.02),
           _run(2, "neither", fit=False, spread=1e-9, late=0.03)]
    learning = a_identity.cut_off_finding(cut)
    assert learning.verdict == a_identity.CUT_OFF_LEARNING
    assert learning.numbers["seeds"] == [1, 2] and learning.numbers["failed"] == 2
    cut[2]["late_loss_drop"] = a_identity.STILL_LEARNING / 2
    assert a_identity.cut_off_finding(cut).verdict == a_identity.CUT_OFF_STALLED


def test_learning_rate_is_chosen_from_the_check_table_by_the_stated_rule():
    rows = [{"learning_rate": lr, "train_mse": mse, "fit": FITS if mse < a_identity.FIT_MSE else FAILED}
            for lr, mse in ((0.5, 1e-3), (2.0, 2e-4), (5.0, 3e-3), (10.0, 0.09))]
    c = a_identity.choose_learning_rate(rows)
    assert c.verdict == a_identity.LR_FITS and c.numbers["chosen"] == 5.0      # the largest that fits, not the best MSE
    assert c.numbers["fitting"] == [0.5, 2.0, 5.0] and c.criterion == a_identity.LR_RULE
    # Measured on A5's 20-layer net: both rates collapse, 0.5 by a hair "better"; a failure ranks nothing.
    failing = [{"learning_rate": lr, "train_mse": mse, "fit": FAILED} for lr, mse in ((0.5, 0.0799), (0.1, 0.0803))]
    none = a_identity.choose_learning_rate(failing)
    assert none.verdict == a_identity.LR_NONE_FITS and none.numbers["chosen"] == 0.1
    assert none.numbers["chosen_train_mse"] == 0.0803 and none.numbers["fitting"] == []
    with pytest.raises(ValueError):
        a_identity.choose_learning_rate([])


def test_construction_check_branches():
    ok = [{"claimed_domain": True, "max_abs_error": 1e-7}, {"claimed_domain": False, "max_abs_error": 5.0}]
    c = a_identity.construction_check(ok)
    assert c.verdict == a_identity.VERIFIED and c.numbers["worst_outside"] == 5.0 and c.numbers["checks"] == 1
    bad = ok + [{"claimed_domain": True, "max_abs_error": 1e-3}]
    assert a_identity.construction_check(bad).verdict == a_identity.NOT_VERIFIED
    shape = ok + [{"claimed_domain": True, "max_abs_error": 0.0, "output_shape_ok": False}]
    assert a_identity.construction_check(shape).numbers["failing"] == 1
    with pytest.raises(ValueError):
        a_identity.construction_check([{"claimed_domain": False, "max_abs_error": 1.0}])


def test_dead_units_and_bce_floor():
    model = a_identity.identity_mlp()
    dense = [layer for layer in model.layers if layer.name.startswith("hidden")]
    w, b = dense[-1].get_weights()
    dense[-1].set_weights([np.zeros_like(w), -np.ones_like(b)])        # kill the last hidden layer
    x = _images(3)
    from hwkit import models
    dead = models.dead_relu_units(model, x)
    assert [layer.shape for layer in dead] == [(4,)] * 6
    assert dead[-1].all() and sum(layer.sum() for layer in dead) >= 4
    assert a_identity.relu_units(model) == [4] * 6
    assert np.allclose(model(x), model(_images(3)))                     # dead last layer => constant map
    assert a_identity.bce_floor(np.array([0.0, 1.0])) == pytest.approx(0, abs=1e-9)
    assert a_identity.bce_floor(np.array([0.5])) == pytest.approx(np.log(2))


def test_dead_channels_of_a_single_relu_layer_cnn_are_counted_per_channel():
    """A model with ONE ReLU layer: the probe returns a tensor, not a list (a past bug walked the batch)."""
    import keras

    from hwkit import models
    keras.utils.set_random_seed(0)
    cnn = a_identity.identity_cnn(hidden_layers=1, filters=10, kernel_size=5)
    conv = cnn.get_layer("conv1")
    w, b = conv.get_weights()
    b[:3] = -100.0                                                     # channels 0-2 can never fire on [0,1] images
    w[..., :3] = 0.0
    conv.set_weights([w, b])
    dead = models.dead_relu_units(cnn, _images(11))
    assert len(dead) == 1 and dead[0].tolist() == [True] * 3 + [False] * 7


def test_input_cut_off_is_the_spread_threshold():
    assert a_identity.input_cut_off(0.0) and a_identity.input_cut_off(a_identity.CUT_OFF_SPREAD / 2)
    assert not a_identity.input_cut_off(a_identity.CUT_OFF_SPREAD)
    assert not a_identity.input_cut_off(0.3)


def test_dead_units_counted_per_channel_with_a_single_relu_layer():
    # one ReLU layer: the probe model returns a tensor, not a list; channels must still be counted, not images
    model = a_identity.identity_cnn(hidden_layers=1)
    conv = model.get_layer("conv1")
    k, b = conv.get_weights()
    b[3] = -100.0                                  # channel 3 can never fire on [0, 1] images
    conv.set_weights([k, b])
    from hwkit import models
    dead = models.dead_relu_units(model, _images(7))
    assert len(dead) == 1 and int(dead[0].sum()) == 1 and int((~dead[-1]).sum()) == 9


def _sweep(verdicts: dict[int, list[str]], failed: dict[int, int] | None = None) -> list[dict]:
    """Sweep rows: per depth the fitted runs' verdicts, then ``failed[depth]`` runs that failed to fit."""
    rows = [{"depth": d, "seed": k, "distance_verdict": v, "fit": FITS, "train_mse": 1e-3, "d_const": 0.5,
             "d_id": 0.1 * d, "spread": 0.5} for d, vs in verdicts.items() for k, v in enumerate(vs)]
    for d, count in (failed or {}).items():
        rows += [{"depth": d, "seed": 10 + k, "distance_verdict": "neither", "fit": FAILED, "train_mse": 0.02,
                  "d_const": 0.6, "d_id": 0.9, "spread": 0.01} for k in range(count)]
    return sorted(rows, key=lambda r: r["depth"])


def test_verdict_counts_count_only_fitted_runs():
    counts = a_identity.verdict_counts(_sweep({1: ["identity"] * 3, 15: ["neither"]}, failed={15: 2, 20: 3}))
    assert counts[1] == {"constant": 0, "identity": 3, "neither": 0, FAILED: 0}
    assert counts[15] == {"constant": 0, "identity": 0, "neither": 1, FAILED: 2}
    assert counts[20] == {"constant": 0, "identity": 0, "neither": 0, FAILED: 3}
    assert a_identity.depth_verdict(counts[15]) == a_identity.NOT_JUDGED     # 1 of 3 fit: fewer than half
    assert a_identity.depth_verdict(counts[20]) == a_identity.NOT_JUDGED
    assert a_identity.depth_verdict({"constant": 1, "identity": 1, "neither": 0, FAILED: 1}) == a_identity.MIXED
    assert a_identity.depth_verdict({"constant": 0, "identity": 2, "neither": 0, FAILED: 2}) == "identity"


def test_paper_comparison_agreement():
    agree = a_identity.paper_comparison(_sweep({1: ["identity"] * 3, 8: ["neither", "neither", "identity"],
                                                20: ["constant"] * 3}))
    assert agree.verdict == a_identity.AGREES
    n = agree.numbers
    assert n["counts"]["8"] == {"constant": 0, "identity": 1, "neither": 2, FAILED: 0}
    assert n["identity_depths"] == [1] and n["neither_depths"] == [8] and n["constant_depths"] == [20]
    assert n["shallow"] == 1 and n["deep"] == 20 and n["deep_d_id"] == pytest.approx(2.0) and n["deep_runs"] == 3


def test_paper_comparison_partial_agreement_when_the_deep_nets_fail_to_fit():
    # The named problem: depths 12 and 20 all failed, 15 mostly; no depth gave the constant map.
    rows = _sweep({1: ["identity"] * 3, 4: ["identity"] * 3, 10: ["neither"] * 3, 15: ["neither"]},
                  failed={12: 3, 15: 2, 20: 3})
    p = a_identity.paper_comparison(rows)
    assert p.verdict == a_identity.PARTLY and p.numbers["deep"] == 10
    assert p.numbers["not_judged_depths"] == [12, 15, 20] and p.numbers["deeper_not_judged"] == [12, 15, 20]
    assert p.numbers["failed_runs"] == 8 and p.numbers["constant_depths"] == []
    # the failed runs' "neither" must not make depth 20 look like a measured point
    assert "20" in p.numbers["verdicts"] and p.numbers["verdicts"]["20"] == a_identity.NOT_JUDGED
    neither_at_20 = a_identity.paper_comparison(_sweep({1: ["identity"] * 3, 20: ["neither"] * 3}))
    assert neither_at_20.verdict == a_identity.PARTLY and neither_at_20.numbers["deep_verdict"] == "neither"


def test_paper_comparison_disagreement_branches():
    reverse = a_identity.paper_comparison(_sweep({1: ["identity"] * 3, 4: ["constant"] * 3, 20: ["neither"] * 3}))
    assert reverse.verdict == a_identity.DISAGREES and not reverse.numbers["monotone"]
    start = a_identity.paper_comparison(_sweep({1: ["neither"] * 3, 20: ["constant"] * 3}))
    assert start.verdict == a_identity.DISAGREES and not start.numbers["shallow_identity"]
    no_change = a_identity.paper_comparison(_sweep({1: ["identity"] * 3, 20: ["identity"] * 3}))
    assert no_change.verdict == a_identity.DISAGREES and no_change.numbers["monotone"]
    # identity throughout, but the sweep never reached the paper's depth: untested, not a disagreement
    shallow_only = a_identity.paper_comparison(_sweep({1: ["identity"], 3: ["identity"]}))
    assert shallow_only.verdict == a_identity.PARTLY


def test_paper_comparison_not_comparable_with_fewer_than_two_judged_depths():
    p = a_identity.paper_comparison(_sweep({1: ["identity"]}, failed={3: 1}))
    assert p.verdict == NOT_COMPARABLE and p.numbers["judged_depths"] == [1]
    assert p.numbers["failed_depths"] == [3]


def test_model_shapes_follow_the_text():
    mlp = a_identity.identity_mlp()
    assert len([layer for layer in mlp.layers if layer.trainable_weights]) == 7
    assert mlp.output.shape[1:] == (28, 28, 1)
    cnn = a_identity.identity_cnn()
    assert [layer.filters for layer in cnn.layers if hasattr(layer, "filters")] == [10, 1]
    assert cnn.output.shape[1:] == (28, 28, 1)


# ----------------------------------------------------------------------------- A3 / A4 constructions are exact

@pytest.mark.parametrize("shift", [0.0, 1.0])
def test_a3_identity_exact_on_its_domain_and_not_beyond(shift):
    n = 50
    model = a_identity.two_hidden_relu_net(*a_identity.identity_weights(n, shift))
    inside = RNG.uniform(-shift, shift + 3, (500, n)).astype("float32")
    assert a_identity.max_error(model, inside, inside) <= a_identity.TOLERANCE
    outside = inside - (shift + 1)
    assert a_identity.max_error(model, outside, outside) > 0.5


def test_a3_wide_identity_and_constant_exact_on_all_of_rn():
    n = 50
    x = RNG.normal(0, 100, (500, n)).astype("float32")
    wide = a_identity.two_hidden_relu_net(*a_identity.wide_identity_weights(n))
    assert a_identity.max_error(wide, x, x) <= a_identity.TOLERANCE
    x0 = RNG.uniform(0, 1, n).astype("float32")
    const = a_identity.two_hidden_relu_net(*a_identity.constant_weights(x0, a=7))
    assert a_identity.max_error(const, x, np.broadcast_to(x0, x.shape)) <= a_identity.TOLERANCE


@pytest.mark.parametrize("d", [3, 5, 7])
def test_a4_conv_identity_exact_with_linear_and_relu(d):
    x = RNG.normal(0, 10, (8, 17, 17, 1)).astype("float32")     # negative pixels included
    for relu in (False, True):
        model = a_identity.conv_identity_net(d, relu=relu)
        assert model(x).shape == x.shape
        assert a_identity.max_error(model, x, x) <= a_identity.TOLERANCE
    single = a_identity.conv_identity_net(d, relu=True, filters=1)   # ReLU with one filter loses x < 0 ...
    assert a_identity.max_error(single, x, x) > 1
    pos = np.abs(x)
    assert a_identity.max_error(single, pos, pos) <= a_identity.TOLERANCE   # ... but is exact on x >= 0


def test_a4_rejects_even_kernels():
    with pytest.raises(ValueError):
        a_identity.conv_identity_net(4)


# ----------------------------------------------------------------------------- data, quick runs, report

def test_one_example_data_is_real_mnist(data_dir):
    d = a_identity.one_example_data(data_dir, digit=3, occurrence=2)
    assert d.x_train.shape == (1, 28, 28, 1) and d.x_test.shape == (10, 28, 28, 1)
    assert 0 <= d.x_train.min() and d.x_train.max() <= 1 and d.x_test.max() > 0.9
    from hwkit import data
    (_, y_tr), (_, y_te) = data.load_mnist(data_dir)
    assert y_tr[d.train_index] == 3 and [y_te[i] for i in d.test_indices] == list(range(10))


def test_bad_digit_is_a_one_line_error(data_dir):
    from hwkit.cli import task_main
    with pytest.raises(SystemExit) as e:
        task_main("tasks.a1", ["--quick", "--digit", "12", "--data-dir", str(data_dir)])
    assert e.value.code == 2


@pytest.mark.slow
def test_quick_runs_end_to_end_and_report(run_task, data_dir, tmp_path):
    from pypdf import PdfReader

    from hwkit import cli

    a1 = run_task("a1", "--quick", "--data-dir", str(data_dir))
    assert a1.quick and len(a1.table("verdicts")) == 3 and len(a1.table("distances")) == 30
    assert all(r["verdict"] in (*a_identity.VERDICTS, FAILED) for r in a1.table("verdicts"))
    for r in a1.table("verdicts"):     # a failed run gets no verdict, whatever its distances say
        assert (r["verdict"] == FAILED) == (r["train_mse"] >= a_identity.FIT_MSE) == (r["fit"] == FAILED)
    findings = a1.metrics["findings"]
    assert {"learning_rate", "conjecture", "fits", "cut_off"} <= set(findings)
    assert findings["learning_rate"]["numbers"]["chosen"] == a1.metrics["learning_rate"]
    assert [r["chosen"] for r in a1.table("lr_check")].count(True) == 1
    assert a1.figure("loss") and a1.figure("predictions") and a1.history()
    a2 = run_task("a2", "--quick", "--data-dir", str(data_dir))
    # even 300 epochs are enough for the one-conv CNN to fit and be judged the identity
    assert a2.metrics["findings"]["conjecture"]["verdict"] == "identity"
    a3 = run_task("a3", "--quick", "--data-dir", str(data_dir))
    assert a3.metrics["findings"]["constructions"]["verdict"] == a_identity.VERIFIED
    assert a3.metrics["identity_error_outside_domain"] > 1
    a4 = run_task("a4", "--quick", "--data-dir", str(data_dir))
    assert a4.metrics["all_claims_verified"] and a4.metrics["relu_single_filter_error_on_negatives"] > 1
    a5 = run_task("a5", "--quick", "--data-dir", str(data_dir), "--depths", "1", "2", "--epochs", "10")
    assert [r["depth"] for r in a5.table("sweep")] == [1, 2] and a5.figure("distance_vs_depth")
    assert [c["depth"] for c in a5.table("verdict_counts")] == [1, 2]
    # 10 epochs fit nothing: every run is a failure, no depth is judged, nothing is compared with the paper
    assert all(r["fit"] == FAILED for r in a5.table("sweep"))
    assert a5.metrics["findings"]["paper"]["verdict"] == NOT_COMPARABLE

    pdf = cli.render_report("A", include_quick=True, out_dir=tmp_path)
    reader = PdfReader(pdf)
    text = "".join(p.extract_text() for p in reader.pages)
    assert len(reader.pages) >= 5
    for needle in ("P1.1 The model", "P2.3", "P3.1", "P3.2", "depth sweep", "SMOKE RESULT", "Conjecture: g(x) ≈ x",
                   "Outcome: not comparable"):
        assert needle in text, needle
    assert "not run" not in text
    assert pdf_layout.report_figures("A") >= 6
