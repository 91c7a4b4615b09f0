"""E5: transfer learning - E1's autoencoder encoder as initialisation + a fresh MLP head, fine-tuned on E4's 100 labels.

Exercise 2, task 5: the encoder the autoencoder learnt from all 60 000 (unlabelled) training
images in E1 is the initial guess of the classifier's encoder; the 2-layer MLP head is randomly
initialised; everything is fine-tuned on the same 100 labelled images as E4
(``hwkit.assignments.e_transfer.few_labels``) with E4's exact recipe (optimizer, learning rate, batch size,
epochs), so the only difference from E4 is the initialisation. The comparison with E4 (test
loss and accuracy, curves side by side) uses the latest complete e4 run, when there is one.
"""
from __future__ import annotations

import numpy as np

from hwkit import HwkitError, findings, models, plots, runs
from hwkit.assignments import e_autoencoders, e_transfer
from hwkit.task import choose_recipe, main

# Tasks whose latest runs this task reads, and what of them (checked before it starts).
FIT = {"verdict": str}   # a fit check's finding, as the runs store it
REQUIRES = {"e1": {"models/e1_encoder.keras": None, "metrics.json": {"findings": {"fit_with_FC": FIT}}},
            "e4": {"tables/curves.json": [{"test_loss": runs.NUMBER, "test_accuracy": runs.NUMBER}],
                   "tables/test_per_example.json": [{"label": int, "correct": int, "loss": runs.NUMBER}],
                   "metrics.json": {"subset_indices?": [int], "test_accuracy": runs.NUMBER, "test_loss": runs.NUMBER,
                                    "min_test_loss": runs.NUMBER, "findings": {"fit": FIT}}}}

FULL, QUICK = e_transfer.FEW_LABELS, e_transfer.FEW_LABELS_QUICK   # E4's recipe: only the start differs


def run(args, run):
    recipe = choose_recipe(args, FULL, QUICK)
    train, idx, test = e_transfer.load_few_labels(args.data_dir, recipe.test_rows, args.seed)
    e1_run = runs.require_run("e1", args.quick, needs=REQUIRES["e1"], reader=run.task)
    e4_run = runs.require_run("e4", args.quick, needs=REQUIRES["e4"], reader=run.task)
    if e4_run.metrics.get("subset_indices") != idx.tolist():
        raise HwkitError(f"{e4_run.path} used other training images than hwkit.assignments.e_transfer.few_labels: "
                         f"run `{runs.task_command('e4', args.quick)}` again")

    # E1's trained encoder (weights and all) + a fresh head; all layers stay trainable (fine-tuning).
    encoder = runs.load_model(e1_run, "e1_encoder.keras", shapes=e_autoencoders.ENCODER_SHAPES)
    encoder.trainable = True
    classifier = models.chain(encoder, e_autoencoders.mlp_head(e_autoencoders.E_LATENT_DIM, recipe.hidden_units),
                              name="classifier_100_ft")
    result, curves, per_example = e_transfer.train_few_labels(classifier, train, test, recipe, args.seed, run)
    fit = e_autoencoders.classifier_fit_check(result["final_train_loss"])
    print(f"100 labels, E1 encoder fine-tuned: test accuracy {result['test_accuracy']:.4f}")

    # Side by side with E4 (from scratch) on the same 100 images.
    both = {f"E4_scratch_{k}": [r[k] for r in e4_run.table("curves")] for k in ("test_loss", "test_accuracy")}
    both.update({f"E5_fine-tuned_{k}": curves[k] for k in ("test_loss", "test_accuracy")})
    run.save_figure(plots.learning_curves(both, xlabel="epoch", title="Test loss and accuracy "
                                          "(monitoring only): from scratch (E4) vs E1 encoder fine-tuned (E5)"),
                    "compare_e4")
    # E5 vs E4 on the same test images (paired bootstrap); only when E4, E5 and the autoencoder E5 starts from fitted.
    e4_rows = e4_run.table("test_per_example")
    if [r["label"] for r in e4_rows] != test[1].tolist():   # pairs need the very same test images, in order
        raise HwkitError(f"{e4_run.path} was scored on other test images than this run ({len(e4_rows)} vs "
                         f"{len(test[1])}, or another order): run `{runs.task_command('e4', args.quick)}` again")
    scratch = {k: np.array([r[k] for r in e4_rows], dtype=float) for k in ("correct", "loss")}
    fits = {"E5": fit, "E4": e4_run.metrics["findings"]["fit"],
            "E1 autoencoder": e1_run.metrics["findings"]["fit_with_FC"]}
    versus = e_transfer.compare_with_scratch(per_example, scratch, fits)
    run.log(**result, findings=findings.as_dicts({"fit": fit,
                                                  "overfitting": e_transfer.overfitting_finding(result, fit),
                                                  "accuracy_vs_e4": versus["correct"], "loss_vs_e4": versus["loss"]}),
            e4_test_accuracy=e4_run.metrics["test_accuracy"], e4_test_loss=e4_run.metrics["test_loss"],
            e4_min_test_loss=e4_run.metrics["min_test_loss"], e4_run=str(e4_run.path),
            e1_run=str(e1_run.path), subset_indices=idx.tolist(),
            subset_class_counts=np.bincount(train[1], minlength=10).tolist(),
            subset_seed=e_transfer.FEW_LABELS_SEED, test_rows=len(test[0]))


if __name__ == "__main__":
    raise SystemExit(main(__spec__.name))
