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

import time

from hwkit import models, plots, training
from hwkit.cli import task_main
from hwkit.assignments import e_autoencoders

BATCH_SIZE = 128
EPOCHS = 10                      # supervised training converges in fewer epochs than E1's autoencoder
LEARNING_RATE = 3e-3             # peak of the warm-up + cosine schedule
HIDDEN_UNITS = 64                # the MLP's hidden layer
TARGET_ACCURACY = 0.99           # the report's aim (checked, not used for stopping)

QUICK = dict(epochs=1)


def add_arguments(parser):
    training.add_device_arguments(parser)


def run(args, run):
    (x_fit, y_fit), (x_val, y_val), (x_test, y_test) = e_autoencoders.load_split(args.data_dir, args.quick, args.seed)
    epochs = args.epochs or (QUICK["epochs"] if args.quick else EPOCHS)

    # Same encoder architecture as E1 + the 2-layer MLP head, trained end to end.
    steps = -(-len(x_fit) // BATCH_SIZE)
    with args.devices.scope():   # BATCH_SIZE is the global batch: same steps and LR on any number of replicas
        encoder = e_autoencoders.conv_encoder(e_autoencoders.E_LATENT_DIM, fc=True, name="encoder")
        head = e_autoencoders.mlp_head(e_autoencoders.E_LATENT_DIM, HIDDEN_UNITS)
        classifier = models.chain(encoder, head, name="classifier")
        models.compile_classifier(classifier, LEARNING_RATE, total_steps=steps * epochs)

    # Test curves: one evaluation per epoch (every `steps` batches), monitoring only.
    test_log = training.EvaluateEverySamples(steps * BATCH_SIZE, {"test": (x_test, y_test)}, BATCH_SIZE)
    started = time.perf_counter()
    history = classifier.fit(
        training.dataset(x_fit, y_fit, BATCH_SIZE, shuffle=True, seed=args.seed, augment=models.random_shift_augmentation()),
        validation_data=(x_val, y_val), epochs=epochs, verbose=2,
        callbacks=[test_log, *training.standard_callbacks(run.path, test_log)])
    seconds = time.perf_counter() - started

    test_loss, test_accuracy = classifier.evaluate(x_test, y_test, batch_size=1000, verbose=0)
    print(f"test accuracy {test_accuracy:.4f}, loss {test_loss:.4f} after {epochs} epochs ({seconds:.0f} s)")
    encoder.save(run.model_path("e2_encoder.keras"))
    head.save(run.model_path("e2_head.keras"))
    curves = {"train_loss": history.history["loss"], "train_accuracy": history.history["accuracy"],
              "val_loss": history.history["val_loss"], "val_accuracy": history.history["val_accuracy"],
              "test_loss": test_log.series("test_loss"), "test_accuracy": test_log.series("test_accuracy")}
    run.save_figure(plots.learning_curves(curves, title="E2 classifier: train (running mean over the epoch, "
                                                        "augmented), validation, test (monitoring only)"), "curves")
    run.save_table("curves", [{"epoch": i + 1, **{k: v[i] for k, v in curves.items() if i < len(v)}}
                              for i in range(epochs)])
    run.save_table("architecture", models.architecture_rows(classifier))
    run.log(test_accuracy=test_accuracy, test_loss=test_loss, target_accuracy=TARGET_ACCURACY,
            target_reached=bool(test_accuracy >= TARGET_ACCURACY),
            final_val_accuracy=history.history["val_accuracy"][-1], final_val_loss=history.history["val_loss"][-1],
            final_train_loss=history.history["loss"][-1], final_train_accuracy=history.history["accuracy"][-1],
            epochs=epochs, batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE, hidden_units=HIDDEN_UNITS,
            train_seconds=round(seconds, 1), parameters=classifier.count_params(),
            train_rows=len(x_fit), validation_rows=len(x_val), test_rows=len(x_test), **args.devices.describe(BATCH_SIZE))


if __name__ == "__main__":
    raise SystemExit(task_main(__spec__.name))
