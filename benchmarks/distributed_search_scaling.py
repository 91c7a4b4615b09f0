"""The same KerasTuner search with 1 and 2 worker processes: wall time, trials/hour, per-trial slowdown.

    python benchmarks/distributed_search_scaling.py [--workers 1,2] [--trials 8] [--repeat 1] [--data-dir D]
        [--machine-state idle|loaded]   # records the table in benchmarks/results/ (benchmarks/results.py)

Runs ``python -m tasks.b1 --quick --workers N --trials T --tune-budget 100000`` for each N: a
seeded random search of T trials (the same hyperparameters in the same order whatever N, since
the chief's oracle draws them; no target is reachable by a quick trial, so all T run), each trial
one epoch on 1 000 MNIST rows. The search wall time is the chief's, from the start of the search
to the last result (it includes starting the workers: Python, TensorFlow, the data); the trial
seconds are measured by the chief's oracle from hand-out to result. Per-trial slowdown = mean
trial seconds with N workers / with 1 worker: what sharing the cores costs each trial.
A benchmark, not a test: it chooses nothing. Runs go to a temporary runs folder.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from goals import Goal, print_goals, summarise  # noqa: E402
from results import add_machine_state, record  # noqa: E402


def one_search(workers: int, trials: int, seed: int, data_dir: str | None) -> dict:
    with tempfile.TemporaryDirectory(prefix="hwkit-scaling-") as runs_dir:
        env = dict(os.environ, HWKIT_RUNS_DIR=runs_dir, PYTHONPATH=os.pathsep.join(
            [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))
        command = [sys.executable, "-m", "tasks.b1", "--quick", "--workers", str(workers), "--trials", str(trials),
                   "--tune-budget", "100000", "--seed", str(seed), *(["--data-dir", data_dir] if data_dir else [])]
        started = time.perf_counter()
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        total = time.perf_counter() - started
        if result.returncode:
            sys.exit(f"error: {' '.join(command)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
        (run,) = Path(runs_dir, "b1").iterdir()
        metrics = json.loads((run / "metrics.json").read_text())
        table = json.loads((run / "tables" / "trials.json").read_text())
    seconds = [t["seconds"] for t in table if t["seconds"]]
    return {"workers": workers, "search_s": metrics["search_seconds"], "command_s": total, "trials": len(table),
            "trial_s": statistics.mean(seconds), "trials_per_hour": 3600 * len(table) / metrics["search_seconds"],
            "by_worker": {w: sum(t["worker"] == w for t in table) for w in sorted({t["worker"] for t in table})},
            "settings": [tuple(sorted((k, v) for k, v in t.items() if k not in ("seconds", "worker", "score")))
                         for t in table]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="1,2",
                        help="comma-separated worker counts, run in this order (default 1,2; "
                             "2,1 swaps the order to see how much the load drifts)")
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir")
    add_machine_state(parser)
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]

    results = {n: [] for n in counts}
    for repeat in range(args.repeat):
        for n in counts:
            r = one_search(n, args.trials, args.seed, args.data_dir)
            results[n].append(r)
            print(f"repeat {repeat + 1}: {n} worker(s): search {r['search_s']:.1f} s ({r['command_s']:.1f} s whole "
                  f"command), {r['trials']} trials, {r['trials_per_hour']:.0f} trials/h, mean trial "
                  f"{r['trial_s']:.1f} s, trials per worker {r['by_worker']}", flush=True)
    first = results[counts[0]][0]["settings"]
    same = all(r["settings"] == first for rs in results.values() for r in rs)

    smallest = min(counts)
    base = statistics.median(r["trial_s"] for r in results[smallest])
    print(f"\nDistributed search scaling (tasks.b1 --quick search, {args.trials} trials, {os.cpu_count()} CPU cores, "
          f"load average {os.getloadavg()[0]:.1f}; same trials in every run: {'yes' if same else 'NO'})")
    print(f"{'workers':>7} {'search s':>9} {'trials/h':>9} {'mean trial s':>13} {'per-trial slowdown':>19}")
    table = {}
    for n in counts:
        rs = results[n]
        trial_s = statistics.median(r["trial_s"] for r in rs)
        table[str(n)] = {"search_s": statistics.median(r["search_s"] for r in rs), "trial_s": trial_s,
                         "trials_per_hour": statistics.median(r["trials_per_hour"] for r in rs),
                         "slowdown": trial_s / base, "repeats": len(rs)}
        print(f"{n:>7} {table[str(n)]['search_s']:>9.1f} "
              f"{table[str(n)]['trials_per_hour']:>9.0f} {trial_s:>13.1f} {trial_s / base:>18.2f}x")
    # Goal: N workers finish the search no slower than one worker does (median of the repeats).
    one = statistics.median(r["search_s"] for r in results[smallest])
    print_goals([summarise(Goal(f"{n} workers <= {smallest} worker(s)", one), [r["search_s"] for r in results[n]])
                 for n in counts if n != smallest],
                "Goal: scale-out is not slower than the smallest run (search wall time)")
    record("distributed_search_scaling", {"trials": args.trials, "order": counts, "workers": table,
                                          "same_trials": same, "load_average": round(os.getloadavg()[0], 1)},
           args.machine_state)


if __name__ == "__main__":
    main()
