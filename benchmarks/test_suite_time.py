"""Wall time of the test suite, recorded in benchmarks/results/test_suite.json (the README's figure).

    python benchmarks/test_suite_time.py --machine-state idle [--suite fast|all|ci]

``fast`` runs ``python -m pytest -q -m "not slow" tests`` (the unit tests, for development); ``all``
runs ``python -m pytest -q tests`` (README's test command without the install); ``ci`` runs
``.ci/run`` (lint, docs build, install, the whole suite). Each runs from the repository root with
``HWKIT_DATA_DIR`` (default ../shared/datasets) and ``HWKIT_OFFLINE=1``, as CI does. Only the
user knows whether other work shared the machine: say so with ``--machine-state``.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from results import MACHINE_STATES, record  # noqa: E402

SUITES = {"fast": [sys.executable, "-m", "pytest", "-q", "-m", "not slow", "tests"],
          "all": [sys.executable, "-m", "pytest", "-q", "tests"],
          "ci": ["bash", ".ci/run"]}
SUMMARY = re.compile(r"^=*\s*(\d+ (?:passed|failed|error).*?) in [\d.]+s", re.M)


def summary(output: str) -> str:
    """pytest's last line without its own time, e.g. '456 passed, 2 skipped'."""
    found = SUMMARY.findall(output)
    return found[-1].strip() if found else "no pytest summary line"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", choices=list(SUITES), default="fast")
    parser.add_argument("--machine-state", choices=MACHINE_STATES, required=True,
                        help="was the machine idle, or shared with other work, while the suite ran?")
    args = parser.parse_args(argv)
    env = dict(os.environ, HWKIT_OFFLINE="1",
               HWKIT_DATA_DIR=os.environ.get("HWKIT_DATA_DIR", str(ROOT.parent / "shared" / "datasets")),
               PYTHONPATH=os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))
    print(f"running {' '.join(SUITES[args.suite])} ...", flush=True)
    started = time.perf_counter()
    done = subprocess.run(SUITES[args.suite], cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    sys.stdout.write(done.stdout[-3000:])
    line = summary(done.stdout)
    print(f"\n{args.suite} suite: {seconds:.1f} s, exit status {done.returncode}, {line}")
    if done.returncode:
        print("error: the suite failed; its time is not recorded", file=sys.stderr)
        return 1
    record("test_suite", {"suite": args.suite, "seconds": round(seconds, 1), "summary": line,
                          "command": " ".join(SUITES[args.suite][2:] if args.suite != "ci" else SUITES["ci"])},
           args.machine_state, argv, script="benchmarks/test_suite_time.py")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
