"""C2: Q1.1-Q1.3 — which Part 1 runs over-fit and which under-fit, decided from the measured C1 curves.

Reads the latest C1 run (its directory is recorded in this run's metrics) and applies
``hwkit.assignments.c_coursework.diagnose`` to each of the nine runs: final train-test gap and how it grew,
training-accuracy level against the best run, jitter of the late training curve. The thresholds
are named constants there and quoted in the report; the answers to Q1.1-Q1.3 are written around
the verdicts this produces. Also plots the train-test gap of every run against samples processed.
"""
from __future__ import annotations

from hwkit import runs
from hwkit.assignments import c_coursework
from hwkit.task import main

REQUIRES = {"c1": c_coursework.PROTOCOL_TABLES}  # tasks whose latest runs this task reads, and what of them

SOURCE_TASK = "c1"


def run(args, run):
    source = runs.require_run(SOURCE_TASK, args.quick, needs=REQUIRES[SOURCE_TASK], reader=run.task)
    summary, curves = source.table("summary"), source.table("curves")
    verdicts = c_coursework.diagnose(summary, curves, source.table("per_example"))
    run.save_table("verdicts", verdicts)
    for v in verdicts:
        print(f"model {v['model']} setting {v['setting']} ({v['epochs']}, {v['learning_rate']}): {v['verdict']:13s} "
              f"train {v['final_train_accuracy']:.4f} test {v['final_test_accuracy']:.4f} gap {v['final_gap']:+.4f}")

    title = "Generalisation gap (train - test accuracy) of the Part 1 runs"
    run.save_figure(c_coursework.gap_figure(summary, curves, title), "gaps")
    by_verdict = {}
    for v in verdicts:
        by_verdict.setdefault(v["verdict"], []).append(f"model {v['model']} setting {v['setting']}")
    run.log(source_run=str(source.path), source_quick=source.quick, verdicts=by_verdict,
            **c_coursework.fit_overview(verdicts),
            thresholds={"overfit_gap": c_coursework.OVERFIT_GAP, "underfit_margin": c_coursework.UNDERFIT_MARGIN,
                        "unstable_std": c_coursework.UNSTABLE_STD, "chance_level": c_coursework.CHANCE_LEVEL})


if __name__ == "__main__":
    raise SystemExit(main(__spec__.name))
