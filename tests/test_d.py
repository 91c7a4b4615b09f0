"""Assignment D (D1-D4, D6): numbers checked against independent computations, quick end-to-end runs, the PDF
and the hand-in bundle."""
from __future__ import annotations

import json
import math

import bundle_checks  # tests/bundle_checks.py
import keras
import numpy as np
import pdf_layout  # tests/pdf_layout.py
import pytest

from hwkit.assignments import d_cifar, d_theory

# ----------------------------------------------------------------------------- D1

def _gelu_scalar(x: float) -> float:
    return x / (1 + math.exp(-1.702 * x))


def _fd(f, x: float, h: float = 1e-6) -> float:
    return (f(x + h) - f(x - h)) / (2 * h)


def test_d1_gradient_matches_finite_differences():
    for x in (-3.0, -0.75, 0.0, 0.4, 2.5):
        assert d_theory.gelu_grad(x) == pytest.approx(_fd(_gelu_scalar, x), abs=1e-8)
    assert d_theory.gelu_grad(0.0) == 0.5


def test_d1_gd_steps_against_an_independent_loop():
    for eta in (0.1, 1.0):
        x, expected = 0.0, [0.0]
        for _ in range(3):
            x -= eta * _fd(_gelu_scalar, x)
            expected.append(x)
        assert d_theory.gradient_descent(0.0, eta) == pytest.approx(expected, abs=1e-8)
    assert d_theory.gradient_descent(0.0, 0.1)[1] == pytest.approx(-0.05)
    assert d_theory.gradient_descent(0.0, 1.0)[1] == pytest.approx(-0.5)


def test_d1_momentum_readings():
    g = lambda x: _fd(_gelu_scalar, x)  # noqa: E731
    x0, eta, beta = -3.0, 1.0, 0.9
    # "new": x_{t+1} = x_t - eta v_{t+1}; v1 = v0 = g(x0) so the first step is a GD step.
    v, xs = g(x0), [x0]
    for _ in range(3):
        v = beta * v + (1 - beta) * g(xs[-1])
        xs.append(xs[-1] - eta * v)
    assert d_theory.momentum(x0, eta) == pytest.approx(xs, abs=1e-8)
    # "old": x2 = x1 - eta g(x0) (the stale average)
    old = d_theory.momentum(x0, eta, reading="old")
    assert old[1] == pytest.approx(x0 - eta * g(x0), abs=1e-8)
    assert old[2] == pytest.approx(old[1] - eta * g(x0), abs=1e-8)
    assert old[3] != pytest.approx(xs[3], abs=1e-6)


def test_d1_minimum_has_zero_gradient():
    x_min, f_min = d_theory.minimum()
    assert abs(d_theory.gelu_grad(x_min)) < 1e-10
    assert f_min < _gelu_scalar(x_min - 0.01) and f_min < _gelu_scalar(x_min + 0.01)


# ----------------------------------------------------------------------------- D2

def test_d2_networks_reproduce_every_truth_table_row():
    for gate, layers in d_theory.NETWORKS.items():
        assert (list(d_theory.classify(d_theory.output_preactivation(layers, d_theory.INPUTS)))
                == d_theory.TRUTH[gate]), gate


def test_d2_check_can_fail():
    # the AND network does not compute XOR; the NOT example read literally is wrong on A = 0
    assert (list(d_theory.classify(d_theory.output_preactivation(d_theory.NETWORKS["AND"], d_theory.INPUTS)))
            != d_theory.TRUTH["XOR"])
    assert d_theory.classify(np.array([-1.0 * 0 - 0.5]))[0] == 0


def test_d2_linear_separability_scan():
    assert (d_theory.linearly_separable_on_grid(d_theory.TRUTH["AND"])
            and d_theory.linearly_separable_on_grid(d_theory.TRUTH["OR"]))
    assert not d_theory.linearly_separable_on_grid(d_theory.TRUTH["XOR"])
    assert not d_theory.linearly_separable_on_grid(d_theory.TRUTH["XNOR"])


# ----------------------------------------------------------------------------- D3

