"""E1: convolutional autoencoder (separate encoder/decoder), latent d=12 with vs without an FC layer, mean L1 loss.

Exercise 2, task 1: encode MNIST digits into a d=12 latent space and decode them again, trained
on the mean L1 (absolute) reconstruction error. Two variants with the same convolutional trunk
(``hwkit.assignments.e_autoencoders.conv_encoder`` / ``conv_decoder``):

* with FC: 3 stride-2 convs to a 4x4x32 map, flattened, one linear Dense layer to d=12;
* without FC: one more stride-2 conv to a 2x2x3 map (also d=12), no fully-connected layer.

Both are trained with the same recipe (``e_autoencoders.AUTOENCODER``: Adam, warm-up + cosine
schedule, batch 128) on 55 000 training images, validated on 5 000 held-out training images; the
test L1 is measured once at the end. The encoder and decoder of each variant are saved as
separate ``.keras`` files; E3 and E5 load the FC variant's (``models/e1_encoder.keras``,
``models/e1_decoder.keras``).
"""
from __future__ import annotations

import numpy as np

from hwkit import findings, models, plots, training
from hwkit.assignments import e_autoencoders
from hwkit.task import choose_recipe, main

LATENT_DIM = e_autoencoders.E_LATENT_DIM
VARIANTS = {"with_FC": True, "no_FC": False}   # name -> fc flag; with_FC is the one E3/E5 reuse
SHOW_PER_CLASS = 2               # test digits per class in the input-vs-reconstruction figure
DEAD_CHANNEL_IMAGES = 1000       # validation images on which a decoder channel must be 0 everywhere to count as dead


def add_arguments(parser):
    training.add_device_arguments(parser)


def run(args, run):
    recipe = choose_recipe(args, e_autoencoders.AUTOENCODER, e_autoencoders.AUTOENCODER_QUICK)
    (x_fit, _), (x_val, _), (x_test, y_test) = e_autoencoders.load_split(args.data_dir, recipe.train_rows,
                                                                         recipe.test_rows, args.seed)

    # The plateau a stuck autoencoder sits on: the validation L1 of the best constant image (fit check's baseline).
    plateau = e_autoencoders.plateau_l1(x_fit, x_val)

    # Train both variants with the same recipe: the only difference is the FC bottleneck.
    results, curves, recon, per_image, fits = {}, {}, {}, {}, {}
    for name, fc in VARIANTS.items():
        # history.csv for the variant E3/E5 reuse; a history table for each.
        callbacks = training.standard_callbacks(run.path) if name == "with_FC" else []
        with args.devices.scope():   # built, compiled and fitted on the strategy's replicas (global batch)
            encoder = e_autoencoders.conv_encoder(LATENT_DIM, fc=fc, name=f"encoder_{name}")
            decoder = e_autoencoders.conv_decoder(LATENT_DIM, fc=fc, name=f"decoder_{name}")
            autoencoder = models.chain(encoder, decoder, name=f"autoencoder_{name}")
            history, seconds = e_autoencoders.train_autoencoder(autoencoder, x_fit, x_val, recipe, args.seed,
                                                                callbacks)
        test_l1 = float(autoencoder.evaluate(x_test, x_test, batch_size=1000, verbose=0))
        print(f"{name}: test mean L1 {test_l1:.4f} ({seconds:.0f} s)")
        run.save_table(f"history_{name}", [{"epoch": i + 1, **{k: float(v[i]) for k, v in history.items()}}
                                           for i in range(len(history["loss"]))])
        run.save_table(f"architecture_{name}", models.architecture_rows(autoencoder))
        suffix = "" if name == "with_FC" else f"_{name}"
        training.save_model(encoder, run.model_path(f"e1_encoder{suffix}.keras"))
        training.save_model(decoder, run.model_path(f"e1_decoder{suffix}.keras"))
        curves[f"{name}_loss"], curves[f"{name}_val_loss"] = history["loss"], history["val_loss"]
        recon[name] = autoencoder.predict(x_test, batch_size=1000, verbose=0)
        per_image[name] = e_autoencoders.l1_per_image(x_test, recon[name])
        fits[name] = e_autoencoders.fit_check(float(history["val_loss"][-1]), plateau)
        codes = encoder.predict(x_val[:DEAD_CHANNEL_IMAGES], batch_size=1000, verbose=0)
        results[name] = {"test_l1": test_l1, "val_l1": float(history["val_loss"][-1]),
                         "fit": fits[name].verdict,
                         "dead_channels": e_autoencoders.dead_channels(decoder, codes),
                         "train_l1": float(history["loss"][-1]), "first_epoch_train_l1": float(history["loss"][0]),
                         "train_seconds": round(seconds, 1), "parameters": autoencoder.count_params(),
                         "encoder_parameters": encoder.count_params(), "decoder_parameters": decoder.count_params()}

    # Scores and figures: learning curves, input vs reconstruction for 2 test digits per class.
    run.save_figure(plots.learning_curves(curves, metrics=("loss",),
                                          title="E1 mean L1 per epoch (validation = 5 000 held-out training images)"),
                    "curves")
    shown = e_autoencoders.per_class_examples(y_test, SHOW_PER_CLASS)
    rows = [x_test[shown]] + [np.clip(recon[name][shown], 0, 1) for name in VARIANTS]
    titles = [str(y) for y in y_test[shown]] + [""] * (len(VARIANTS) * len(shown))
    labels = ["input"] + [name.replace("_", " ") + ("" if fits[name].verdict == findings.FITS else " FAILED")
                          for name in VARIANTS]
    run.save_figure(plots.image_grid(np.concatenate(rows), titles, ncols=len(shown), row_labels=labels),
                    "reconstructions")
    verdicts = {"fit_with_FC": fits["with_FC"], "fit_no_FC": fits["no_FC"],
                "fc_vs_no_fc": e_autoencoders.compare_reconstructions(per_image["with_FC"], per_image["no_FC"],
                                                                      fits["with_FC"], fits["no_FC"])}
    run.log(variants=results, test_l1=results["with_FC"]["test_l1"], plateau_l1=plateau,
            plateau_threshold=fits["with_FC"].numbers["threshold"], findings=findings.as_dicts(verdicts),
            latent_dim=LATENT_DIM, filters=list(e_autoencoders.E_FILTERS), epochs=recipe.epochs,
            batch_size=recipe.batch_size, learning_rate=recipe.learning_rate,
            train_rows=len(x_fit), validation_rows=len(x_val), test_rows=len(x_test),
            shown_test_indices=shown.tolist(), **args.devices.describe(recipe.batch_size))


if __name__ == "__main__":
    raise SystemExit(main(__spec__.name))
