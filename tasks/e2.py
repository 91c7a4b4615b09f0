"""E2: classifier = E1's encoder architecture + a 2-layer MLP, cross-entropy; train/test loss and accuracy curves.

Exercise 2, task 2: the encoder architecture of E1 (with FC, d=12; freshly initialised) as a
pre-classification feature extractor, followed by a small two-layer MLP (12 -> 64 ReLU -> 10
softmax), trained on sparse cross-entropy. Recipe: Adam with warm-up + cosine schedule, batch
128, random shifts of up to ~2 pixels as augmentation. 5 000 held-out training images are the
validation split; the test loss and accuracy are evaluated after every epoch for the curves only
(monitoring: nothing is chosen or stopped on them). The encoder is saved as
``models/e2_encoder.keras`` for E3.
"""
from __future__ import annotations

import dataclasses

from hwkit import findings, models, plots, training
from hwkit.assignments import e_autoencoders
from hwkit.task import choose_recipe, main


@dataclasses.dataclass(frozen=True)
class Recipe:
    batch_size: int = 128
    epochs: int = 10                  # supervised training converges in fewer epochs than E1's autoencoder
    learning_rate: float = 3e-3       # peak of the warm-up + cosine schedule
    hidden_units: int = 64            # the MLP's hidden layer
    target_accuracy: float = 0.99     # the report's aim (checked, not used for stopping)
    train_rows: int | None = None     # None: all 60 000 training images (55 000 fit + 5 000 validation)
    test_rows: int | None = None


FULL = Recipe()
QUICK = dataclasses.replace(FULL, epochs=1, train_rows=e_autoencoders.AUTOENCODER_QUICK.train_rows,
                            test_rows=e_autoencoders.AUTOENCODER_QUICK.test_rows)


def add_arguments(parser):
    training.add_device_arguments(parser)


def run(args, run):
    recipe = choose_recipe(args, FULL, QUICK)
    (x_fit, y_fit), (x_val, y_val), (x_test, y_test) = e_autoencoders.load_split(args.data_dir, recipe.train_rows,
                                                                                   recipe.test_rows, args.seed)

    # Same encoder architecture as E1 + the 2-layer MLP head, trained end to end; the test set is
    # evaluated after every epoch for the curves only.
    with args.devices.scope():   # batch_size is the global batch: same steps and LR on any number of replicas
        encoder = e_autoencoders.conv_encoder(e_autoencoders.E_LATENT_DIM, fc=True, name="encoder")
        head = e_autoencoders.mlp_head(e_autoencoders.E_LATENT_DIM, recipe.hidden_units)
        classifier = models.chain(encoder, head, name="classifier")
        fit = training.fit_classifier(classifier, (x_fit, y_fit), (x_val, y_val), (x_test, y_test),
                                      learning_rate=recipe.learning_rate, epochs=recipe.epochs,
                                      batch_size=recipe.batch_size, run_dir=run.path, seed=args.seed,
                                      augment=models.random_shift_augmentation())
    print(f"test accuracy {fit.test_accuracy:.4f}, loss {fit.test_loss:.4f} after {recipe.epochs} epochs "
          f"({fit.seconds:.0f} s)")
    training.save_model(encoder, run.model_path("e2_encoder.keras"))
    training.save_model(head, run.model_path("e2_head.keras"))
    h = fit.history
    curves = {"train_loss": h["loss"], "train_accuracy": h["accuracy"], "val_loss": h["val_loss"],
              "val_accuracy": h["val_accuracy"], "test_loss": fit.test_log.series("test_loss"),
              "test_accuracy": fit.test_log.series("test_accuracy")}
    run.save_figure(plots.learning_curves(curves, title="E2 classifier: train (running mean over the epoch, "
                                                        "augmented), validation, test (monitoring only)"), "curves")
    run.save_table("curves", [{"epoch": i + 1, **{k: v[i] for k, v in curves.items() if i < len(v)}}
                              for i in range(recipe.epochs)])
    run.save_table("architecture", models.architecture_rows(classifier))
    run.log(test_accuracy=fit.test_accuracy, test_loss=fit.test_loss, target_accuracy=recipe.target_accuracy,
            target_reached=bool(fit.test_accuracy >= recipe.target_accuracy),
            findings=findings.as_dicts({"fit": e_autoencoders.classifier_fit_check(h["loss"][-1]),
                                        "target": e_autoencoders.target_check(fit.test_accuracy,
                                                                              recipe.target_accuracy)}),
            final_val_accuracy=h["val_accuracy"][-1], final_val_loss=h["val_loss"][-1],
            final_train_loss=h["loss"][-1], final_train_accuracy=h["accuracy"][-1],
            epochs=recipe.epochs, batch_size=recipe.batch_size, learning_rate=recipe.learning_rate,
            hidden_units=recipe.hidden_units, train_seconds=round(fit.seconds, 1),
            parameters=classifier.count_params(),
            train_rows=len(x_fit), validation_rows=len(x_val), test_rows=len(x_test),
            **args.devices.describe(recipe.batch_size))


if __name__ == "__main__":
    raise SystemExit(main(__spec__.name))
