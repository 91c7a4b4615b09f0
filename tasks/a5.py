"""A5 (beyond the text): depth sweep of the A2 CNN, 1 to 20 hidden conv layers x 3 seeds, against the paper.

Zhang, Bengio, Hardt, Mozer and Singer ("Identity Crisis", ICLR 2020, Fig. 3) train CNNs of
growing depth on one image: shallow nets learn the identity, the deepest (20 layers) the constant
map, the depths in between neither. Here: the A2 CNN with ``depth`` hidden layers Conv2D(10
filters, 5x5, "same", ReLU) and the same sigmoid 5x5 output conv, trained like A2 (plain SGD on
per-pixel BCE, 1000 one-step epochs on the single image), 3 seeds per depth, at one SGD rate chosen
on the training fit of the deepest net. For every run the
distances of the test predictions to the training image and to the input give the verdict
(``hwkit.assignments.a_identity``); the verdict counts per depth are compared with the paper's
Fig. 3 by ``a_identity.paper_comparison`` (a finding: agreement, partial agreement, disagreement or not
comparable, by the rule ``a_identity.PAPER_RULE`` the report states); runs that fail to fit the training
image are counted as failures and left out of every verdict.
"""
from __future__ import annotations

import dataclasses

from hwkit import findings
from hwkit.assignments import a_identity
from hwkit.task import MAX_SEEDS, bounded_int, choose_recipe, main


@dataclasses.dataclass(frozen=True)
class Recipe:
    depths: tuple[int, ...] = (1, 2, 3, 4, 6, 8, 10, 12, 15, 20)   # hidden conv layers, up to the paper's 20
    seeds: int = 3                     # runs per depth (--seeds)
    epochs: int = 1000                 # one SGD step on the single image per epoch, as in A2
    # plain SGD, one rate for every depth, chosen from these by a_identity.LR_RULE on the deepest net (table lr_check)
    lr_candidates: tuple[float, ...] = (0.1, 0.5)
    filters: int = 10
    kernel: int = 5


FULL = Recipe()
QUICK = dataclasses.replace(FULL, depths=(1, 3), epochs=300, seeds=1)
MAX_DEPTH = 100                        # --depths: 5x the paper's deepest net


def add_arguments(parser):
    a_identity.add_data_arguments(parser)
    parser.add_argument("--seeds", type=bounded_int(1, MAX_SEEDS, "a number of seeds"),
                        help=f"runs per depth (default {FULL.seeds})")
    parser.add_argument("--depths", type=bounded_int(1, MAX_DEPTH, "a depth"), nargs="+",
                        help=f"hidden conv layers, 1..{MAX_DEPTH} (default {FULL.depths})")


def run(args, run):
    recipe = choose_recipe(args, FULL, QUICK)
    d = a_identity.one_example_data(args.data_dir, args.digit, args.occurrence)
    depths = tuple(args.depths or recipe.depths)
    seeds = [args.seed + k for k in range(args.seeds or recipe.seeds)]

    def build(depth):
        return lambda: a_identity.identity_cnn(hidden_layers=depth, filters=recipe.filters, kernel_size=recipe.kernel)

    # The learning rate, chosen on the training fit of the deepest net only (first seed), by a_identity.LR_RULE;
    # the chosen rate's check run is that net's first-seed run of the sweep.
    deepest = max(depths)
    choice, first_deepest = a_identity.checked_learning_rate(run, build(deepest), d, recipe.lr_candidates,
                                                             recipe.epochs, seeds[0], depth=deepest)
    learning_rate = choice.numbers["chosen"]

    # Train the CNN of every depth and seed on the single image, like A2 (but at the sweep's learning rate).
    results, labels, rows = [], [], []
    for depth in depths:
        for seed in seeds:
            reuse = depth == deepest and seed == seeds[0]
            r = first_deepest if reuse else a_identity.train_one_example(build(depth), d, seed, recipe.epochs,
                                                                         learning_rate)
            results.append(r)
            labels.append(f"depth{depth}_s{seed}")
            rows.append({"depth": depth, **r.row()})
            print(f"depth {depth} seed {seed}: d_const {r.summary['d_const']:.3f} d_id {r.summary['d_id']:.3f} "
                  f"-> {r.verdict} (train MSE {r.train_mse:.2g}, {r.seconds:.0f} s)", flush=True)
            run.save_table("sweep", rows)          # progress survives an interruption
    a_identity.write_histories(run.path / "history.csv", results, labels)

    # Verdict counts per depth (fitted runs only) and the comparison with the paper's Fig. 3 (a finding).
    comparison = a_identity.paper_comparison(rows)
    counts = [{"depth": int(k), **{v: c[v] for v in a_identity.VERDICTS}, "failed": c[findings.FAILED],
               "verdict": comparison.numbers["verdicts"][k]} for k, c in comparison.numbers["counts"].items()]
    run.save_table("verdict_counts", counts)
    for c in counts:
        print(f"depth {c['depth']}: identity {c['identity']}, neither {c['neither']}, constant {c['constant']}, "
              f"failed to fit {c['failed']} -> {c['verdict']}")
    print(f"against the paper: {comparison.verdict}")

    # Distances versus depth, and the predictions of each depth (first seed).
    fig = a_identity.distance_vs_depth_figure(rows, title="A5: test predictions, mean over the 10 test digits")
    run.save_figure(fig, "distance_vs_depth")
    first = [(f"depth {row['depth']}: {r.verdict}", r.train_prediction, r.test_predictions)
             for row, r in zip(rows, results) if row["seed"] == seeds[0]]
    run.save_figure(a_identity.prediction_figure(d, first, title="A5: inputs (top) and predictions per depth"),
                    "predictions")

    run.log(findings=findings.as_dicts({"learning_rate": choice, "paper": comparison,
                                        "fits": a_identity.fit_summary(rows)}),
            depths=list(depths), seeds=seeds, epochs=recipe.epochs, learning_rate=learning_rate,
            verdicts={str(depth): [r["verdict"] for r in rows if r["depth"] == depth] for depth in depths},
            paper=a_identity.PAPER, paper_claim=a_identity.PAPER_CLAIM, train_digit=d.train_digit,
            train_index=d.train_index,
            ratio=a_identity.RATIO, fit_mse=a_identity.FIT_MSE, train_seconds=round(sum(r.seconds for r in results), 1))


if __name__ == "__main__":
    raise SystemExit(main(__spec__.name))
