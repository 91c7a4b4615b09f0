"""Assignment E: unit tests of the library pieces (subset, latent metrics, over-fitting, shifts,
Jacobians, models) and one quick end-to-end run of E1-E8 on the real MNIST data + the PDF."""
from __future__ import annotations

import bundle_checks  # tests/bundle_checks.py
import keras
import numpy as np
import pdf_layout  # tests/pdf_layout.py
import pypdf
import pytest
from conftest import recorded

from hwkit import HwkitError, cli, findings, models, training
from hwkit.assignments import e_autoencoders, e_jacobians, e_latent, e_shift, e_transfer

# ----------------------------------------------------------------------------- the 100-label subset

def test_few_labels_is_fixed_balanced_and_seed_independent():
    y = np.random.default_rng(1).integers(0, 10, 60000)
    idx = e_transfer.few_labels(y)
    assert len(idx) == 100 and len(set(idx.tolist())) == 100
    assert np.bincount(y[idx], minlength=10).tolist() == [10] * 10
    keras.utils.set_random_seed(123)                 # the task seed must not move the subset
    assert np.array_equal(idx, e_transfer.few_labels(y))
    assert not np.array_equal(idx, e_transfer.balanced_subset(y, 10, e_transfer.FEW_LABELS_SEED + 1))


def test_few_labels_rejects_a_partial_training_set():
    with pytest.raises(HwkitError):
        e_transfer.few_labels(np.arange(1000) % 10)


def test_e3_without_an_e1_run_is_a_one_line_error(capsys):
    with pytest.raises(SystemExit) as e:
        cli.task_main("tasks.e3", ["--quick"])
    assert e.value.code == 2
    assert "run `python -m tasks.e1 --quick` first" in capsys.readouterr().err


# ----------------------------------------------------------------------------- latent geometry

def _clusters(spread: float, n: int = 60, seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(3, 4)) * 10
    y = np.repeat(np.arange(3), n)
    return centres[y] + spread * rng.normal(size=(3 * n, 4)), y


def test_silhouette_tells_separated_from_mixed_clusters():
    tight, y = _clusters(0.1)
    assert e_latent.silhouette(tight, y) > 0.9
    mixed = np.random.default_rng(0).normal(size=tight.shape)
    assert abs(e_latent.silhouette(mixed, y)) < 0.1


def test_silhouette_matches_the_definition_on_a_tiny_case():
    z = np.array([[0.0], [1.0], [5.0], [7.0]])
    y = np.array([0, 0, 1, 1])
    # a = own-class distance, b = mean distance to the other class; s = (b - a) / max(a, b)
    expected = np.mean([(6 - 1) / 6, (5 - 1) / 5, (4.5 - 2) / 4.5, (6.5 - 2) / 6.5])
    assert e_latent.silhouette(z, y) == pytest.approx(expected)


def test_geometry_is_scale_free_where_it_claims_to_be():
    z, y = _clusters(1.0)
    a, b = e_latent.class_geometry(z, y), e_latent.class_geometry(7.0 * z, y)
    for key in ("within_mean_normalised", "centroid_distance_mean_normalised", "fisher_ratio", "silhouette"):
        assert a[key] == pytest.approx(b[key], rel=1e-9)
    assert b["within_mean"] == pytest.approx(7 * a["within_mean"])
    assert e_latent.class_geometry(*_clusters(0.1))["separation_ratio"] > a["separation_ratio"]


# ----------------------------------------------------------------------------- over-fitting verdict

