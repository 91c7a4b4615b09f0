"""Each task's latest measured results, from the latest complete full runs: benchmarks/results/assignments.json.

    python benchmarks/assignment_results.py        # after python -m hwkit.report all --run (or single tasks)

For every task with a complete full run under $HWKIT_RUNS_DIR (default runs/): its key metrics
(``KEY_METRICS``: what its assignment asks for), wall time, run directory (relative), commit and
date. Quick runs are never used. The assignment pages of the docs render their "latest measured
results" from this file (``benchmarks/results.py``); a task with no full run shows "not measured yet".
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from results import results_dir  # noqa: E402

# task -> the metrics.json keys that answer its question (missing keys are left out).
KEY_METRICS = {
    "a1": ("mean_d_const", "mean_d_id"), "a2": ("mean_d_const", "mean_d_id"), "a3": ("all_claims_verified",),
    "a4": ("all_claims_verified",), "a5": ("verdicts",),
    "b1": ("test_accuracy", "target_reached"), "b2": ("narrow_over_wide_error",), "b3": ("test_errors",),
    "b4": ("best_setting", "best_error"), "b5": ("mean_image_error",), "b6": ("reached",), "b7": ("reached",),
    "b8": ("reached",),
    "c1": ("final_test_accuracy",), "c2": ("largest_gap",), "c3": ("chosen_l2",), "c4": ("best_test_accuracy",),
    "c5": ("all_passed",), "c6": ("final_test_accuracy",), "c7": ("final_test_accuracy",),
    "c8": ("model4_parameters", "model5_parameters"), "c9": ("rank_one_equal",),
    "c10": ("final_test_accuracy", "parameters"),
    "d1": ("gradient_max_abs_error",), "d2": ("all_correct",), "d3": ("worst_rel_error",), "d4": ("worst_check",),
    "d5": ("test_error", "required_met", "aim_met"), "d6": ("test_accuracy", "test_accuracy_tta"),
    "e1": ("test_l1",), "e2": ("test_accuracy",), "e3": ("l1_ratio",), "e4": ("final_test_accuracy",),
    "e5": ("final_test_accuracy",), "e6": ("all_commute",), "e7": ("first_failing_shift_max_pool",),
    "e8": ("all_agree",),
}


def collect() -> dict:
    from hwkit import runs
    from hwkit.task import discover_tasks
    out = {}
    for t in discover_tasks():
        record = runs.latest_run(t.name)
        if record is None:
            continue
        m = record.metrics
        out[t.name] = {"metrics": {k: m[k] for k in KEY_METRICS.get(t.name, ()) if k in m},
                       "wall_time_s": m.get("wall_time_s"), "run": record.relative_path, "commit": record.commit,
                       "dirty": record.dirty, "stale": record.stale,
                       "date": f"{record.name[:4]}-{record.name[4:6]}-{record.name[6:8]}"}   # <UTC time>-s<seed>
    return out


def main(argv=None) -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    tasks = collect()
    path = results_dir() / "assignments.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"generated": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                                "tasks": tasks}, indent=1) + "\n")
    print(f"{len(tasks)} tasks with a complete full run written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
