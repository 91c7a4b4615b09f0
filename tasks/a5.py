"""A5 (beyond the text): depth sweep of the A2 CNN, 1 to 15 hidden conv layers: where does identity turn constant?

Zhang, Bengio, Hardt, Mozer and Singer ("Identity Crisis", ICLR 2020, Fig. 3) train CNNs of
growing depth on one image and find shallow nets learn the identity, deeper ones drift towards
the constant map. Here: the A2 CNN with ``depth`` hidden layers Conv2D(10 filters, 5x5, "same",
ReLU) and the same sigmoid 5x5 output conv, trained exactly like A2 (plain SGD on per-pixel BCE,
1000 one-step epochs on the single image). For every depth the distances of the test predictions
to the training image and to the input give the verdict (hwkit.assignments.a_identity); the table and the
distance-versus-depth figure show where the learnt function changes. Kept to one seed per depth
and depth <= 15 (the paper goes to 20) so that the whole sweep takes a few CPU minutes.
"""
from __future__ import annotations


from hwkit.assignments import a_identity
from hwkit.cli import positive_int, task_main

DEPTHS = (1, 2, 3, 4, 6, 8, 10, 12, 15)   # hidden conv layers
EPOCHS = 1000
SEEDS = 1                            # runs per depth (--seeds to repeat)
LEARNING_RATE = 0.1                  # plain SGD, the same for every depth: A2's 0.5 kills deep nets (dead ReLUs)
FILTERS, KERNEL = 10, 5
OTHER_RATES = (0.5,)                 # also tried on the deepest net (table lr_check); skipped with --quick

QUICK = dict(depths=(1, 3), epochs=100, seeds=1)


def add_arguments(parser):
    a_identity.add_data_arguments(parser)
    parser.add_argument("--seeds", type=positive_int, help=f"runs per depth (default {SEEDS})")
    parser.add_argument("--depths", type=positive_int, nargs="+", help=f"hidden conv layers (default {DEPTHS})")


def run(args, run):
    d = a_identity.one_example_data(args.data_dir, args.digit, args.occurrence)
    depths = args.depths or (QUICK["depths"] if args.quick else DEPTHS)
    epochs = args.epochs or (QUICK["epochs"] if args.quick else EPOCHS)
    seeds = [args.seed + k for k in range(args.seeds or (QUICK["seeds"] if args.quick else SEEDS))]

    # Train the CNN of every depth on the single image, like A2 (but at the sweep's learning rate).
    results, labels, rows = [], [], []
    for depth in depths:
        for seed in seeds:
            r = a_identity.train_one_example(
                lambda: a_identity.identity_cnn(hidden_layers=depth, filters=FILTERS, kernel_size=KERNEL), d, seed,
                epochs, LEARNING_RATE, progress_every=max(1, epochs // 2), label=f"depth {depth} ")
            results.append(r)
            labels.append(f"depth{depth}_s{seed}")
            rows.append({"depth": depth, **r.row()})
            print(f"depth {depth} seed {seed}: d_const {r.summary['d_const']:.3f} d_id {r.summary['d_id']:.3f} "
                  f"-> {r.summary['verdict']} (train MSE {r.train_mse:.2g}, {r.seconds:.0f} s)", flush=True)
    a_identity.write_histories(run.path / "history.csv", results, labels)
    run.save_table("sweep", rows)

    # The learning rate, judged by the training fit only: A2's 0.5 against the sweep's rate on the deepest net.
    if not args.quick:
        deepest = max(depths)
        sweep_row = next(r for r in rows if r["depth"] == deepest and r["seed"] == seeds[0])
        checked = a_identity.learning_rate_check(
            lambda: a_identity.identity_cnn(hidden_layers=deepest, filters=FILTERS, kernel_size=KERNEL), d,
            OTHER_RATES, epochs, seeds[0])
        checked.append({"learning_rate": LEARNING_RATE, "final_loss": sweep_row["final_loss"],
                        "train_mse": sweep_row["train_mse"], "dead_units": sweep_row["dead_units"],
                        "fits_training_image": sweep_row["train_mse"] <= a_identity.FIT_MSE})
        run.save_table("lr_check", [{"depth": deepest, **row} for row in checked])

    # Distances versus depth, and the predictions of each depth (first seed).
    fig = a_identity.distance_vs_depth_figure(rows, title="A5: test predictions, mean over the 10 test digits")
    run.save_figure(fig, "distance_vs_depth")
    first = [(f"depth {row['depth']}: {r.summary['verdict']}", r.train_prediction, r.test_predictions)
             for row, r in zip(rows, results) if row["seed"] == seeds[0]]
    run.save_figure(a_identity.prediction_figure(d, first, title="A5: inputs (top) and predictions per depth"),
                    "predictions")

    verdicts = {str(depth): [r["verdict"] for r in rows if r["depth"] == depth] for depth in depths}
    not_identity = [dep for dep in depths if "identity" not in verdicts[str(dep)]]
    constant = [dep for dep in depths if "constant" in verdicts[str(dep)]]
    run.log(depths=list(depths), seeds=seeds, epochs=epochs, learning_rate=LEARNING_RATE, verdicts=verdicts,
            first_depth_not_identity=not_identity[0] if not_identity else None,
            first_depth_constant=constant[0] if constant else None, train_digit=d.train_digit,
            train_index=d.train_index, ratio=a_identity.RATIO, fit_mse=a_identity.FIT_MSE,
            train_seconds=round(sum(r.seconds for r in results), 1))


if __name__ == "__main__":
    raise SystemExit(task_main(__spec__.name))