def test_overfitting_summary_flags_a_rising_test_loss_with_a_gap():
    train_loss = [2.0, 1.0, 0.3, 0.05, 0.01]
    test_loss = [2.1, 1.5, 1.2, 1.4, 1.6]
    s = e_transfer.overfitting_summary(train_loss, test_loss, [0.3, 0.7, 0.95, 1.0, 1.0], [0.3, 0.5, 0.6, 0.6, 0.59])
    assert s["overfitting"] and s["min_test_loss_epoch"] == 3 and s["first_epoch_train_accuracy_100"] == 4
    healthy = e_transfer.overfitting_summary(train_loss, [2.1, 1.2, 0.5, 0.3, 0.2], [0.3, 0.7, 0.9, 0.95, 0.96],
                                           [0.3, 0.7, 0.9, 0.94, 0.95])
    assert not healthy["overfitting"]
    assert s["final_test_error"] == pytest.approx(0.41)
    assert not s["accuracy_peaks_after_loss_minimum"]          # accuracy best at epoch 4 > loss best at 3? no: 0.6 at 3
    late = e_transfer.overfitting_summary(train_loss, test_loss, [0.3, 0.7, 0.95, 1.0, 1.0], [0.3, 0.5, 0.6, 0.7, 0.59])
    assert late["max_test_accuracy_epoch"] == 4 and late["accuracy_peaks_after_loss_minimum"]


# ----------------------------------------------------------------------------- findings written to the runs
# (E1, E3, E4, E5): every branch, from constructed inputs

def _fit(ok: bool) -> dict:
    return {"verdict": findings.FITS if ok else findings.FAILED}


def test_e1_plateau_is_the_validation_l1_of_the_per_pixel_median_image():
    x_fit = np.zeros((5, 2, 2, 1))
    x_fit[:3, 0, 0] = 1.0                      # pixel (0, 0) is white in 3 of 5 images: its median is 1
    x_val = np.zeros((2, 2, 2, 1))
    assert e_autoencoders.plateau_l1(x_fit, x_val) == pytest.approx(1 / 4)   # one of 4 pixels off by 1


@pytest.mark.parametrize("val_l1, verdict", [(0.04, findings.FITS), (0.0937, findings.FITS),
                                             (0.0938, findings.FAILED), (0.1310, findings.FAILED),
                                             (float("nan"), findings.FAILED)])
def test_e1_fit_check_requires_leaving_the_plateau(val_l1, verdict):
    f = e_autoencoders.fit_check(val_l1, plateau=0.125)     # threshold 0.75 x 0.125 = 0.09375
    assert f.verdict == verdict and f.numbers["threshold"] == pytest.approx(0.09375)
    assert "best constant image" in f.criterion


def test_e1_compare_reconstructions_every_branch():
    rng = np.random.default_rng(0)
    base = rng.uniform(0.03, 0.06, 400)
    better = e_autoencoders.compare_reconstructions(base - 0.01, base, _fit(True), _fit(True))
    assert better.verdict == findings.BETTER and better.interval.high < 0
    assert e_autoencoders.compare_reconstructions(base + 0.01, base, _fit(True), _fit(True)).verdict == findings.WORSE
    noise = base + rng.normal(0, 0.01, 400)
    noise -= noise.mean() - base.mean()                     # same mean: the interval straddles 0
    assert e_autoencoders.compare_reconstructions(noise, base, _fit(True), _fit(True)).verdict == findings.SAME
    # a failed fit is never compared, however large the difference
    failed = e_autoencoders.compare_reconstructions(base - 0.01, base, _fit(True), _fit(False))
    assert failed.verdict == findings.NOT_COMPARABLE and failed.interval is None


def test_e1_dead_channels_counts_channels_that_are_zero_on_every_code():
    decoder = e_autoencoders.conv_decoder(fc=True)
    codes = np.random.default_rng(0).normal(size=(32, 12)).astype("float32")
    dense = decoder.layers[1]
    assert isinstance(dense, keras.layers.Dense)
    alive = e_autoencoders.dead_channels(decoder, codes)
    assert len(alive) == 3 and max(alive) < 1.0           # Dense, two hidden transposed convolutions
    kernel, bias = dense.get_weights()
    dense.set_weights([kernel * 0, bias * 0 - 1.0])        # every unit of the first layer below 0 for every code
    assert e_autoencoders.dead_channels(decoder, codes)[0] == 1.0


def test_classifier_fit_check_against_chance():
    assert e_autoencoders.classifier_fit_check(0.05).verdict == findings.FITS
    assert e_autoencoders.classifier_fit_check(2.2).verdict == findings.FAILED
    assert "ln 10" in e_autoencoders.classifier_fit_check(0.05).criterion


