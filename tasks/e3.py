"""E3: classifier decoding - E2's frozen encoder + a new E1-architecture decoder; losses, 60-digit grid, \
latent geometry.

Exercise 2, task 3: E2's trained classifier encoder is frozen (non-trainable) and a fresh decoder
of E1's architecture (with FC) is trained on top of it to minimise the same mean L1 loss, with
E1's exact recipe and number of epochs. Then, on the test set:

* the test L1 of this classifier-decoding model against E1's autoencoder (overall and per digit);
* a grid of 60 test digits (6 per class): inputs, E1 reconstructions, classifier-decoding ones;
* in-class variability and between-class separation of both latent spaces (E1's encoder vs
  E2's encoder): mean distance to the class centroid, centroid distances, Fisher ratio,
  silhouette, all also normalised by the total spread of each space; and the in-class spread of
  the *reconstructed images* against that of the inputs;
* a 2-D PCA view of both latent spaces.

The encoders come from the latest complete runs of e1 and e2 (recorded in metrics.json).
"""
from __future__ import annotations

import numpy as np

from hwkit import findings, models, plots, runs, training
from hwkit.assignments import e_autoencoders, e_latent
from hwkit.task import choose_recipe, main

# Tasks whose latest runs this task reads, and what of them (checked before it starts).
FIT = {"verdict": str}   # a fit check's finding, as the runs store it
REQUIRES = {"e1": {"models/e1_encoder.keras": None, "models/e1_decoder.keras": None,
                   "tables/history_with_FC.json": [{"loss": runs.NUMBER, "val_loss": runs.NUMBER}],
                   "metrics.json": {"findings": {"fit_with_FC": FIT}}},
            "e2": {"models/e2_encoder.keras": None, "metrics.json": {"findings": {"fit": FIT}}}}

GRID_PER_CLASS = 6               # 6 x 10 = 60 reconstructed digits per model (the text asks for > 50)
GEOMETRY_SILHOUETTE_POINTS = 2000
# E1's exact recipe (epochs, batch, schedule, data) for the new decoder: the only difference is the frozen code.
FULL, QUICK = e_autoencoders.AUTOENCODER, e_autoencoders.AUTOENCODER_QUICK


def predict(model, x: np.ndarray) -> np.ndarray:
    return model.predict(x, batch_size=1000, verbose=0)


def latent_scatter(spaces: dict, y: np.ndarray):
    """Both latent spaces projected on their two leading principal axes, coloured by digit."""
    fig, axes = plots.figure(1, len(spaces), width="full", height_cm=7.5)
    for ax, (title, z) in zip(axes[0], spaces.items()):
        p, explained = e_latent.pca_2d(z)
        sc = ax.scatter(p[:, 0], p[:, 1], c=y, cmap="tab10", s=2, alpha=0.6, vmin=-0.5, vmax=9.5)
        ax.set_title(f"{title}\n(PC1+PC2 explain {100 * explained.sum():.0f}% of the variance)")
        ax.set_xlabel("PC1")
        ax.set_ylabel("PC2")
    fig.colorbar(sc, ax=axes[0].tolist(), ticks=range(10), label="digit")
    return fig


