"""Measured figures, written by the code that measured them, and the tables the README and docs show.

Every benchmark script takes ``--machine-state idle|loaded``: given it, the script appends what it
measured to ``benchmarks/results/<name>.json`` with the date, commit, machine and that flag (whether
other work shared the machine: only the user knows). Nothing else writes a measured number into the
docs: the README's results block and the docs' result sections are generated from these files.

    python benchmarks/results.py                  # print the README block
    python benchmarks/results.py --write-readme   # rewrite README's <!-- results:begin --> ... <!-- results:end -->
    python benchmarks/results.py --check          # exit 1 when README's block is not what the files give
    python benchmarks/results.py --render NAME    # one docs section (NAME as in <!-- results:NAME -->)

``$HWKIT_RESULTS_DIR`` moves the folder (tests).
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import os
import platform
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
MACHINE_STATES = ("idle", "loaded")
README = ROOT / "README.md"
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"
MARKER = re.compile(r"<!-- results:([\w:.-]+) -->")


def results_dir() -> Path:
    return Path(os.environ.get("HWKIT_RESULTS_DIR") or ROOT / "benchmarks" / "results")


# ----------------------------------------------------------------------------- writing

def add_machine_state(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--machine-state", choices=MACHINE_STATES,
                        help="record the result in benchmarks/results/ and say whether the machine was idle or shared "
                             "with other work while it ran (without it, nothing is recorded)")


def _finite(obj: Any) -> Any:
    """JSON has no infinity: a target never reached (median inf) is written as null."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {str(k): _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def _git(*args: str) -> str | None:
    try:
        r = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    return r.stdout.strip() if r.returncode == 0 else None


def machine() -> dict:
    """What the figure was measured on: core count, CPU model, OS, Python."""
    model = None
    try:
        model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("model name")), None)
    except OSError:
        pass
    return {"cpus": os.cpu_count(), "cpu": model or platform.processor() or None, "platform": platform.platform(),
            "python": platform.python_version()}


def record(name: str, results: dict, machine_state: str | None, argv: list[str] | None = None,
           script: str | None = None) -> Path | None:
    """Append one measurement to ``<results dir>/<name>.json``; without a machine state, record nothing."""
    command = "python " + " ".join([script or f"benchmarks/{name}.py",
                                    *map(shlex.quote, sys.argv[1:] if argv is None else argv)])
    if machine_state is None:
        print(f"\n(not recorded: rerun with --machine-state idle|loaded to add it to benchmarks/results/{name}.json)")
        return None
    path = results_dir() / f"{name}.json"
    data = json.loads(path.read_text()) if path.is_file() else {"benchmark": name, "entries": []}
    diff = _git("status", "--porcelain", "--untracked-files=no")
    data["entries"].append(_finite({
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "commit": (_git("rev-parse", "--short=10", "HEAD") or None), "dirty": bool(diff) if diff is not None else None,
        "machine": machine(), "machine_state": machine_state, "command": command, "results": results}))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.part")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    tmp.replace(path)
    print(f"\nrecorded in {path}; python benchmarks/results.py --write-readme updates README's results block")
    return path


def refuse_reduced(parser: argparse.ArgumentParser, args: argparse.Namespace, *flags: str) -> None:
    """A reduced run (a subset, other targets) is not the benchmark's figure: it may not be recorded."""
    used = [f for f in flags if getattr(args, f.lstrip("-").replace("-", "_"), None) not in (None, False)]
    if args.machine_state and used:
        parser.error(f"{', '.join(used)} makes a reduced run: it is not recorded; drop --machine-state")


# ----------------------------------------------------------------------------- reading

def entries(name: str) -> list[dict]:
    path = results_dir() / f"{name}.json"
    if not path.is_file():
        return []
    data = json.loads(path.read_text())
    return data.get("entries", []) if isinstance(data, dict) else []


def latest(name: str, where: Callable[[dict], bool] = lambda e: True) -> dict | None:
    found = [e for e in entries(name) if where(e)]
    return found[-1] if found else None