def _loss(x, y, params):
    w1, b1, w2, b2 = params
    a = 1 / (1 + np.exp(-(x @ w1 + b1)))
    f2 = a @ w2 + b2
    return -np.sum(y * (f2 - np.log(np.sum(np.exp(f2)))))   # log-softmax written out independently


def test_d3_gradients_match_independent_finite_differences():
    rng = np.random.default_rng(1)
    x, y, params = d_theory.random_problem(rng, 6, 5, 4)
    g = d_theory.grad_x(x, y, params)
    h = 1e-6
    for j in range(x.shape[1]):
        e = np.zeros_like(x)
        e[0, j] = h
        assert g[0, j] == pytest.approx((_loss(x + e, y, params) - _loss(x - e, y, params)) / (2 * h), abs=1e-7)
    _, _, f2, o = d_theory.forward(x, params)
    assert np.allclose(d_theory.grad_f2(o, y), o - y)
    assert np.isclose(np.sum(d_theory.grad_f2(o, y)), 0.0)   # softmax outputs and one-hot labels both sum to 1


# ----------------------------------------------------------------------------- D4

def test_d4_conv_by_hand_and_output_size():
    f = np.arange(9, dtype=float).reshape(3, 3)          # 0..8
    k = np.array([[1.0, 0.0], [0.0, -1.0]])
    # no padding, stride 1: out[i, j] = f[i, j] - f[i+1, j+1] = -4 everywhere
    assert np.array_equal(d_theory.conv2d(f, k), np.full((2, 2), -4.0))
    # padding 1, stride 2 on 3x3 with 2x2: floor((3 + 2 - 2) / 2) + 1 = 2; top-left window is [[0,0],[0,f00]]
    out = d_theory.conv2d(f, k, stride=2, padding=1)
    assert out.shape == (2, 2) and d_theory.output_size(3, 2, 1, 2) == 2
    assert out[0, 0] == -f[0, 0]
    assert (d_theory.same_padding(3) == (1, 1) and d_theory.same_padding(4) == (1, 2)
            and d_theory.same_padding(5) == (2, 2))


def test_d4_pooling_equals_its_convolution():
    f = np.random.default_rng(0).normal(size=(6, 6))
    pooled = d_theory.average_pool(f, 2, 2)
    assert pooled[1, 2] == pytest.approx(f[2:4, 4:6].mean())
    assert np.allclose(d_theory.conv2d(f, np.full((2, 2), 0.25), 2, 0), pooled)


def test_d4_bad_input_is_one_line_error(tmp_path, capsys):
    from hwkit.cli import task_main
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"feature_map": [[1, 2, 3], [4, 5, 6]], "filter1": [[1]], "filter2": [[1]]}))
    with pytest.raises(SystemExit) as e:
        task_main("tasks.d4", ["--input", str(bad)])
    assert e.value.code == 2
    assert "feature_map must be a square" in capsys.readouterr().err


# ----------------------------------------------------------------------------- D6 pieces

def test_one_cycle_within_budget_schedule_and_stop():
    import keras

    from hwkit.training import OneCycleWithinBudget
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(1.0), loss="mse")
    lrs = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            lrs.append(float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)))

    schedule = OneCycleWithinBudget(total_steps=10, warmup_fraction=0.2)
    x, y = np.zeros((40, 2)), np.zeros((40, 1))
    model.fit(x, y, batch_size=2, epochs=5, verbose=0, callbacks=[schedule, Record()])  # 100 steps offered
    assert schedule.steps_done == 10 and schedule.stopped_by == "steps"
    assert lrs[0] == pytest.approx(0.1) and max(lrs) == pytest.approx(1.0) and lrs[-1] == pytest.approx(0.125)
    timed = OneCycleWithinBudget(total_steps=10_000, budget_s=1e-9)
    model.fit(x, y, batch_size=2, epochs=1, verbose=0, callbacks=[timed])
    assert timed.steps_done == 1 and timed.stopped_by == "time budget"


