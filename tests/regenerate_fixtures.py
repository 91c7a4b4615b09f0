"""Regenerate the fixture runs of ``tests/fixtures/runs/`` from today's code: one command.

    python tests/regenerate_fixtures.py            # every task (quick mode, seed 0)
    python tests/regenerate_fixtures.py b3 e1      # these tasks (and, first, the tasks they read)
    python tests/regenerate_fixtures.py cifar10_tricks   # a benchmark run a report shows, made small

Each task runs ``python -m tasks.<name> --quick --seed 0`` into a fresh temporary runs folder, in the
order their ``REQUIRES`` ask for; then each requested task's run replaces its folder under
``tests/fixtures/runs/<name>/`` with the files a report reads (JSON and CSV: config, env, metrics,
history, tables) — no models, figures, TensorBoard logs or console output. Afterwards render the golden
texts again and review the diff: ``HWKIT_UPDATE_GOLDEN=1 python -m pytest tests/test_same_numbers.py``.
Needs the real data (``HWKIT_DATA_DIR``), like the slow tests.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "runs"
KEPT = {".json", ".csv"}
# Benchmark runs a report shows (REPORT_BENCHMARKS), made small: name -> the script's command line.
BENCHMARKS = {"cifar10_tricks": ["benchmarks/cifar10_tricks.py", "--table", "--epochs", "1", "--train-subset", "512",
                                 "--width", "8"]}
DROPPED_DIRS = {"models", "figures", "tensorboard", "backup"}


def _kept_files(run_dir: Path):
    for path in sorted(run_dir.rglob("*")):
        rel = path.relative_to(run_dir)
        if path.is_file() and path.suffix in KEPT and not DROPPED_DIRS.intersection(rel.parts[:-1]):
            yield rel


def _run(command: list[str], env: dict, what: str) -> bool:
    started = time.monotonic()
    print(f"running {what}", flush=True)
    done = subprocess.run([sys.executable, *command], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        print(done.stdout[-3000:] + done.stderr[-3000:], file=sys.stderr)
        print(f"error: {what} failed (exit {done.returncode}); fixtures left unchanged", file=sys.stderr)
        return False
    print(f"  {time.monotonic() - started:.0f} s", flush=True)
    return True


def _replace_fixture(runs_dir: Path, name: str) -> None:
    (run_dir,) = (runs_dir / name).iterdir()
    target = FIXTURES / name
    shutil.rmtree(target, ignore_errors=True)
    for rel in _kept_files(run_dir):
        (target / run_dir.name / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(run_dir / rel, target / run_dir.name / rel)
    print(f"fixture {target.relative_to(ROOT)}/{run_dir.name}")


def main(names: list[str]) -> int:
    sys.path.insert(0, str(ROOT))
    from hwkit.task import discover_tasks, execution_order, task_info

    benchmarks = [n for n in names if n in BENCHMARKS] if names else list(BENCHMARKS)
    wanted = [task_info(n) for n in names if n not in BENCHMARKS] if names else discover_tasks()
    by_name = {t.name: t for t in discover_tasks()}
    closure, todo = {}, list(wanted)
    while todo:
        t = todo.pop()
        if t.name not in closure:
            closure[t.name] = t
            todo.extend(by_name[n] for n in t.requires)
    with tempfile.TemporaryDirectory(prefix="hwkit-fixtures-") as tmp:
        runs_dir = Path(tmp) / "runs"
        # HWKIT_STRICT_FIGURES: a figure that breaks the house style (hwkit.plots) fails the regeneration.
        env = {**os.environ, "HWKIT_RUNS_DIR": str(runs_dir), "PYTHONPATH": str(ROOT), "HWKIT_STRICT_FIGURES": "1"}
        for t in execution_order(list(closure.values())):
            if not _run(["-m", f"tasks.{t.name}", "--quick", "--seed", "0"], env, f"{t.name} --quick --seed 0"):
                return 2
        for name in benchmarks:
            if not _run(BENCHMARKS[name], env, " ".join(BENCHMARKS[name])):
                return 2
        for name in [t.name for t in wanted] + benchmarks:
            _replace_fixture(runs_dir, name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
