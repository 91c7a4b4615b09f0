"""Templates only format: the fixed settings a PDF states (``facts``) are the ones the code uses."""
import re

import keras
import numpy as np
import pytest

from hwkit import HwkitError, cli, report


@pytest.mark.parametrize("assignment", list("ABCDE"))
def test_every_fact_a_template_names_is_provided(assignment):
    """The assignment's template and the task bodies it includes (``c4.html`` ...)."""
    pages = [report.TEMPLATES / report.template_name(assignment),
             *report.TEMPLATES.glob(f"{assignment.lower()}[0-9]*.html")]
    source = "".join(p.read_text() for p in pages)
    named = set(re.findall(r"\bfacts\.(\w+)", source))
    assert named <= set(cli.report_facts(assignment)), named - set(cli.report_facts(assignment))


def test_facts_from_two_modules_may_not_clash(tmp_path, monkeypatch):
    from conftest import install_task_package
    install_task_package(tmp_path, monkeypatch, "factstasks", {"F": "facts"}, {})
    import factstasks
    monkeypatch.setattr(factstasks, "REPORT_FACTS", {"F": ("hwkit.assignments.d_cifar",)}, raising=False)
    assert cli.report_facts("F")["sgd_momentum"] == 0.85
    monkeypatch.setattr(factstasks, "REPORT_FACTS", {"F": ("hwkit.assignments.d_cifar",) * 2}, raising=False)
    with pytest.raises(HwkitError, match="sgd_momentum.*two modules"):
        cli.report_facts("F")


def test_d6_facts_are_the_recipe_the_model_is_compiled_with():
    from hwkit.assignments import d_cifar
    facts = cli.report_facts("D")
    images = np.random.default_rng(0).random((20, 32, 32, 3)).astype(np.float32)
    model = d_cifar.compile_cifar10(d_cifar.cifar10_net(images, width=4), learning_rate=2.0, batch_size=256)
    assert float(model.optimizer.momentum) == facts["sgd_momentum"] and model.optimizer.nesterov
    rate = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
    per_step = rate * float(model.optimizer.weight_decay)                # Keras' decoupled decay: lr * wd per step
    assert per_step == pytest.approx(facts["decay_per_step"] * 256 / facts["reference_batch"])
    assert rate == pytest.approx(2.0 * 256 / facts["reference_batch"])
    assert float(model.get_layer("logits").scale) == facts["logit_scale"]
    whitening = model.get_layer("whitening")
    assert whitening.kernel.shape[:2] == (facts["whitening_patch"],) * 2
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert norms and all(n.momentum == facts["batchnorm_momentum"] and not n.scale for n in norms)
    assert d_cifar.cifar10_augmentation().pad == facts["shift_pixels"]
    assert facts["warmup_fraction"] == d_cifar.WARMUP_FRACTION
    assert str(report._scientific(0.0005, always=True)) == "5·10<sup>−4</sup>"


def test_e_facts_are_the_shapes_of_the_built_encoder_and_decoder():
    from hwkit.assignments import e_autoencoders as ea
    facts = cli.report_facts("E")
    encoder, decoder = ea.conv_encoder(), ea.conv_decoder()
    convs = [layer for layer in encoder.layers if layer.__class__.__name__ == "Conv2D"]
    assert list(convs[-1].output.shape[1:]) == facts["coarsest_map"]
    assert decoder.layers[1].units == facts["coarsest_map_values"] == int(np.prod(facts["coarsest_map"]))
    assert encoder.output.shape[-1] == facts["latent_dim"]
    no_fc = ea.conv_encoder(fc=False)
    assert list(no_fc.get_layer("latent_map").output.shape[1:]) == facts["no_fc_map"]


def test_c_facts_are_the_protocol():
    from hwkit import data
    from hwkit.assignments import c_coursework as cc
    facts = cli.report_facts("C")
    assert facts["train_eval_rows"] == len(cc.train_eval_indices(data.MNIST_COUNTS["train"])) == 12_000
    assert facts["log_period_updates"] * facts["batch_size"] == facts["log_period_samples"]
    assert cc.expected_evaluations(60_000, 1) == 60_000 // facts["log_period_samples"]


def test_a_facts_state_the_verdict_rule():
    from hwkit.assignments import a_identity
    facts = cli.report_facts("A")
    assert facts["ratio"] == a_identity.RATIO and facts["closer_mse"] == 1 / a_identity.RATIO
    assert facts["closer_rms"] ** 2 == pytest.approx(facts["closer_mse"])
    # The rule as stated: constant when d_const <= ratio * d_id, neither just past it.
    assert a_identity.verdict(facts["ratio"], 1.0) == "constant"
    assert a_identity.verdict(facts["ratio"] * 1.01, 1.0) == "neither"
    assert a_identity.verdict(1.0, facts["ratio"]) == "identity"


def test_d1_facts_are_the_start_points_and_steps_d1_uses():
    import importlib
    d1 = importlib.import_module("tasks.d1")
    facts = cli.report_facts("D")
    assert (facts["x0_a"], facts["eta_a"], facts["eta_b"], facts["x0_c"]) == (d1.X0_A, d1.ETA_A, d1.ETA_B, d1.X0_C)
    assert facts["etas_c"] == list(d1.ETAS_C)


def test_b1_and_e2_shift_and_warm_up_facts_are_the_library_defaults():
    from hwkit import models
    layer = models.random_shift_augmentation().layers[0]
    assert layer.height_factor * 28 == cli.report_facts("B")["shift_pixels"] == cli.report_facts("E")["shift_pixels"]
    schedule = models.warmup_cosine(1.0, total_steps=100)
    assert schedule.warmup_steps == round(cli.report_facts("B")["warmup_fraction"] * 100)


def test_e_few_label_facts_are_the_subset():
    from hwkit.assignments import e_transfer
    facts = cli.report_facts("E")
    y = np.repeat(np.arange(10), 30)
    picked = e_transfer.balanced_subset(y, facts["few_labels_per_class"], seed=0)
    assert np.bincount(y[picked]).tolist() == [facts["few_labels_per_class"]] * 10
    assert facts["few_labels_per_class"] == e_transfer.FEW_LABELS_PER_CLASS


def test_b4_monitoring_period_is_fit_functions_epoch():
    import inspect

    from hwkit.assignments import b_functions
    default = inspect.signature(b_functions.fit_function).parameters["steps_per_epoch"].default
    assert cli.report_facts("B")["steps_per_epoch"] == default == b_functions.STEPS_PER_EPOCH