def test_cifar10_net_shape_size_and_identity_start():
    images = np.random.default_rng(0).random((200, 32, 32, 3)).astype(np.float32)
    model = d_cifar.cifar10_net(images)
    assert model.output_shape == (None, 10)
    assert 1.5e6 < model.count_params() < 2.5e6
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert not convs[0].trainable and all(c.trainable for c in convs[1:])
    kernel = keras.ops.convert_to_numpy(convs[2].kernel)                  # 64 -> 64: the identity on every channel
    assert np.array_equal(kernel[1, 1], np.eye(64)) and not kernel[0].any() and not kernel[2].any()
    wide = keras.ops.convert_to_numpy(convs[3].kernel)                    # 64 -> 256: identity on the first 64 only
    assert np.array_equal(wide[1, 1, :, :64], np.eye(64)) and np.abs(wide[..., 64:]).sum() > 0


def test_the_ablations_switch_off_only_their_trick():
    images = np.random.default_rng(0).random((50, 32, 32, 3)).astype(np.float32)
    plain = d_cifar.cifar10_net(images, width=8, whitening=False, identity=False)
    convs = [layer for layer in plain.layers if isinstance(layer, keras.layers.Conv2D)]
    assert convs[0].trainable                                               # an ordinary, trained first conv
    assert not np.allclose(keras.ops.convert_to_numpy(convs[0].kernel), d_cifar.whitening_kernel(images))
    assert not np.array_equal(keras.ops.convert_to_numpy(convs[2].kernel)[1, 1], np.eye(8))


def test_whitening_kernel_whitens_image_patches():
    rng = np.random.default_rng(0)
    smooth = rng.random((300, 33, 33, 3)).astype(np.float32)
    images = (smooth[:, 1:, 1:] + smooth[:, :-1, :-1]) / 2                 # neighbouring pixels correlate
    kernel = d_cifar.whitening_kernel(images, eps=0.0)
    assert kernel.shape == (2, 2, 3, 24)
    x = (images - np.asarray(d_cifar.CIFAR10_MEAN, np.float32)) / np.asarray(d_cifar.CIFAR10_STD, np.float32)
    patches = np.lib.stride_tricks.sliding_window_view(x, (2, 2), axis=(1, 2)).transpose(0, 1, 2, 4, 5, 3)
    out = patches.reshape(-1, 12).astype(np.float64) @ kernel.reshape(12, 24)
    second_moment = out[:, :12].T @ out[:, :12] / len(out)
    assert np.allclose(second_moment, np.eye(12), atol=1e-4)              # whitened: identity second moments
    assert np.allclose(out[:, 12:], -out[:, :12], atol=1e-4)              # and the negated copies
    raw = patches.reshape(-1, 12)
    assert not np.allclose(raw.T @ raw / len(raw), np.eye(12), atol=0.1)  # the input was not white


def test_flip_and_crop_outputs_are_flips_and_crops_of_their_input():
    x = np.random.default_rng(1).random((32, 32, 32, 3)).astype(np.float32)
    out = np.asarray(d_cifar.cifar10_augmentation()(x, training=True))
    shifts, flips = set(), 0
    for image, result in zip(x, out):
        found = [(f, r, c) for f, view in enumerate((image, image[:, ::-1]))
                 for r in range(5) for c in range(5)
                 if np.array_equal(np.pad(view, ((2, 2), (2, 2), (0, 0)), mode="reflect")[r:r + 32, c:c + 32], result)]
        assert found, "an output is not a flipped/cropped copy of its input"
        flips += found[0][0]
        shifts.add(found[0][1:])
    assert 4 <= flips <= 28 and len(shifts) > 5                           # random per image, not one draw per batch
    assert np.array_equal(np.asarray(d_cifar.cifar10_augmentation()(x, training=False)), x)


def test_tta_views_are_the_image_its_mirror_and_one_pixel_shifts():
    x = np.arange(2 * 4 * 4 * 1, dtype=np.float32).reshape(2, 4, 4, 1)
    views = d_cifar.tta_views(x)
    assert len(views) == 6 and np.array_equal(views["image"], x)
    assert np.array_equal(views["down-right"][:, 1:, 1:], x[:, :-1, :-1])
    assert np.array_equal(views["up-left"][:, :-1, :-1], x[:, 1:, 1:])
    assert np.array_equal(views["up-left, mirrored"], views["up-left"][:, :, ::-1])