def provenance(entry: dict) -> str:
    m = entry.get("machine") or {}
    cpu = f"{m.get('cpus')} cores" + (f", {m['cpu']}" if m.get("cpu") else "")
    dirty = " + uncommitted changes" if entry.get("dirty") else ""
    return (f"{entry['date'][:10]}, commit `{entry.get('commit')}`{dirty}, {cpu}, machine "
            f"**{entry.get('machine_state')}**: `{entry.get('command')}`")


def not_measured(command: str) -> str:
    return f"not measured yet — run `{command}`"


def missing(command: str) -> str:
    return f"Not measured yet — run `{command}`."


def _s(v: float | None) -> str:
    return "not reached" if v is None else f"{v:.1f} s"


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{100 * v:.2f}%"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(str(c) for c in r) + " |" for r in rows])


# ----------------------------------------------------------------------------- docs sections

GOAL_COMMANDS = {name: f"python benchmarks/{name}.py --repeat 3 --machine-state idle"
                 for name in ("mnist_time_to_accuracy", "cifar10_time_to_accuracy")}


def goals_section(name: str) -> str:
    entry = latest(name, lambda e: e["results"].get("split", "test") == "test")
    if entry is None:
        return missing(GOAL_COMMANDS[name])
    rows = [[g["goal"], f"{g['goal_s']:.0f} s", _s(g["median_s"]), f"{_s(g['min_s'])} – {_s(g['max_s'])}",
             "—" if g["ratio"] is None else f"{g['ratio']:.2f}", "yes" if g["met"] else "**no**", g["repeats"]]
            for g in entry["results"]["goals"]]
    extra = entry["results"].get("hyperparameters")
    recipe = entry["results"].get("recipe")
    return "\n".join([_table(["goal", "goal", "median", "min – max", "ratio", "met", "runs"], rows), "",
                      "Training seconds (evaluation excluded)." + (f" Recipe: {recipe}." if recipe else "")
                      + f" Measured {provenance(entry)}."
                      + (f" Hyperparameters {extra} from {entry['results'].get('hyperparameters_from')}." if extra
                         else "")])


def tricks_section(_: str = "") -> str:
    entry = latest("cifar10_tricks", lambda e: e["results"].get("mode") == "table")
    if entry is None:
        return missing("python benchmarks/cifar10_tricks.py --table --machine-state idle")
    rows = []
    for r in entry["results"]["rows"]:
        per_epoch = sorted((int(k.split("_")[1]), v) for k, v in r.items() if re.fullmatch(r"epoch_\d+", k))
        epochs = " / ".join(f"{100 * a:.1f}" for _, a in per_epoch)
        reached = ["—" if f"epochs_to_{t}" not in r else "not reached" if r[f"epochs_to_{t}"] is None
                   else f"epoch {r[f'epochs_to_{t}']}, {r[f'seconds_to_{t}']:.0f} s" for t in ("85", "90")]
        effect = "—" if r.get("effect_points") is None else f"{r['effect_points']:+.1f}"
        rows.append([r["change"], epochs + "%", _pct(r["val_accuracy_tta"]), *reached, effect])
    return "\n".join([_table(["taken away from the recipe", "validation accuracy per epoch", "6-view TTA",
                              "85% reached", "90% reached", "recipe minus variant (points)"], rows), "",
                      f"One seed per row: differences of a few tenths of a point are not shown to be real. "
                      f"Measured {provenance(entry)}."])


def cifar10_steps_section(_: str = "") -> str:
    """Seconds per epoch of D6's network under other settings (``cifar10_tricks.py --steps N``), latest of each."""
    keys = ("precision", "batch_size", "jit", "width", "no_whitening", "no_identity_init")
    latest_by = {}
    for e in entries("cifar10_tricks"):
        if e["results"].get("mode") == "steps":
            latest_by[tuple(e["results"]["settings"].get(k) for k in keys)] = e
    if not latest_by:
        return missing("python benchmarks/cifar10_tricks.py --steps 8 [--precision float32 | --batch-size 512 | --jit]"
                       " --machine-state idle")
    rows = [[*("default" if v is None else v for v in key), f"{e['results']['seconds_per_epoch']:.1f} s",
             f"{e['date'][:10]}, {e['machine_state']}, `{e.get('commit')}`"] for key, e in latest_by.items()]
    return _table([*keys, "s per epoch of 45 000 images", "measured"], rows)