def test_e2_target_check_both_branches():
    assert e_autoencoders.target_check(0.991, 0.99).verdict == e_autoencoders.REACHED
    assert e_autoencoders.target_check(0.989, 0.99).verdict == e_autoencoders.NOT_REACHED


def _two_spaces(ae_spread: float, clf_spread: float, n: int = 40, seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(4, 3)) * 5
    y = np.repeat(np.arange(4), n)
    noise = rng.normal(size=(4 * n, 3))
    return centres[y] + ae_spread * noise, centres[y] + clf_spread * rng.normal(size=(4 * n, 3)), y


def test_e3_compare_encoders_every_branch():
    ae, clf, y = _two_spaces(ae_spread=3.0, clf_spread=0.3)     # the expected case: AE varies more, separates less
    f = e_latent.compare_encoders(ae, clf, y, silhouette_points=160, both_fitted=True)
    assert f["in_class_variability"].verdict == findings.BETTER and f["separation"].verdict == findings.BETTER
    f = e_latent.compare_encoders(clf, ae, y, silhouette_points=160, both_fitted=True)   # swapped roles
    assert f["in_class_variability"].verdict == findings.WORSE and f["separation"].verdict == findings.WORSE
    f = e_latent.compare_encoders(ae, ae, y, silhouette_points=160, both_fitted=True)    # the same codes
    assert f["in_class_variability"].verdict == findings.SAME and f["separation"].verdict == findings.SAME
    f = e_latent.compare_encoders(ae, clf, y, silhouette_points=160, both_fitted=False)
    assert {v.verdict for v in f.values()} == {findings.NOT_COMPARABLE}


def test_e3_per_example_scores_average_to_the_summary_numbers():
    z, _, y = _two_spaces(1.0, 1.0)
    assert e_latent.silhouette_values(z, y).mean() == pytest.approx(e_latent.silhouette(z, y))
    assert e_latent.distance_to_own_centroid(z, y).mean() == pytest.approx(
        e_latent.within_class_distances(z, y).mean())          # equal class sizes: mean of means = mean
    images = np.stack([np.full((2, 2), v) for v in (0.0, 2.0, 5.0, 5.0)])
    assert e_latent.reconstruction_spread(images, np.array([0, 0, 1, 1])).tolist() == [2.0, 2.0, 0.0, 0.0]


def test_e4_overfitting_finding_every_branch():
    summary = e_transfer.overfitting_summary([1.0, 0.1, 0.01], [1.0, 0.8, 1.2], [0.5, 0.9, 1.0], [0.5, 0.6, 0.6])
    assert e_transfer.overfitting_finding(summary, _fit(True)).verdict == e_transfer.OVERFITS
    flat = e_transfer.overfitting_summary([1.0, 0.5, 0.4], [1.0, 0.8, 0.79], [0.5, 0.6, 0.62], [0.5, 0.6, 0.6])
    assert e_transfer.overfitting_finding(flat, _fit(True)).verdict == e_transfer.NO_OVERFITTING
    assert e_transfer.overfitting_finding(summary, _fit(False)).verdict == findings.NOT_COMPARABLE


def test_e5_per_example_scores_and_the_paired_comparison_every_branch():
    s = e_transfer.per_example_scores(np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]]), np.array([0, 0, 1]))
    assert s["correct"].tolist() == [1.0, 0.0, 0.0]
    assert s["loss"] == pytest.approx(-np.log([0.9, 0.2, 0.4]))
    rng = np.random.default_rng(0)
    scratch = {"correct": (rng.uniform(size=2000) < 0.6).astype(float), "loss": rng.uniform(0.5, 2.0, 2000)}
    tuned = {"correct": np.maximum(scratch["correct"], rng.uniform(size=2000) < 0.3), "loss": scratch["loss"] - 0.2}
    ok = {"E5": _fit(True), "E4": _fit(True), "E1 autoencoder": _fit(True)}
    f = e_transfer.compare_with_scratch(tuned, scratch, ok)
    assert f["correct"].verdict == findings.BETTER and f["loss"].verdict == findings.BETTER
    f = e_transfer.compare_with_scratch(scratch, tuned, ok)
    assert f["correct"].verdict == findings.WORSE and f["loss"].verdict == findings.WORSE
    f = e_transfer.compare_with_scratch(scratch, scratch, ok)
    assert f["correct"].verdict == findings.SAME and f["loss"].verdict == findings.SAME
    f = e_transfer.compare_with_scratch(tuned, scratch, {**ok, "E1 autoencoder": _fit(False)})
    assert f["correct"].verdict == findings.NOT_COMPARABLE and "E1 autoencoder" in f["loss"].criterion


