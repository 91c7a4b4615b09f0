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

from hwkit import HwkitError, models, plots
from hwkit.assignments import e_transfer
from hwkit.cli import task_main
from hwkit.runs import latest_run
from hwkit.assignments import e_autoencoders

REQUIRES = ("e1", "e4")  # tasks whose latest runs this task reads


def run(args, run):
    train, idx, test = e_transfer.load_few_labels(args.data_dir, args.quick, args.seed)

    # E1's trained encoder (weights and all) + a fresh head; all layers stay trainable (fine-tuning).
    encoder, e1_run = e_transfer.load_model_from_run("e1", "e1_encoder.keras", args.quick)
    encoder.trainable = True
    classifier = models.chain(encoder, e_autoencoders.mlp_head(e_autoencoders.E_LATENT_DIM, e_transfer.HEAD_HIDDEN_UNITS), name="classifier_100_ft")
    epochs = args.epochs or (e_transfer.FEW_LABELS_QUICK_EPOCHS if args.quick else e_transfer.FEW_LABELS_EPOCHS)
    result, curves = e_transfer.train_few_labels(classifier, train, test, epochs, args.seed, run)
    print(f"100 labels, E1 encoder fine-tuned: test accuracy {result['test_accuracy']:.4f}")

    # Side by side with E4 (from scratch) on the same 100 images.
    comparison = {}
    e4_run = latest_run("e4", include_quick=args.quick)
    if e4_run is not None:
        if e4_run.metrics.get("subset_indices") != idx.tolist():
            raise HwkitError(f"{e4_run.path} used other training images than hwkit.assignments.e_transfer.few_labels: "
                             "run python -m tasks.e4 again")
        both = {f"E4_scratch_{k}": [r[k] for r in e4_run.table("curves")] for k in ("test_loss", "test_accuracy")}
        both.update({f"E5_fine-tuned_{k}": curves[k] for k in ("test_loss", "test_accuracy")})
        run.save_figure(plots.learning_curves(both, xlabel="epoch", title="Test loss and accuracy "
                                              "(monitoring only): from scratch (E4) vs E1 encoder fine-tuned (E5)"),
                        "compare_e4")
        comparison = {"e4_run": str(e4_run.path), "e4_test_accuracy": e4_run.metrics["test_accuracy"],
                      "e4_test_loss": e4_run.metrics["test_loss"],
                      "accuracy_gain_over_e4": result["test_accuracy"] - e4_run.metrics["test_accuracy"],
                      "loss_change_vs_e4": result["test_loss"] - e4_run.metrics["test_loss"],
                      "e4_min_test_loss": e4_run.metrics["min_test_loss"]}
    run.log(**result, **comparison, e1_run=str(e1_run.path), subset_indices=idx.tolist(),
            subset_class_counts=np.bincount(train[1], minlength=10).tolist(),
            subset_seed=e_transfer.FEW_LABELS_SEED, test_rows=len(test[0]))


if __name__ == "__main__":
    raise SystemExit(task_main(__spec__.name))