def thread_scaling_section(_: str = "") -> str:
    entry = latest("thread_scaling")
    if entry is None:
        return missing("python benchmarks/thread_scaling.py --repeat 3 --machine-state idle")
    rows = [[n, f"{r['ms_1_thread']:.0f}", f"{r['ms_2_threads']:.0f}", f"{r['speedup']:.2f}x"]
            for n, r in entry["results"]["networks"].items()]
    return "\n".join([_table(["network", "ms/step, 1 thread", "ms/step, 2 threads", "second thread"], rows), "",
                      f"Measured {provenance(entry)}."])


def peak_flops_section(_: str = "") -> str:
    entry = latest("peak_flops")
    if entry is None:
        return missing("python benchmarks/peak_flops.py --machine-state idle")
    r = entry["results"]
    ops = [[o["op"], o["dtype"], f"{o['gflops']:.0f}", f"{o['gflops_after']:.0f}" if "gflops_after" in o else "—"]
           for o in r["ops"]]
    nets = [[n, v["batch"], f"{v['step_s'] * 1000:.0f}", f"{v['step_gflop']:.1f}", f"{v['gflops']:.0f}",
             f"{v['of_bf16_peak']:.2f}"] for n, v in r["networks"].items()]
    return "\n".join([_table(["op", "dtype", "GFLOP/s", "GFLOP/s (again, after)"], ops), "",
                      _table(["network", "batch", "ms/step", "GFLOP/step", "GFLOP/s", "of bf16 peak"], nets), "",
                      f"Peak: bfloat16 {r['bf16_peak_gflops']:.0f} GFLOP/s, float32 {r['fp32_peak_gflops']:.0f} "
                      f"GFLOP/s; goal: D6 at ≥ {r['goal_fraction']} of the bfloat16 peak. FLOPs: "
                      f"{r['flop_convention']}. Median of {r['repeat']}. Measured {provenance(entry)}."])


def peers_race_section(_: str = "") -> str:
    entry = latest("peers_race")
    if entry is None:
        return missing("python benchmarks/peers/race.py --mnist --repeat 3 --machine-state idle")
    out = []
    for name, race in entry["results"].items():
        if not isinstance(race, dict) or "rows" not in race:
            continue
        rows = [[f"{name} {r['target']}", _s(r["hwkit_s"]), _s(r["peer_s"]),
                 "—" if r["ratio"] is None else f"{r['ratio']:.2f}", "yes" if r["met"] else "**no**"]
                for r in race["rows"]]
        out += [_table(["target", "hwkit s", "peer s", "hwkit/peer", "≤ 1.0"], rows), ""]
    return "\n".join(out + [f"Median of {entry['results']['repeat']} seeds; training seconds. "
                            f"Measured {provenance(entry)}."])


def numpy_vs_keras_section(_: str = "") -> str:
    entry = latest("numpy_vs_keras_epoch_time")
    if entry is None:
        return missing("python benchmarks/numpy_vs_keras_epoch_time.py --machine-state idle")
    r = entry["results"]
    rows = [[k, f"{r[k]['seconds_per_epoch']:.2f} s", _pct(r[k]["test_accuracy"])] for k in ("numpy", "keras")]
    return "\n".join([_table(["implementation", "s/epoch (median after the first)", "test accuracy"], rows), "",
                      f"Model {r['model']}, learning rate {r['lr']}, {r['epochs']} epochs; numpy / Keras time per "
                      f"epoch {r['ratio']:.2f}. Measured {provenance(entry)}."])


def distributed_section(_: str = "") -> str:
    entry = latest("distributed_search_scaling")
    if entry is None:
        return missing("python benchmarks/distributed_search_scaling.py --trials 6 --machine-state idle"
                            )
    rows = [[w, f"{r['search_s']:.0f} s", f"{r['trials_per_hour']:.0f}", f"{r['trial_s']:.1f} s",
             f"{r['slowdown']:.2f}x"] for w, r in entry["results"]["workers"].items()]
    same = "yes" if entry["results"].get("same_trials") else "no"
    return "\n".join([_table(["workers", "search wall time", "trials/h", "mean trial", "per-trial slowdown"], rows),
                      "", f"Same trials in every run: {same}; load average at the end "
                          f"{entry['results'].get('load_average')}. Measured {provenance(entry)}."])