def test_d1_answer_numbers():
    b = d_theory.gradient_descent(0.0, 1.0)
    assert [round(d_theory.gelu_grad(x), 2) for x in b] == [0.5, 0.12, 0.06, 0.03]   # the gradient shrinks near x*


def test_d2_hidden_outputs_are_nearly_binary():
    assert d_theory.hidden_distance_from_binary(d_theory.NETWORKS["AND"]) == 0.0               # no hidden layer
    worst = d_theory.hidden_distance_from_binary(d_theory.NETWORKS["XOR"])
    # |z| >= W/2 = 10 on every row
    assert worst == pytest.approx(d_theory.sigmoid(-d_theory.GATE_WEIGHT / 2))
    soft = [(w / 10, b / 10) for w, b in d_theory.NETWORKS["XOR"]]
    assert d_theory.hidden_distance_from_binary(soft) > 0.1


def test_d_goal_verdicts():
    from hwkit.assignments import d_goals
    assert d_goals.d5_verdict(0.019) == {"required_error": 0.05, "required_met": True, "aim_error": 0.02,
                                         "aim_met": True}
    v = d_goals.d5_verdict(0.03)
    assert v["required_met"] and not v["aim_met"]
    assert not d_goals.d5_verdict(0.05)["required_met"]                              # "below 5%": 5% is not enough
    v = d_goals.d6_verdict(0.86, 0.905)
    assert v["goal_reached"] and not v["aim_reached"] and v["goal_reached_tta"] and v["aim_reached_tta"]
    assert v["cutoffs_reached"] == [0.75, 0.80, 0.85]
    assert d_goals.d6_verdict(0.85, 0.85)["goal_reached"]                           # "at least 85%"
    assert not any(d_goals.d6_verdict(0.7, 0.7)[k] for k in ("goal_reached", "aim_reached", "goal_reached_tta"))


def test_d6_recipes():
    from tasks import d6
    assert d6.FULL.validation_fraction * 50_000 == 5_000 and d6.QUICK.width < d6.FULL.width
    import argparse

    from hwkit.task import choose_recipe
    assert choose_recipe(argparse.Namespace(quick=False, epochs=3), d6.FULL, d6.QUICK).epochs == 3


# ----------------------------------------------------------------------------- end to end

@pytest.mark.slow
def test_d_tasks_quick_end_to_end_pdf_and_bundle(run_task, data_dir, tmp_path):
    r1 = run_task("d1", "--quick")
    assert r1.metrics["gradient_max_abs_error"] < 1e-12 and r1.figure("gelu_descent")
    assert r1.metrics["a_x3"] == pytest.approx(d_theory.gradient_descent(0.0, 0.1)[-1])
    r2 = run_task("d2", "--quick")
    assert r2.metrics["all_correct"] and len(r2.table("truth_tables")) == 16
    r3 = run_task("d3", "--quick")
    assert r3.metrics["worst_rel_error"] < 1e-6 and r3.metrics["non_onehot_rel_err_o_minus_y"] > 0.1
    r4 = run_task("d4", "--quick")
    assert r4.metrics["worst_check"] < 1e-9 and r4.metrics["a_output_size"] == r4.metrics["n"]
    run_task("d5", "--quick", "--data-dir", str(data_dir))    # for the bundle (tests/test_d5.py checks the run)
    r6 = run_task("d6", "--quick", "--data-dir", str(data_dir))
    m6 = r6.metrics
    assert m6["test_rows"] == 500 and m6["search_trials"] >= 1
    for key in ("test_accuracy", "test_accuracy_flip_tta"):      # whole images out of 500: a wrong count shows
        assert m6[key] * 500 == pytest.approx(round(m6[key] * 500), abs=1e-4)
    assert (r6.path / "models" / "d6_cifar10_net.keras").is_file() and r6.figure("curves")
    assert len(r6.table("per_class")) == 10
    assert m6["goal_reached"] == (m6["test_accuracy"] >= 0.85) and m6["stage_widths"] == [8, 32, 32]
    # every verdict the report states is a stored finding; TTA is compared only when the training fitted
    assert {"fit", "accuracy", "flip_tta", "tta", "goal", "aim", "search_choice"} <= set(m6["findings"])
    fitted = m6["findings"]["fit"]["verdict"] == "fits"
    assert (m6["findings"]["tta"]["verdict"] == "not comparable") == (not fitted)
    assert r1.metrics["findings"]["b_vs_a"]["verdict"] == "better"          # η = 1 ends closer: exact numbers
    assert r4.metrics["findings"]["b_stride"]["verdict"] == "impossible"
    assert r4.config["input"] == "tasks/examples/d4_example.json"           # no folder of this machine

    from pypdf import PdfReader

    from hwkit import cli
    pdf = cli.render_report("D", include_quick=True, out_dir=tmp_path)
    reader = PdfReader(pdf)
    text = "".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages) >= 4
    for heading in ("D1", "D2", "D3", "D4", "D5", "D6", "SMOKE RESULT"):
        assert heading in text
    # A heading is there even for a task that did not run: every task run above has its section filled.
    flat = " ".join(text.split())
    assert not [t for t in ("d1", "d2", "d3", "d4", "d6") if f"full run of {t} was" in flat]
    assert pdf_layout.report_figures("D") >= 1

    bundle_checks.check_d_bundle(tmp_path)   # the same quick runs, bundled as the course names its files


