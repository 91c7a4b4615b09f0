"""Submission bundles: what a course asks to be handed in, built from the latest complete full runs.

What each course wants (file names, per-problem PDFs, models, a zip named after the students) is
declared next to its tasks — ``SUBMISSIONS = {"X": Bundle(...)}`` in the task package — never here.
An assignment without a declaration gets the default bundle: ``X.pdf``, its code and its results.
``python -m hwkit.submit X [--authors "Name <id>" ...]`` writes ``submissions/X/`` with:

* the PDFs, each rendered from a subset of the assignment's tasks (e.g. one per problem);
* the code: the task modules, every ``hwkit`` module they import (found by reading their imports),
  and one small launcher per file name the course asks for (``p1.py``): importing it gives the task
  module's names without running anything; ``python p1.py [--quick]`` re-runs the task;
* the trained models under the names the course asks for, copied from the runs;
* ``results/<task>/`` (metrics, tables, figures with their CSV data) when the course says it must
  not have to re-run anything;
* ``README.md``: authors, what is inside, the runs it comes from (commit, dirty flag) and how to re-run.

Only complete full runs are used; ``include_quick`` lets quick runs stand in, and the README then
says in its first line that this is not a hand-in. A run the shipped code did not make — made by older
code (``hwkit.runs.RunRecord.stale``) or from a dirty tree — is refused in one ``error:`` line naming
them unless ``allow_stale`` (``--allow-stale``), and then the README says so at the top. The folder is
built in a temporary sibling and renamed into place, so ``submissions/X/`` is either the old bundle or
the whole new one; the next build removes what a killed one left. A run directory is untrusted input:
only its regular files are copied, and a symbolic link in it is skipped with a warning (a model the
course asks for is refused).
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import os
import re
import shutil
import stat
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

from hwkit import HwkitError
from hwkit.sources import code_files, module_files  # noqa: F401  (code_files: what a bundle ships, by file)

AUTHOR = re.compile(r"^\s*(?P<name>[^<>]*\S)\s*<(?P<id>[A-Za-z0-9._-]+)>\s*$")
TEMPORARY = re.compile(r"^\..+\.(?:building|old)-(?P<pid>\d+)$")   # build() folders: .X.building-<pid>, .X.old-<pid>


@dataclass(frozen=True)
class Bundle:
    """What one course asks to be handed in.

    ``reports``: PDF file name -> (subtitle, tasks shown; None = every task of the assignment).
    ``launchers``: code file name the course asks for -> the task it is (``{"part1.py": "x1"}``).
    ``numpy_only``: launchers that import and run with the standard library, numpy and matplotlib only
    (``hwkit.program.run_standalone``; checked by the tests).
    ``models``: file name asked for -> (task, path of the model inside that task's run directory).
    ``zip_name``: one zip holding everything, ``{ids}`` = the authors' ids joined by ``_``.
    ``authors``: how many authors the course requires (0: optional).
    ``results``: ship every run's metrics, tables and figures (the course will not re-run code).
    ``notes``: lines for the bundle's README (why a file differs from what the text names, ...).
    """

    reports: Mapping[str, tuple[str, tuple[str, ...] | None]]
    launchers: Mapping[str, str] = field(default_factory=dict)
    numpy_only: tuple[str, ...] = ()
    models: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    zip_name: str | None = None
    authors: int = 0
    results: bool = False
    notes: tuple[str, ...] = ()


def default_bundle(assignment: str) -> Bundle:
    """For a course that declares nothing: its PDF, its code and its results."""
    return Bundle(reports={f"{assignment}.pdf": ("", None)}, results=True)


@dataclass(frozen=True)
class Author:
    name: str
    id: str

    def __str__(self) -> str:
        return f"{self.name} <{self.id}>"


def parse_author(text: str) -> Author:
    m = AUTHOR.match(text)
    if not m:
        raise HwkitError(f"author {text!r} is not of the form \"Full Name <id>\" (the id is the username, "
                         "letters, digits, '.', '_' or '-')")
    return Author(m["name"], m["id"])


# ----------------------------------------------------------------------------- code shipped

LAUNCHER = '''"""{title}

The code of this part is ``{task_file}`` (the task, in the order of the questions) and the parts
of ``hwkit/`` it imports, shipped beside this file. ``import {stem}`` gives the task module's names
(functions, recipe constants) without running anything{tf_note}. To re-run it (results go to
``runs/{task}/<time>-s<seed>/``; ``--quick`` for a smoke run in seconds):

    python {stem}.py [--quick] [--seed N] [--data-dir DIR]
"""
import importlib.util as _util
import sys as _sys
from pathlib import Path as _Path

_HERE = _Path(__file__).resolve().parent
if str(_HERE) not in _sys.path:
    _sys.path.insert(0, str(_HERE))
{pre_import}_spec = _util.spec_from_file_location("{package}_{task}_shipped", _HERE / "{task_file}")
_task = _util.module_from_spec(_spec)
_sys.modules[_spec.name] = _task   # dataclasses look their module up while the file runs
_spec.loader.exec_module(_task)
globals().update({{k: v for k, v in vars(_task).items() if not k.startswith("__")}})

if __name__ == "__main__":
{main}
'''
# How a launcher runs its task: with the toolkit's command line, or -- where the course allows only
# numpy -- on its own (hwkit.program.run_standalone: no TensorFlow, gRPC or PDF code is imported).
TOOLKIT_MAIN = '''    from hwkit.task import main
    raise SystemExit(main("{package}.{task}"))'''
STANDALONE_MAIN = '''    from hwkit.program import run_standalone
    raise SystemExit(run_standalone(_task, name="{task}", code_module="{package}.{task}", prog="python {stem}.py"))'''


# ----------------------------------------------------------------------------- building

def required_tasks(bundle: Bundle, all_tasks: Sequence[str]) -> list[str]:
    names: list[str] = []
    for _, shown in bundle.reports.values():
        names += list(shown) if shown is not None else list(all_tasks)
    names += [task for task, _ in bundle.models.values()] + list(bundle.launchers.values())
    unknown = sorted(set(names) - set(all_tasks))
    if unknown:
        raise HwkitError(f"the submission names tasks that do not exist: {', '.join(unknown)}")
    return sorted(set(names), key=lambda n: (n[0], int(n[1:])))


def check_runs(assignment: str, tasks: Sequence[str], include_quick: bool, package: str) -> dict:
    """The run each task's part of the bundle comes from; one error naming every missing one."""
    from hwkit import runs
    chosen, missing = {}, []
    for t in tasks:
        record = runs.latest_run(t, include_quick=include_quick)
        if record is not None:
            chosen[t] = record
        elif runs.latest_run(t, include_quick=True) is not None:
            missing.append(f"{t} (only quick runs: `python -m {package}.{t}`)")
        else:
            missing.append(f"{t} (no run: `python -m {package}.{t}`)")
    if missing:
        raise HwkitError(f"submission {assignment} needs a complete full run of every task it ships; missing: "
                         f"{'; '.join(missing)} (or `python -m hwkit.report {assignment} --run`; "
                         "--include-quick builds a labelled trial bundle)")
    return chosen


def not_made_by_this_code(records: Mapping) -> dict[str, str]:
    """Task -> why its run was not made by the code a bundle ships: made by older code (files changed since,
    ``RunRecord.changed_files``) or from a dirty tree (uncommitted changes: no commit holds that code)."""
    from hwkit import runs
    why = {}
    for task, record in records.items():
        reasons = []
        if record.stale:
            reasons.append(f"made by older code ({runs.file_list(record.changed_files)} changed since)")
        if record.dirty:
            reasons.append("made from a dirty tree (uncommitted changes)")
        if reasons:
            why[task] = ", ".join(reasons)
    return why


def build(assignment: str, title: str, bundle: Bundle, all_tasks: Sequence, authors: Sequence[Author] = (),
          include_quick: bool = False, out_dir: Path | str = "submissions", package: str = "tasks",
          facts: dict | None = None, benchmarks: dict | None = None, allow_stale: bool = False) -> Path:
    """Build ``<out_dir>/<assignment>/`` for ``bundle``; return the folder. ``all_tasks``: the
    assignment's ``hwkit.report.TaskInfo`` list (for the PDFs and ``None`` = every task); ``facts``
    and ``benchmarks``: the PDFs' fixed settings and benchmark runs (``hwkit.report``). A run made by
    older code or from a dirty tree is refused unless ``allow_stale`` (then the README says so)."""
    from hwkit import report, runs
    if bundle.authors and len(authors) != bundle.authors:
        raise HwkitError(f"submission {assignment} is handed in by {bundle.authors} authors: pass "
                         f"--authors with {bundle.authors} \"Full Name <id>\" values (got {len(authors)})")
    by_name = {t.name: t for t in all_tasks}
    needed = required_tasks(bundle, list(by_name))
    records = check_runs(assignment, needed, include_quick, package)
    outdated = not_made_by_this_code(records)
    if outdated and not allow_stale:
        def advice(t: str) -> str:
            command = f"python -m {package}.{t}" + (" --quick" if records[t].quick else "")
            return f"{'commit, then ' if records[t].dirty else ''}rerun `{command}`"
        raise HwkitError(f"submission {assignment} would ship runs that its code did not make: "
                         + "; ".join(f"{t} {why}: {advice(t)}" for t, why in outdated.items())
                         + "; or pass --allow-stale to ship them as they are (the bundle's README then says so)")
    quick = sorted(t for t, r in records.items() if r.quick)

    out_dir = Path(out_dir)
    final = out_dir / assignment
    tmp = out_dir / f".{assignment}.building-{os.getpid()}"
    content = tmp / "content"
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        sweep_stale_builds(out_dir)   # this process's own leftover folder included
        content.mkdir(parents=True)
    except OSError as e:
        what = "is a file, not a folder" if os.path.isfile(out_dir) else f"cannot be written: {e.strerror or e}"
        raise HwkitError(f"{out_dir} {what}; choose another --out-dir") from None
    try:
        manifest: list[tuple[str, str]] = []
        for name, (subtitle, shown) in bundle.reports.items():
            infos = [by_name[t] for t in (shown if shown is not None else by_name)]
            report.render(assignment, f"{title}: {subtitle}" if subtitle else title, infos,
                          include_quick=include_quick, out_dir=content, filename=name, facts=facts,
                          benchmarks=benchmarks)
            manifest.append((name, f"report: {subtitle or 'the whole assignment'} "
                                   f"({', '.join(t.name.upper() for t in infos)})"))
        for name, (task, inside) in bundle.models.items():
            source = records[task].path / inside
            link = _first_link(records[task].path, inside)
            if link is not None:
                raise HwkitError(f"{runs.relative_path(records[task].path)}/{link} is a symbolic link: a bundle copies "
                                 f"only the run's own files; rerun `python -m {package}.{task}`")
            if not source.is_file():
                raise HwkitError(f"the run {source.parent.parent} has no {inside}: rerun `python -m {package}.{task}`")
            shutil.copy2(source, content / name)
            manifest.append((name, f"trained model of {task.upper()} (from {runs.shown_path(source)})"))
        code_tasks = [t for t in needed]
        # + what the launchers written below import to run their task
        launched_by = {"hwkit.program" if name in bundle.numpy_only else "hwkit.task" for name in bundle.launchers}
        modules = [package] + [f"{package}.{t}" for t in code_tasks] + sorted(launched_by)
        for relative, path in module_files(modules).items():
            target = content / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
        manifest.append((f"{package}/, hwkit/", f"the code: task modules {', '.join(code_tasks)} and the hwkit "
                                                f"modules they import"))
        for name, task in bundle.launchers.items():
            doc = by_name[task].description
            tf_note = " (numpy only: no TensorFlow is imported)" if name in bundle.numpy_only else ""
            main = (STANDALONE_MAIN if tf_note else TOOLKIT_MAIN).format(package=package, task=task,
                                                                         stem=Path(name).stem)
            (content / name).write_text(LAUNCHER.format(title=f"{name}: {doc}", task_file=f"{package}/{task}.py",
                                                        stem=Path(name).stem, task=task, package=package,
                                                        tf_note=tf_note, main=main, pre_import="" if tf_note else
                                                        f"import {package}  # noqa: F401  (TensorFlow, quietly)\n"))
            manifest.append((name, f"the code of {task.upper()} as asked ({package}/{task}.py + hwkit/)"))
        if bundle.results:
            for t, record in records.items():
                _copy_results(record.path, content / "results" / t)
            manifest.append(("results/", "per task: metrics.json, config.json, env.json, history.csv, tables/, "
                                         "figures/ (SVG, PNG, CSV data) of the run"))
        (content / "README.md").write_text(readme(assignment, title, bundle, authors, records, quick, manifest,
                                                  package, outdated))
        if bundle.zip_name:
            zip_name = bundle.zip_name.format(ids="_".join(a.id for a in authors) or "ID")
            built = tmp / "bundle"
            built.mkdir()
            _zip(content, built / zip_name)
            shutil.rmtree(content)
        else:
            built = content
        old = out_dir / f".{assignment}.old-{os.getpid()}"
        if os.path.lexists(final):
            final.rename(old)
        built.rename(final)
        _remove(old)
    finally:
        _remove(tmp)
    return final


def sweep_stale_builds(out_dir: Path) -> None:
    """Remove what killed builds left in ``out_dir`` (``.X.building-<pid>``, ``.X.old-<pid>`` of a process that
    is gone); a build of another running ``submit`` is left alone."""
    for p in out_dir.iterdir():
        m = TEMPORARY.match(p.name)
        if m and not _alive(int(m["pid"])):
            _remove(p)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False   # this process builds one bundle at a time: a folder of its pid is a leftover
    try:
        os.kill(pid, 0)   # signal 0: only asks whether the process exists (POSIX)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:
        return True        # exists, owned by another user
    return True


def _remove(path: Path) -> None:
    """Remove a file, link or folder (never following a link); quietly, as a best effort."""
    with contextlib.suppress(OSError):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def _first_link(run_dir: Path, inside: str) -> str | None:
    """The first part of ``run_dir/inside`` below ``run_dir`` that is a symbolic link, as ``inside``'s prefix."""
    path = run_dir
    for part in Path(inside).parts:
        path = path / part
        if path.is_symlink():
            return path.relative_to(run_dir).as_posix()
    return None


def _own_file(run_dir: Path, path: Path) -> bool:
    """Whether ``path`` (inside ``run_dir``) is a regular file or a real folder (False when absent). Run directories
    travel between people: a link in one could point anywhere on this machine, so it is never followed (one
    warning line), nor is a FIFO or device read."""
    try:
        mode = path.lstat().st_mode
    except OSError:
        return False
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return True
    from hwkit import runs
    what = "a symbolic link" if stat.S_ISLNK(mode) else "not a regular file"
    print(f"warning: {runs.relative_path(run_dir)}/{path.relative_to(run_dir).as_posix()} is {what}: left out of "
          "the bundle (it holds only the run's own files)", file=sys.stderr)
    return False


def _copy_results(run_dir: Path, target: Path) -> None:
    """The run's metrics, tables and figures: regular files and real folders only (``_own_file``)."""
    for name in ("metrics.json", "config.json", "env.json", "history.csv"):
        source = run_dir / name
        if _own_file(run_dir, source) and source.is_file():
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    for folder in ("tables", "figures"):
        source = run_dir / folder
        if _own_file(run_dir, source) and source.is_dir():
            shutil.copytree(source, target / folder, ignore=lambda d, names: [
                n for n in names if not _own_file(run_dir, Path(d) / n)])


def _zip(folder: Path, path: Path) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for p in sorted(folder.rglob("*")):
            if p.is_file() and "__pycache__" not in p.parts:
                z.write(p, p.relative_to(folder).as_posix())


def readme(assignment: str, title: str, bundle: Bundle, authors: Sequence[Author], records: dict,
           quick: Sequence[str], manifest: Sequence[tuple[str, str]], package: str,
           outdated: Mapping[str, str] | None = None) -> str:
    from hwkit import runs
    lines = []
    if quick:
        lines += [f"**TRIAL BUNDLE — NOT FOR HAND-IN: quick (smoke) runs stand in for {', '.join(quick)}; "
                  "their numbers are not the assignment's results.**", ""]
    if outdated:
        lines += ["**Built with --allow-stale: the code in this bundle did not make every run — "
                  + "; ".join(f"{t}: {why}" for t, why in outdated.items()) + ".**", ""]
    lines += [f"# Assignment {assignment} — {title}", ""]
    if authors:
        lines += ["## Authors", "", "| name | username |", "|---|---|"]
        lines += [f"| {a.name} | {a.id} |" for a in authors] + [""]
    lines += ["## Contents", ""] + [f"- `{name}` — {what}" for name, what in manifest] + [""]
    if bundle.notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in bundle.notes] + [""]
    lines += ["## Runs these files come from", "",
              "| task | run | mode | commit | wall time |", "|---|---|---|---|---|"]
    for t, r in records.items():
        commit = (r.commit or "not recorded") + (" (dirty)" if r.dirty else "")
        wall = r.metrics.get("wall_time_s")
        lines.append(f"| {t} | `{runs.shown_path(r.path)}` | {'quick' if r.quick else 'full'} | {commit} | "
                     f"{wall:.0f} s |" if isinstance(wall, (int, float)) else f"| {t} | {r.name} | | {commit} | |")
    env = next(iter(records.values())).env if records else {}
    versions = ", ".join(f"{k}=={env[k]}" for k in ("tensorflow", "keras", "keras_tuner", "numpy") if env.get(k))
    lines += ["", "## How to re-run", "",
              f"The runs used Python {env.get('python', '3')} with {versions or 'the packages of setup.py'} "
              "(plus matplotlib, jinja2, weasyprint for figures and PDFs). From this folder, with MNIST/CIFAR-10 in "
              "`$HWKIT_DATA_DIR` (or `~/.keras/datasets`):", "", "```bash"]
    lines += [f"python {name}   # {task.upper()}" for name, task in bundle.launchers.items()]
    lines += [f"python -m {package}.{t}" for t in records if t not in bundle.launchers.values()]
    lines += ["```", "", "Each command writes `runs/<task>/<UTC time>-s<seed>/` (add `--quick` for a smoke run in "
              "seconds, `--seed N` for another seed). Every PDF ends with a reproducibility appendix (commit, "
              "command, seed, versions, hardware, configuration of each run).", "",
              f"Built by `python -m hwkit.submit {assignment}` on "
              f"{_dt.datetime.now(_dt.timezone.utc):%Y-%m-%d %H:%M UTC}.", ""]
    return "\n".join(lines)


if __name__ == "__main__":  # python -m hwkit.submit X: the command line lives with every other entry point
    from hwkit.cli import submit_main
    sys.exit(submit_main())