def run(args, run):
    recipe = choose_recipe(args, FULL, QUICK)
    (x_fit, _), (x_val, _), (x_test, y_test) = e_autoencoders.load_split(args.data_dir, recipe.train_rows,
                                                                         recipe.test_rows, args.seed)

    # The two trained encoders: E1's autoencoder (with its decoder) and E2's classifier.
    e1_run = runs.require_run("e1", args.quick, needs=REQUIRES["e1"], reader=run.task)
    e2_run = runs.require_run("e2", args.quick, needs=REQUIRES["e2"], reader=run.task)
    ae_encoder = runs.load_model(e1_run, "e1_encoder.keras", shapes=e_autoencoders.ENCODER_SHAPES)
    ae_decoder = runs.load_model(e1_run, "e1_decoder.keras", shapes=e_autoencoders.DECODER_SHAPES)
    clf_encoder = runs.load_model(e2_run, "e2_encoder.keras", shapes=e_autoencoders.ENCODER_SHAPES)

    # Classifier decoding: frozen E2 encoder + fresh E1-architecture decoder, trained like E1.
    clf_encoder.trainable = False
    decoder = e_autoencoders.conv_decoder(e_autoencoders.E_LATENT_DIM, fc=True, name="decoder")
    model = models.chain(clf_encoder, decoder, name="classifier_decoding")
    history, seconds = e_autoencoders.train_autoencoder(model, x_fit, x_val, recipe, args.seed,
                                            training.standard_callbacks(run.path))
    training.save_model(decoder, run.model_path("e3_decoder.keras"))
    fit = {"e1": e1_run.metrics["findings"]["fit_with_FC"], "e2": e2_run.metrics["findings"]["fit"],
           "e3": e_autoencoders.fit_check(float(history["val_loss"][-1]),
                                          e_autoencoders.plateau_l1(x_fit, x_val)).as_dict()}
    trainable = int(sum(np.prod(w.shape) for w in model.trainable_weights))

    # Losses: classifier decoding vs the E1 autoencoder on the same test images.
    recon = {"autoencoder (E1)": predict(models.chain(ae_encoder, ae_decoder, name="e1_autoencoder"), x_test),
             "classifier decoding (E3)": predict(model, x_test)}
    l1 = {k: e_autoencoders.l1_per_image(x_test, v) for k, v in recon.items()}
    ae_l1, cd_l1 = (float(v.mean()) for v in l1.values())
    run.save_table("l1_per_digit", [{"digit": d, **{k: float(v[y_test == d].mean()) for k, v in l1.items()},
                                     "ratio": float(l1["classifier decoding (E3)"][y_test == d].mean()
                                                    / l1["autoencoder (E1)"][y_test == d].mean())}
                                    for d in range(10)])
    run.save_figure(plots.learning_curves({"classifier_decoding_loss": history["loss"],
                                           "classifier_decoding_val_loss": history["val_loss"],
                                           **{f"E1_autoencoder_{k}": [r[k] for r in e1_run.table("history_with_FC")]
                                              for k in ("loss", "val_loss")}},
                                          metrics=("loss",), title="Mean L1 per epoch: E3 decoder on the frozen "
                                                                   "classifier encoder vs E1's autoencoder"), "curves")

    # >50 reconstructions from both: 6 test digits per class, same digits in every panel.
    shown = e_autoencoders.per_class_examples(y_test, GRID_PER_CLASS)
    order = np.argsort(np.tile(np.arange(GRID_PER_CLASS), 10), kind="stable")  # rows = repeats, columns = digits
    run.save_figure(plots.image_grid(x_test[shown][order], ncols=10, size=0.8), "grid_inputs")
    for key, name in (("autoencoder (E1)", "grid_autoencoder"), ("classifier decoding (E3)", "grid_classifier")):
        run.save_figure(plots.image_grid(np.clip(recon[key][shown][order], 0, 1), ncols=10, size=0.8), name)

    # Latent geometry of both encoders on the test set, plus pixel-space spread of the reconstructions.
    spaces = {"autoencoder (E1)": predict(ae_encoder, x_test), "classifier (E2)": predict(clf_encoder, x_test)}
    geometry = {k: e_latent.class_geometry(z, y_test, GEOMETRY_SILHOUETTE_POINTS, seed=args.seed)
                for k, z in spaces.items()}
    ae_g, clf_g = geometry["autoencoder (E1)"], geometry["classifier (E2)"]
    run.save_table("geometry", [
        {"measure": label, "autoencoder (E1)": ae_g[key], "classifier (E2)": clf_g[key]}
        for key, label in (("within_mean_normalised", "in-class: mean distance to centroid / total spread"),
                           ("centroid_distance_mean_normalised", "between: mean centroid distance / total spread"),
                           ("centroid_distance_min_normalised", "between: closest centroid pair / total spread"),
                           ("separation_ratio", "mean centroid distance / mean in-class distance"),
                           ("fisher_ratio", "Fisher ratio tr(S_between) / tr(S_within)"),
                           ("silhouette", f"silhouette ({GEOMETRY_SILHOUETTE_POINTS} test codes)"),
                           ("within_mean", "in-class: mean distance to centroid (raw units)"),
                           ("centroid_distance_mean", "between: mean centroid distance (raw units)"),
                           ("total_spread", "total spread (RMS distance to the mean, raw units)"))])
    run.save_table("within_per_digit", [
        {"digit": d, **{k: g["within_per_class"][d] / g["total_spread"] for k, g in geometry.items()}}
        for d in range(10)])
    pixel_spread = {"inputs": e_latent.within_class_distances(x_test.reshape(len(x_test), -1), y_test).mean(),
                    **{k: e_latent.within_class_distances(v.reshape(len(v), -1), y_test).mean()
                       for k, v in recon.items()}}
    run.save_table("pixel_spread", [{"images": k, "mean distance to class-mean image": float(v),
                                     "relative to inputs": float(v / pixel_spread["inputs"])}
                                    for k, v in pixel_spread.items()])
    run.save_figure(latent_scatter(spaces, y_test), "latent_pca")

    # The answers as findings: paired bootstraps over the same test images; a model that failed to fit is not compared.
    ae_key, cd_key = "autoencoder (E1)", "classifier decoding (E3)"
    verdicts = {"reconstruction": e_autoencoders.compare_reconstructions(l1[ae_key], l1[cd_key], fit["e1"], fit["e3"]),
                **e_latent.compare_encoders(spaces[ae_key], spaces["classifier (E2)"], y_test,
                                            GEOMETRY_SILHOUETTE_POINTS, findings.fitted(fit["e1"], fit["e2"]),
                                            seed=args.seed),
                "prototypical": e_autoencoders.compare_reconstructions(
                    e_latent.reconstruction_spread(recon[cd_key], y_test),
                    e_latent.reconstruction_spread(recon[ae_key], y_test), fit["e3"], fit["e1"])}
    run.log(test_l1_classifier_decoding=cd_l1, test_l1_autoencoder=ae_l1, l1_ratio=cd_l1 / ae_l1,
            findings={**findings.as_dicts(verdicts), **{f"fit_{k}": v for k, v in fit.items()}},
            pixel_spread_relative={k: float(v / pixel_spread["inputs"]) for k, v in pixel_spread.items()},
            e1_reported_test_l1=e1_run.metrics.get("test_l1"), e1_run=str(e1_run.path), e2_run=str(e2_run.path),
            e2_test_accuracy=e2_run.metrics.get("test_accuracy"),
            val_l1=float(history["val_loss"][-1]), epochs=recipe.epochs, train_seconds=round(seconds, 1),
            trainable_parameters=trainable, frozen_parameters=clf_encoder.count_params(),
            geometry=geometry,
            pixel_spread={k: float(v) for k, v in pixel_spread.items()},
            grid_test_indices=shown[order].tolist())


if __name__ == "__main__":
    raise SystemExit(main(__spec__.name))
