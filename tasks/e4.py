"""E4: the E2 classifier trained from scratch on only 100 labelled images; curves over training time; over-fitting.

Exercise 2, task 4: labels are scarce - only 100 labelled training images. The subset is fixed
and documented in ``hwkit.assignments.e_transfer.few_labels``: 10 images per digit drawn from the 60 000 MNIST
training images with a seeded RNG (seed ``FEW_LABELS_SEED``, independent of ``--seed``); E5 uses
the very same 100 images. The classifier (E1/E2 encoder architecture + 2-layer MLP, random
initialisation) is trained end to end for a fixed number of epochs with Adam at a constant
learning rate; there is no early stopping (with 100 labels there is no validation set to stop on).
After every epoch the loss and accuracy are measured on the 100 training images and on the full
test set - the test curves are monitoring only and choose nothing. Over-fitting is read off
these numbers by ``hwkit.assignments.e_transfer.overfitting_summary``.
"""
from __future__ import annotations

import numpy as np

from hwkit import findings, models
from hwkit.assignments import e_autoencoders, e_transfer
from hwkit.task import choose_recipe, main

FULL, QUICK = e_transfer.FEW_LABELS, e_transfer.FEW_LABELS_QUICK   # shared with E5: same recipe, other start


def run(args, run):
    recipe = choose_recipe(args, FULL, QUICK)
    train, idx, test = e_transfer.load_few_labels(args.data_dir, recipe.test_rows, args.seed)
    classifier = models.chain(e_autoencoders.conv_encoder(e_autoencoders.E_LATENT_DIM, fc=True, name="encoder"),
                              e_autoencoders.mlp_head(e_autoencoders.E_LATENT_DIM, recipe.hidden_units),
                              name="classifier_100")
    result, _, _ = e_transfer.train_few_labels(classifier, train, test, recipe, args.seed, run)
    fit = e_autoencoders.classifier_fit_check(result["final_train_loss"])
    print(f"100 labels from scratch: test accuracy {result['test_accuracy']:.4f}, "
          f"over-fitting {'yes' if result['overfitting'] else 'no'}")
    run.log(**result, findings=findings.as_dicts({"fit": fit,
                                                  "overfitting": e_transfer.overfitting_finding(result, fit)}),
            subset_indices=idx.tolist(), subset_class_counts=np.bincount(train[1], minlength=10).tolist(),
            subset_seed=e_transfer.FEW_LABELS_SEED, test_rows=len(test[0]))


if __name__ == "__main__":
    raise SystemExit(main(__spec__.name))