# ----------------------------------------------------------------------------- shifts (E6, E7)

@pytest.fixture(scope="module")
def image():
    return np.random.default_rng(0).normal(size=(12, 12, 2))


def test_convolution_commutes_with_shifts(image):
    conv = e_shift.circular_conv(np.random.default_rng(1).normal(size=(3, 3, 2, 3)), bias=np.ones(3))
    for s in [(0, 1), (2, -3), (5, 5)]:
        assert e_shift.equivariance_error(conv, image, s, s) < 1e-9
    assert e_shift.equivariance_error(conv, image, (0, 1), (0, 0)) > 0.1   # the check can fail


def test_constant_and_relu_commute_with_shifts(image):
    for f in (e_shift.add_constant(0.5), e_shift.relu):
        assert e_shift.best_output_shift(f, image, (1, 2)) == ((1, 2), 0.0)


def test_strided_pooling_fails_odd_shifts_and_passes_even_ones(image):
    pool = e_shift.max_pool(2)
    t, err = e_shift.best_output_shift(pool, image, (0, 1))
    assert err > 0.1                                   # no output shift explains a 1-pixel input shift
    assert e_shift.best_output_shift(pool, image, (0, 2)) == ((0, 1), 0.0)


def test_zero_padding_breaks_the_identity_only_at_the_borders(image):
    whole, interior = e_shift.zero_padded_error(np.random.default_rng(2).normal(size=(3, 3, 2, 1)), image, (0, 1))
    assert interior < 1e-9 < whole


# ----------------------------------------------------------------------------- Jacobians (E8)

def test_dense_jacobians_match_autodiff_and_a_wrong_one_does_not():
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=4), rng.normal(size=(4, 3)), rng.normal(size=3)
    hand = e_jacobians.dense_jacobians(x, w)
    assert e_jacobians.max_abs_difference(
        hand["x"], e_jacobians.autodiff_jacobian(lambda t: keras.ops.matmul(t, w) + b, x)) < 1e-12
    assert e_jacobians.max_abs_difference(
        hand["W"], e_jacobians.autodiff_jacobian(lambda t: keras.ops.matmul(x, t) + b, w)) < 1e-12
    wrong = np.kron(np.eye(3), x[None, :])             # the other Kronecker order is a plausible mistake
    assert e_jacobians.max_abs_difference(wrong, hand["W"]) > 0.1


@pytest.mark.parametrize("stride", [1, 2])
def test_conv_jacobians_match_autodiff(stride):
    rng = np.random.default_rng(stride)
    x, k = rng.normal(size=(5, 5, 2)), rng.normal(size=(3, 3, 2, 2))
    hand = e_jacobians.conv2d_jacobians(x, k, stride)
    conv = lambda xx, kk: keras.ops.conv(xx[None], kk, strides=stride, padding="valid")[0]  # noqa: E731
    assert e_jacobians.max_abs_difference(hand["x"], e_jacobians.autodiff_jacobian(lambda t: conv(t, k), x)) < 1e-12
    assert e_jacobians.max_abs_difference(hand["K"], e_jacobians.autodiff_jacobian(lambda t: conv(x, t), k)) < 1e-12
    assert e_jacobians.bias_add_jacobians(3)["b"].tolist() == np.eye(3).tolist()


# ----------------------------------------------------------------------------- models and callbacks

