"""Wall times of a full regeneration (``python -m hwkit.report all --run``), recorded in benchmarks/results/.

    python -m hwkit.report all --run 2>&1 | tee regenerate.log
    python benchmarks/regeneration_time.py --log regenerate.log --machine-state idle

With ``--log``, the timing table the command prints last (one row per task, ``sum``, and ``wall``:
start to the last PDF) is read back. Without it, the per-task ``wall_time_s`` of the latest complete
full run of every task under $HWKIT_RUNS_DIR (default runs/) is used, and the command's own wall
time is unknown (not recorded). Either way it writes benchmarks/results/regeneration.json, from
which the README's and the docs' figures are generated.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from results import MACHINE_STATES, record  # noqa: E402

ROW = re.compile(r"^(\S+)\s+([\d.]+)\b")


def from_log(text: str) -> dict:
    """The last timing table of a ``report all --run`` output: task rows, then ``sum`` and ``wall``."""
    start = text.rfind("\ntask ")
    if start < 0:
        raise SystemExit("error: no timing table ('task   wall s') in the log: was it the output of "
                         "python -m hwkit.report all --run?")
    tasks, wall, kept = {}, None, []
    for line in text[start:].splitlines()[2:]:
        m = ROW.match(line)
        if not m:
            break
        if m[1] == "wall":
            wall = float(m[2])
        elif m[1] != "sum":
            tasks[m[1]] = float(m[2])
            if "not re-run" in line:    # an earlier run's time: this was not a regeneration from scratch
                kept.append(m[1])
    return {"tasks": tasks, "sum_s": round(sum(tasks.values()), 1), "wall_s": wall, "not_rerun": kept}


def run_commits(runs_root: Path) -> dict[str, int]:
    """How many of the task runs under ``runs_root`` each commit made (``env.json`` ``git.commit``, 10 characters;
    "uncommitted changes" appended for a dirty tree): the code behind a logged regeneration, read from its runs."""
    counts: dict[str, int] = {}
    for env_path in sorted(runs_root.glob("*/*/env.json")):
        try:
            git = json.loads(env_path.read_text()).get("git") or {}
        except (OSError, ValueError):
            continue
        key = str(git.get("commit") or "unknown")[:10] + (" with uncommitted changes" if git.get("dirty") else "")
        counts[key] = counts.get(key, 0) + 1
    return counts


def from_runs() -> dict:
    from hwkit import runs
    from hwkit.task import discover_tasks
    tasks = {}
    for t in discover_tasks():
        record_ = runs.latest_run(t.name)
        if record_ is not None and isinstance(record_.metrics.get("wall_time_s"), (int, float)):
            tasks[t.name] = float(record_.metrics["wall_time_s"])
    if not tasks:
        raise SystemExit(f"error: no complete full run under {runs.runs_root()}: nothing to record")
    return {"tasks": tasks, "sum_s": round(sum(tasks.values()), 1), "wall_s": None, "not_rerun": []}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", type=Path, help="saved output of python -m hwkit.report all --run")
    parser.add_argument("--machine-state", choices=MACHINE_STATES, required=True,
                        help="was the machine idle, or shared with other work, during the regeneration?")
    args = parser.parse_args(argv)
    result = from_log(args.log.read_text()) if args.log else from_runs()
    result["source"] = f"the timing table of {args.log.name}" if args.log else "the runs' metrics.json wall_time_s"
    if args.log:   # the regenerated clone's runs (a task rerun later shows as a second commit)
        result["run_commits"] = run_commits(args.log.resolve().parent / "runs")
    wall = "unknown" if result["wall_s"] is None else f"{result['wall_s']:.0f} s"
    print(f"{len(result['tasks'])} tasks, sum {result['sum_s']:.0f} s, wall {wall}")
    record("regeneration", result, args.machine_state, argv, script="benchmarks/regeneration_time.py")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