@pytest.mark.slow
def test_tricks_script_times_batches(data_dir, capsys):
    from conftest import load_benchmark
    tricks = load_benchmark("cifar10_tricks")
    assert tricks.main(["--steps", "2", "--batch-size", "64", "--no-whitening", "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr().out
    assert "2 batches of 64:" in out and "'no_whitening': True" in out


@pytest.mark.slow
def test_benchmark_reduced_run(data_dir, capsys):
    from conftest import load_benchmark
    bench = load_benchmark("cifar10_time_to_accuracy")
    assert bench.main(["--train-subset", "512", "--epochs", "1", "--width", "8", "--targets", "0.0", "0.99",
                       "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr().out
    assert "time to 0%:" in out and "time to 99%: not reached" in out


def test_tricks_table_resumes_after_an_interruption_and_renders_in_the_d_report(runs_dir, monkeypatch):
    """``cifar10_tricks.py --table``: one row per variant with its effect, a killed table resumes at the first
    unfinished variant, and the D report shows the table from that run directory (training stubbed out)."""
    import shutil
    from pathlib import Path

    from conftest import load_benchmark

    from hwkit import cli, report, runs
    tricks = load_benchmark("cifar10_tricks")
    final = {"recipe": 0.86, "no_whitening": 0.78, "no_identity_init": 0.77, "no_label_smoothing": 0.83}
    trained, stop_at = [], [3]

    def fake_train(args, split):
        name = ("no_whitening" if args.no_whitening else "no_identity_init" if args.no_identity_init
                else "no_label_smoothing" if args.label_smoothing == 0 else "recipe")
        if len(trained) + 1 == stop_at[0]:
            raise KeyboardInterrupt
        trained.append(name)
        return {"val_accuracy_per_epoch": [final[name] - 0.1, final[name]], "val_accuracy": final[name],
                "train_seconds_at_epoch_end": [115.0, 230.0],
                "val_accuracy_flip_tta": final[name] + 0.005, "val_accuracy_tta": final[name] + 0.01,
                "train_seconds": 230.0, "tta_views": 6}

    monkeypatch.setattr(tricks, "train_variant", fake_train)
    args = tricks.build_parser().parse_args(["--table", "--epochs", "2"])
    split = ((np.zeros((45, 1)), None), (np.zeros((5, 1)), None))
    with pytest.raises(KeyboardInterrupt):
        tricks.tricks_table(args, split)
    assert trained == ["recipe", "no_whitening"] and runs.latest_run("cifar10_tricks") is None   # interrupted
    stop_at[0] = 0
    path = Path(tricks.tricks_table(args, split))
    assert trained == ["recipe", "no_whitening", "no_identity_init", "no_label_smoothing"]   # resumed, none twice
    record = runs.latest_run("cifar10_tricks")
    assert record.path == path and not record.quick
    rows = {r["variant"]: r for r in record.table("tricks")}
    assert rows["recipe"]["effect_points"] is None and rows["no_whitening"]["effect_points"] == 8.0
    assert rows["no_label_smoothing"]["change"] == "label smoothing 0 instead of 0.2"
    assert rows["no_identity_init"]["epoch_1"] == pytest.approx(0.67) and record.metrics["seconds_per_epoch"] == 115.0
    assert (rows["recipe"]["epochs_to_85"], rows["no_label_smoothing"]["epochs_to_85"]) == (2, None)   # 86%, 83%
    assert tricks.time_to_targets(fake_train(args, split)) == {"epochs_to_85": 2, "seconds_to_85": 230.0,
                                                              "epochs_to_90": None, "seconds_to_90": None}

    shutil.copytree(Path(__file__).parent / "fixtures" / "runs" / "d6", runs_dir / "d6")
    d6 = [report.TaskInfo("d6", "CIFAR-10 CNN")]
    html = report.render_html("D", "D", d6, include_quick=True, facts=cli.report_facts("D"),
                              benchmarks=cli.report_benchmarks())
    assert "What each trick buys" in html and "+8.0" in html and "+9.0" in html and "+3.0" in html
    assert "label smoothing 0 instead of 0.2" in html and "78.0%" in html and record.relative_path in html
    assert html.count("not reached") == 7 and "<td>2 (230&nbsp;s)</td>" in html   # only the recipe reached 85%
    assert html.count(record.relative_path) >= 2, "the ablation run is in the reproducibility appendix too"
    theory = report.render_html("D", "D", [report.TaskInfo("d1", "theory")], include_quick=True,
                                facts=cli.report_facts("D"), benchmarks=cli.report_benchmarks())
    assert record.relative_path not in theory, "a PDF without D6 (the theory report) neither shows nor lists the run"
    shutil.rmtree(path)
    html = report.render_html("D", "D", d6, include_quick=True, facts=cli.report_facts("D"),
                              benchmarks=cli.report_benchmarks())
    assert "No complete run of" in html and "+8.0" not in html


def test_d4_input_is_recorded_without_this_machines_folders(tmp_path, monkeypatch):
    """The D appendix prints D4's --input: relative to the project, or under $HWKIT_DATA_DIR or ~, never the
    absolute path of the clone or the student's home folder; the task reads the same file back from it."""
    from tasks import d4
    assert d4.portable_path(d4.DEFAULT_INPUT) == "tasks/examples/d4_example.json"
    assert d4.portable_path(str(d4.PROJECT / "tasks" / "examples" / "d4_example.json")) == d4.DEFAULT_INPUT
    assert d4.input_file(d4.DEFAULT_INPUT) == d4.PROJECT / "tasks" / "examples" / "d4_example.json"
    data = tmp_path / "data"
    (data / "d4").mkdir(parents=True)
    (data / "d4" / "mine.json").write_text("{}")
    monkeypatch.setenv("HWKIT_DATA_DIR", str(data))
    recorded = d4.portable_path(str(data / "d4" / "mine.json"))
    assert recorded == "$HWKIT_DATA_DIR/d4/mine.json"
    assert d4.input_file(recorded).resolve() == (data / "d4" / "mine.json").resolve()
    home = tmp_path / "home" / "student"
    (home / "hw").mkdir(parents=True)
    (home / "hw" / "fig5.json").write_text("{}")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("HWKIT_DATA_DIR")
    recorded = d4.portable_path(str(home / "hw" / "fig5.json"))
    assert recorded == "~/hw/fig5.json" and "student" not in recorded
    assert d4.input_file(recorded).resolve() == (home / "hw" / "fig5.json").resolve()
    monkeypatch.chdir(home)          # a relative path is read from where it was typed
    assert d4.portable_path("hw/fig5.json") == "~/hw/fig5.json"