@pytest.mark.parametrize("fc", [True, False])
def test_encoder_reaches_d12_and_decoder_restores_the_image(fc):
    encoder, decoder = e_autoencoders.conv_encoder(fc=fc), e_autoencoders.conv_decoder(fc=fc)
    assert encoder.output_shape == (None, 12) and decoder.output_shape == (None, 28, 28, 1)
    has_dense = any(isinstance(layer, keras.layers.Dense) for layer in encoder.layers)
    assert has_dense == fc


def test_decoder_output_is_linear_not_squashed_into_0_1():
    """The docstring's promise: a linear output (a sigmoid stuck on the all-black plateau under the L1 loss)."""
    decoder = e_autoencoders.conv_decoder(fc=True)
    assert decoder.get_layer("pixels").activation is keras.activations.linear
    out = decoder.predict(np.random.default_rng(0).normal(scale=100.0, size=(16, 12)), verbose=0)
    assert out.min() < 0.0 < 1.0 < out.max()       # a sigmoid (or a clip) could never produce these


def test_test_evaluation_does_not_overwrite_the_training_metrics():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 3)).astype("float32"), rng.integers(0, 2, 64)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
    models.compile_classifier(model, 1e-3)
    x_other, y_other = rng.normal(size=(50, 3)).astype("float32") * 5, 1 - y[:50]
    monitor = training.EvaluateEverySamples(64, {"test": (x_other, y_other)}, 16)
    history = model.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[monitor])
    assert history.history["loss"][0] != pytest.approx(monitor.records[0]["test_loss"])


# ----------------------------------------------------------------------------- end to end on MNIST

@pytest.mark.slow
def test_all_e_tasks_quick_the_report_and_the_bundle(run_task, data_dir, tmp_path):
    args = ("--quick", "--data-dir", str(data_dir))
    e1 = run_task("e1", *args)
    assert set(e1.metrics["variants"]) == {"with_FC", "no_FC"} and 0 < e1.metrics["test_l1"] < 0.5
    assert (e1.path / "models" / "e1_encoder.keras").is_file()
    e2 = run_task("e2", *args)
    acc, n = e2.metrics["test_accuracy"], e2.metrics["test_rows"]
    assert acc > 0.15 and acc * n == pytest.approx(round(acc * n), abs=1e-3)   # above chance (0.1); whole images
    assert (e2.path / "models" / "e2_encoder.keras").is_file()
    e3 = run_task("e3", *args)
    assert e3.metrics["e1_run"] == recorded(e1.path) and e3.metrics["e2_run"] == recorded(e2.path)
    assert e3.metrics["test_l1_autoencoder"] == pytest.approx(e1.metrics["test_l1"], rel=1e-4)
    assert len(e3.metrics["grid_test_indices"]) >= 50
    assert {"silhouette", "within_mean_normalised"} <= set(e3.metrics["geometry"]["classifier (E2)"])
    e4 = run_task("e4", *args)
    e5 = run_task("e5", *args)
    assert e4.metrics["subset_indices"] == e5.metrics["subset_indices"]
    assert len(e4.metrics["subset_indices"]) == 100 and e4.metrics["subset_class_counts"] == [10] * 10
    assert e5.metrics["e4_run"] == recorded(e4.path) and e5.metrics["e1_run"] == recorded(e1.path)
    assert run_task("e6", *args).metrics["all_commute"]
    e7 = run_task("e7", *args).metrics["verdicts"]
    assert e7["relu"]["equivariant_all_shifts"] and not e7["max_pool"]["equivariant_all_shifts"]
    assert e7["max_pool"]["failing_shifts"][0] == "(0, 1)"
    assert run_task("e8", *args).metrics["all_agree"]

    pdf = pypdf.PdfReader(cli.render_report("E", include_quick=True, out_dir=tmp_path))
    text = "".join(page.extract_text() for page in pdf.pages)
    assert len(pdf.pages) >= 5
    for needle in ("E1 — Convolutional autoencoder", "E3 — Classifier decoding", "E5 — Transfer learning",
                   "E8 — Theory 3", "SMOKE RESULT", "Over-fitting"):
        assert needle in text, needle
    assert "not run" not in text
    assert pdf_layout.report_figures("E") >= 10

    bundle_checks.check_e_bundle(tmp_path)   # the same quick runs, zipped as the course names the file