SUITES = {"fast": "the fast suite (`-m \"not slow\"`)", "all": "the whole suite", "ci": "`.ci/run` (lint, docs, tests)"}


def test_suite_section(_: str = "") -> str:
    rows = []
    for suite, what in SUITES.items():
        e = latest("test_suite", lambda e, s=suite: e["results"].get("suite") == s)
        cmd = f"python benchmarks/test_suite_time.py --suite {suite} --machine-state idle"
        rows.append([what, not_measured(cmd)] if e is None else
                     [what, f"{e['results']['seconds'] / 60:.1f} min ({e['results']['summary']}); {provenance(e)}"])
    return _table(["what", "wall time"], rows)


REGENERATE = ("python -m hwkit.report all --run > regenerate.log 2>&1; "
              "python benchmarks/regeneration_time.py --log regenerate.log --machine-state idle")


def regeneration_section(_: str = "") -> str:
    entry = latest("regeneration")
    if entry is None:
        return missing(REGENERATE)
    r = entry["results"]
    longest = sorted(r["tasks"].items(), key=lambda kv: -kv[1])
    wall = "not recorded" if r.get("wall_s") is None else f"**{r['wall_s'] / 60:.1f} min**"
    return "\n".join([f"Start to last PDF: {wall} (goal 60 min); the tasks' own wall times add up to "
                      f"{r['sum_s']:.0f} s over {len(r['tasks'])} tasks (from {r['source']}).", "",
                      _table(["task", "wall s"], [[t, f"{s:.0f}"] for t, s in longest]), "",
                      *(["The runs in that clone, by the commit that made them: "
                         + ", ".join(f"`{c}` {n}" for c, n in r["run_commits"].items()) + ".", ""]
                        if r.get("run_commits") else []),
                      f"Measured {provenance(entry)}."])


# ----------------------------------------------------------------------------- assignments' results

def assignments() -> dict:
    path = results_dir() / "assignments.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, dict):
        return "; ".join(f"{k} {_value(x)}" for k, x in v.items())
    return str(v)


def assignment_section(letter: str) -> str:
    """The latest complete full run of each task of ``letter``: its key metrics, wall time, run, commit, date."""
    names = sorted((p.stem for p in (ROOT / "tasks").glob(f"{letter.lower()}[0-9]*.py")),
                   key=lambda n: int(n[1:]))
    recorded = assignments().get("tasks", {})
    rows = []
    for n in names:
        r = recorded.get(n)
        if r is None:
            rows.append([n.upper(), not_measured(f"python -m tasks.{n} && python benchmarks/assignment_results.py"),
                         "", "", ""])
            continue
        metrics = "; ".join(f"{k} {_value(v)}" for k, v in r["metrics"].items()) or "—"
        wall = "—" if r.get("wall_time_s") is None else f"{r['wall_time_s']:.0f} s"
        older = " (made by older code)" if r.get("stale") else ""
        rows.append([n.upper(), metrics, wall, f"`{r['run']}`{older}", f"`{r.get('commit')}`, {r['date'][:10]}"])
    made = assignments().get("generated")
    note = (f"From `benchmarks/results/assignments.json` (written {made[:10]} by "
            "`python benchmarks/assignment_results.py` from the latest complete full runs).") if made else \
        "No full runs recorded yet: run the tasks, then `python benchmarks/assignment_results.py`."
    return "\n".join([_table(["task", "key results", "wall time", "run", "commit, date"], rows), "", note])


def assignment_metric(task: str, key: str) -> Any:
    r = assignments().get("tasks", {}).get(task)
    return None if r is None else r["metrics"].get(key)


# ----------------------------------------------------------------------------- the README block

def readme_block() -> str:
    """One table: the goals the project is held to and what was last measured for each."""
    rows = []

    def goal(name: str, which: str, target: str) -> None:
        e = latest(name, lambda e: e["results"].get("split", "test") == "test")
        g = None if e is None else next((g for g in e["results"]["goals"] if g["goal"].startswith(which)), None)
        rows.append([f"{which} ({name.split('_')[0].upper()})", target,
                     not_measured(GOAL_COMMANDS[name]) if g is None else
                     f"{_s(g['median_s'])} median of {g['repeats']} ({e['date'][:10]}, {e['machine_state']})"])

    goal("mnist_time_to_accuracy", "99.0% test accuracy", "≤ 8 s")
    goal("mnist_time_to_accuracy", "99.5% test accuracy", "≤ 40 s")
    goal("cifar10_time_to_accuracy", "80% test accuracy", "≤ 300 s")
    goal("cifar10_time_to_accuracy", "90% test accuracy", "≤ 1200 s")
    for task, key, target in (("b1", "test_accuracy", "> 98%"), ("d6", "test_accuracy", "≥ 85%, aim 90%"),
                              ("d5", "test_error", "< 5%, aim 2%")):
        v = assignment_metric(task, key)
        rows.append([f"{task.upper()} {key.replace('_', ' ')}", target,
                     not_measured(f"python -m tasks.{task} && python benchmarks/assignment_results.py") if v is None
                     else f"{_pct(v)} (`{assignments()['tasks'][task]['run']}`)"])
    e = latest("regeneration")
    rows.append(["every task + five PDFs (`hwkit.report all --run`)", "≤ 60 min",
                 not_measured(REGENERATE) if e is None
                 or e["results"].get("wall_s") is None else
                 f"{e['results']['wall_s'] / 60:.1f} min ({e['date'][:10]}, {e['machine_state']})"])
    for suite in ("fast", "ci"):
        e = latest("test_suite", lambda e, s=suite: e["results"].get("suite") == s)
        rows.append([SUITES[suite], "—",
                     not_measured(f"python benchmarks/test_suite_time.py --suite {suite} --machine-state idle")
                     if e is None else f"{e['results']['seconds'] / 60:.1f} min ({e['date'][:10]}, "
                                       f"{e['machine_state']})"])
    return "\n".join([_table(["measured", "goal", "latest"], rows), "",
                      "Generated by `python benchmarks/results.py --write-readme` from `benchmarks/results/*.json`; "
                      "details in [Benchmarks](docs/benchmarks.md)."])


def readme_with_block(text: str) -> str:
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[:start] + "\n" + readme_block() + "\n" + text[end:]


# ----------------------------------------------------------------------------- docs markers

SECTIONS: dict[str, Callable[[str], str]] = {
    "mnist_time_to_accuracy": goals_section, "cifar10_time_to_accuracy": goals_section,
    "cifar10_tricks": tricks_section, "cifar10_steps": cifar10_steps_section, "thread_scaling": thread_scaling_section,
    "numpy_vs_keras_epoch_time": numpy_vs_keras_section, "distributed_search_scaling": distributed_section,
    "test_suite": test_suite_section, "regeneration": regeneration_section,
    "peak_flops": peak_flops_section, "peers_race": peers_race_section,
    **{f"assignment:{x}": (lambda _name, x=x: assignment_section(x)) for x in "ABCDE"},
}


def render(name: str) -> str:
    if name not in SECTIONS:
        raise KeyError(f"unknown results section {name!r}; known: {', '.join(SECTIONS)}")
    return SECTIONS[name](name)


def fill_markers(text: str) -> str:
    """Each ``<!-- results:NAME -->`` of a docs page followed by its generated section."""
    return MARKER.sub(lambda m: m.group(0) + "\n\n" + render(m.group(1)) + "\n", text)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write-readme", action="store_true", help="rewrite README.md's results block")
    parser.add_argument("--check", action="store_true", help="exit 1 when README.md's block differs")
    parser.add_argument("--render", metavar="NAME", help=f"print one docs section ({', '.join(SECTIONS)})")
    args = parser.parse_args(argv)
    if args.render:
        print(render(args.render))
        return 0
    if not (args.write_readme or args.check):
        print(readme_block())
        return 0
    text = README.read_text()
    wanted = readme_with_block(text)
    if args.write_readme:
        README.write_text(wanted)
        print(f"rewrote the results block of {README}")
    elif args.check:
        if wanted != text:
            print("README.md's results block differs from benchmarks/results/: run "
                  "python benchmarks/results.py --write-readme", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
