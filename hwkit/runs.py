"""Run directories: one folder per task run, never overwritten, read back by the reports.

Layout of ``runs/<task>/<UTC-time>-s<seed>[-quick]/``::

    config.json    resolved flags and settings, run key, the code's fingerprint (``code.files``: each file of the
                   task and of the project modules it imports -> SHA-256); data files read (at the end)
    env.json       versions, backend, CPU/GPU, logical devices, dtype policy, git commit / dirty flag / diff hash,
                   sys.argv, the command and the working directory
    history.csv    per-epoch Keras logs (CSVLogger), each epoch once even across resumes
    backup/        training checkpoints for resuming (BackupAndRestore); removed when complete
    resumes.json   when the run was resumed and from which epoch
    tensorboard/   TensorBoard event files (``tensorboard --logdir runs/``)
    figures/       <name>.svg (vector, for the PDF), <name>.png (to look at), <name>.csv (the data drawn)
    tables/*.json  tables for the report (list of row dicts)
    models/        saved models
    output.log     everything the task printed (stdout and stderr), line by line; appended to when resumed
    metrics.json   final numbers; written last, with "status": "complete"

and beside the task folders ``_sources/<sha256>``: one copy of each distinct code file any run was made
from (``hwkit.sources``), so ``RunRecord.sources()`` reads back the code of a run, committed or not.

Resume: ``start_run`` continues in the newest *unfinished* run directory of the same run key
(task, seed, quick and every other resolved flag) — one without metrics.json (killed) or marked
``"interrupted"`` (Ctrl-C, SIGTERM) — unless ``fresh``. A lock file (``.lock``, ``flock``) keeps
two processes out of one directory. A run that fails keeps its folder (for debugging) but gets
``"status": "failed"``; failed and interrupted runs are never picked up by a report. The root is
``$HWKIT_RUNS_DIR`` or ``./runs``.

Run directories travel, so no record names a folder of the machine that made it: every path in config.json,
env.json, metrics.json and tables is written by ``hwkit.files.portable_path`` (relative to the project,
``$HWKIT_DATA_DIR/...``, ``$HWKIT_RUNS_DIR/...``, ``~/...`` or ``<outside the project>/<name>``); records written
before that keep their absolute paths and read as before.

Run directories are untrusted input (they travel between people): reading one checks each file against
the shape hwkit writes (``METRICS``, ``CONFIG``, ``ENV``, ``TABLE`` ...). A damaged run is skipped by the
reports with one warning line naming the file, and stops a task that reads it with one error (``DamagedRun``).

A run is *stale* ("made by older code") when a file of its fingerprint differs now (``RunRecord.stale``,
``changed_files``); runs made before fingerprints compare the task's own file only (``code.sha256``).
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import functools
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Iterator, Mapping, Sequence

import numpy as np

from hwkit import HwkitError, sources
from hwkit.files import atomic_file, is_machine_path, portable_path

LOCK_FILE = ".lock"
BACKUP_DIR = "backup"
RESUMES_FILE = "resumes.json"
OUTPUT_LOG = "output.log"
UNFINISHED = (None, "interrupted")     # metrics.json status of a run that can be resumed

# ----------------------------------------------------------------------------- what a run's files must look like
# Run directories travel between people, so every file is checked against the shape hwkit writes before
# anything reads it. A schema is a type (or a tuple of types), a dict ``{key: schema}`` (a key ending in "?"
# may be absent, as in runs written before it existed), or ``[schema]``: a list of such items.
NUMBER = (int, float)           # a JSON number (true and false are not numbers here)
NULL = type(None)

GIT = {"commit?": (str, NULL), "dirty?": (bool, NULL), "diff_sha256?": (str, NULL)}
METRICS = {"status": str, "quick?": bool, "wall_time_s?": NUMBER, "resumes?": [dict], "data_files?": [dict]}
CONFIG = {"task?": str, "seed?": int, "quick?": bool, "run_key?": str, "data_files?": [dict],
          "code?": {"module?": (str, NULL), "file?": (str, NULL), "sha256?": (str, NULL)}}
ENV = {"command?": str, "argv?": [str], "cwd?": (str, NULL), "git?": GIT, "code?": GIT, "platform?": str,
       "cpu_count?": (int, NULL), "intra_op_threads?": (int, NULL), "gpus?": [str], "devices?": [str],
       **{f"{name}?": (str, NULL) for name in ("python", "numpy", "tensorflow", "keras", "keras_tuner")}}
TABLE = [dict]                  # tables/<name>.json: one object per row
SEARCH_SUMMARY = {"trials?": [dict], "failed?": [dict], "space?": [dict], "completed?": int, "seconds?": NUMBER}

_NAMES = {dict: "an object", list: "a list", str: "a string", int: "an integer", float: "a number",
          bool: "true or false", NULL: "null"}


class DamagedRun(HwkitError):
    """A file of the run directory ``run`` is unreadable or not shaped as hwkit writes it (``problem`` says which)."""

    def __init__(self, run: Path, problem: str):
        super().__init__(f"{run}: {problem}")
        self.run, self.problem = Path(run), problem


def _matches(value: Any, types: type | tuple) -> bool:
    types = types if isinstance(types, tuple) else (types,)
    if isinstance(value, bool):         # bool is an int to Python, not a number to a reader
        return bool in types
    return isinstance(value, types) or (float in types and isinstance(value, int))


def _describe(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return _NAMES[type(value)]
    if isinstance(value, str):
        return f"{value[:40]!r}{'...' if len(value) > 40 else ''} (a string)"
    return json.dumps(value)


def mismatch(value: Any, schema: Any, where: str) -> str | None:
    """What is wrong with ``value`` (found at ``where``, e.g. a file name) against ``schema``; None if nothing."""
    if isinstance(schema, dict):
        if not isinstance(value, dict):
            return f"{where} is {_describe(value)}, not an object"
        for key, inner in schema.items():
            name = key.removesuffix("?")
            if name not in value:
                if key.endswith("?"):
                    continue
                return f"{where} has no {name!r}"
            problem = mismatch(value[name], inner, f"{where}[{name!r}]")
            if problem:
                return problem
        return None
    if isinstance(schema, list):
        if not isinstance(value, list):
            return f"{where} is {_describe(value)}, not a list"
        return next(filter(None, (mismatch(v, schema[0], f"{where}[{i}]") for i, v in enumerate(value))), None)
    if _matches(value, schema):
        return None
    types = schema if isinstance(schema, tuple) else (schema,)
    expected = " or ".join(_NAMES.get(t, t.__name__) for t in types if not (t is int and float in types))
    return f"{where} is {_describe(value)}, not {expected}"


def read_run_file(run: Path, name: str, schema: Any) -> Any:
    """The JSON file ``run/name`` checked against ``schema``; DamagedRun naming the file and what is wrong."""
    try:
        value = json.loads((run / name).read_text())
    except FileNotFoundError:
        raise DamagedRun(run, f"{name} is missing") from None
    except OSError as e:
        raise DamagedRun(run, f"{name} is unreadable ({e.strerror or e})") from None
    except (ValueError, RecursionError) as e:   # truncated, not JSON, not UTF-8, nested beyond reason
        why = (str(e) or type(e).__name__).splitlines()[0][:120]
        raise DamagedRun(run, f"{name} is not valid JSON ({why})") from None
    problem = mismatch(value, schema, name)
    if problem:
        raise DamagedRun(run, problem)
    return value


_WARNED: set[str] = set()


def warn_damaged(e: DamagedRun) -> None:
    """One warning line on stderr for a damaged run that is skipped, once per process."""
    if str(e) not in _WARNED:
        _WARNED.add(str(e))
        print(f"warning: skipped the damaged run {e.run}: {e.problem}", file=sys.stderr, flush=True)


def utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def runs_root() -> Path:
    return Path(os.environ.get("HWKIT_RUNS_DIR", "runs"))


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    return obj


def write_json(path: Path, obj: Any) -> None:
    """Write JSON atomically: a reader never sees half a file, and a failed write leaves no ``.part``."""
    text = json.dumps(_jsonable(obj), indent=2, sort_keys=False) + "\n"
    try:
        with atomic_file(path) as tmp:
            tmp.write_text(text)
    except OSError as e:
        raise HwkitError(f"cannot write {path}: {e.strerror or e}{_disk_hint(e)}") from None


def _disk_hint(e: OSError) -> str:
    return " (free some disk space, then rerun the same command: it resumes)" if e.errno in (
        errno.ENOSPC, errno.EDQUOT) else ""


def sha256_file(path: Path) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def git_state(where: Path | str | None = None) -> dict:
    """Commit, dirty flag and SHA-256 of ``git diff HEAD`` of the repository holding ``where``."""
    cwd = Path(where) if where else Path.cwd()
    cwd = cwd if cwd.is_dir() else cwd.parent

    def git(*args: str) -> bytes | None:
        try:
            r = subprocess.run(["git", *args], cwd=cwd, capture_output=True, timeout=20)
        except (OSError, subprocess.SubprocessError):
            return None
        return r.stdout if r.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return {"commit": None, "dirty": None, "diff_sha256": None}
    diff = git("diff", "HEAD") or b""
    return {"commit": commit.decode().strip(), "dirty": bool(diff.strip()),
            "diff_sha256": hashlib.sha256(diff).hexdigest() if diff.strip() else None}


def code_state(module: str | None) -> dict:
    """The task's own code: module name, file and its SHA-256 (to tell runs made by other code)."""
    if not module:
        return {}
    path = sources.module_file(module)
    origin = str(path) if path else None
    return {"module": module, "file": origin, "sha256": sha256_file(path) if path else None}


def code_record(module: str | None) -> dict:
    """config.json's ``code`` for a new run: ``code_state`` and ``files``, the fingerprint of the task's code
    (``hwkit.sources``: the task module and every project module it imports, name -> SHA-256), each file kept
    in ``<runs root>/_sources``."""
    code = code_state(module)
    if module:
        store = runs_root() / sources.SOURCES_DIR
        try:
            code["files"] = sources.keep([module], store)
        except OSError as e:
            raise HwkitError(f"cannot keep the run's code in {store}: {e.strerror or e}{_disk_hint(e)}") from None
    return code


def path_roots(code_module: str | None = None) -> dict[str, Path | None]:
    """The folders ``portable_path`` names paths by, resolved: the project (the folder holding the task's
    package, else the working directory), ``$HWKIT_DATA_DIR``, ``$HWKIT_RUNS_DIR`` (when set) and home."""
    project = sources.package_root(code_module.split(".")[0]) if code_module else None
    data_dir, runs_dir = os.environ.get("HWKIT_DATA_DIR"), os.environ.get("HWKIT_RUNS_DIR")
    return {"project_root": Path(project or Path.cwd()).resolve(),
            "data_dir": Path(data_dir).resolve() if data_dir else None,
            "runs_dir": Path(runs_dir).resolve() if runs_dir else None,
            "home": Path.home().resolve()}


def _portable_text(text: str, roots: Mapping[str, Path | None]) -> str:
    if is_machine_path(text):
        return portable_path(Path(text).resolve(), **roots)
    flag, eq, value = text.partition("=")   # --out=/abs/path
    if eq and flag.startswith("-") and is_machine_path(value):
        return f"{flag}={portable_path(Path(value).resolve(), **roots)}"
    return text


def portable(value: Any, roots: Mapping[str, Path | None]) -> Any:
    """``value`` (JSON data: a record, a table) with each absolute path of this machine in it written as
    ``hwkit.files.portable_path`` says, so a run directory names no folder of the machine that made it.
    Strings that only contain a path among other words are left as they are."""
    if isinstance(value, (str, os.PathLike)):
        return _portable_text(os.fspath(value), roots) if isinstance(os.fspath(value), str) else value
    if isinstance(value, dict):
        return {k: portable(v, roots) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [portable(v, roots) for v in value]
    return value


def portable_command(command: str, roots: Mapping[str, Path | None]) -> str:
    """A command line with each of its words that is an absolute path made portable (``portable``)."""
    import shlex
    try:
        words = shlex.split(command)
    except ValueError:
        return _portable_text(command, roots)
    new = [_portable_text(w, roots) for w in words]
    return command if new == words else " ".join(shlex.quote(w) for w in new)


def environment(code_file: str | None = None, roots: Mapping[str, Path | None] | None = None) -> dict:
    """What produced the numbers: versions, backend, hardware, command line and code version.

    TensorFlow and Keras are described when this process has loaded TensorFlow: a numpy-only program
    (a hand-in whose course allows only numpy) does not import them just to say it did not use them,
    and records None (no devices) for them. Paths are written portable (``portable``, by ``roots``: default
    ``path_roots()``); ``code_file`` is the real file, for ``git_state``.
    """
    roots = path_roots() if roots is None else roots
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "numpy": np.__version__,
        **(_tensorflow_environment() if "tensorflow" in sys.modules else dict.fromkeys(
            ("intra_op_threads", "tensorflow", "keras", "keras_tuner", "backend", "dtype_policy"), None)
           | {"gpus": [], "devices": []}),
        # paths as portable_path writes them (relative to the project, $HWKIT_DATA_DIR/..., ~/...)
        "argv": portable(sys.argv, roots),
        "command": portable_command(invoked_command(), roots),
        "cwd": portable_path(Path.cwd().resolve(), **roots),
        "git": git_state(code_file),
        "started": utc_now(),
    }


def _tensorflow_environment() -> dict:
    import keras
    import tensorflow as tf
    try:
        import keras_tuner
        kt_version = keras_tuner.__version__
    except ImportError:  # pragma: no cover - declared dependency
        kt_version = None
    return {
        # 0 = TensorFlow's default (all cores); report --run --jobs N sets cores/N (HWKIT_THREADS)
        "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "keras_tuner": kt_version,
        "backend": keras.backend.backend(),
        "gpus": [d.name for d in tf.config.list_physical_devices("GPU")],
        "devices": [d.name for d in tf.config.list_logical_devices()],
        "dtype_policy": keras.config.dtype_policy().name,
    }


@dataclass
class Run:
    """A run directory being written. Use ``start_run`` to create one."""

    task: str
    path: Path
    quick: bool
    seed: int
    metrics: dict = field(default_factory=dict)
    roots: Mapping[str, Path | None] = field(default_factory=path_roots)   # for ``portable`` paths in tables, JSON

    def file(self, *parts: str) -> Path:
        p = self.path.joinpath(*parts)
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def save_figure(self, fig, name: str) -> Path:
        """Save a matplotlib figure as figures/<name>.svg (the PDF's), .png and .csv (its data); close it.

        Returns the SVG's path. See ``hwkit.plots.save_figure``.
        """
        from hwkit import plots
        return plots.save_figure(fig, self.file("figures", f"{name}.svg").with_suffix(""))

    def save_table(self, name: str, rows: list[dict]) -> Path:
        path = self.file("tables", f"{name}.json")
        write_json(path, portable(rows, self.roots))
        return path

    def save_json(self, name: str, obj: Any) -> Path:
        path = self.file(name)
        write_json(path, portable(obj, self.roots))
        return path

    def model_path(self, name: str) -> Path:
        return self.file("models", name)

    def log(self, **metrics: Any) -> None:
        """Record final numbers; they are written to metrics.json when the run completes."""
        self.metrics.update(metrics)


def _new_run_dir(task: str, seed: int, quick: bool) -> Path:
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    base = runs_root() / task / f"{stamp}-s{seed}{'-quick' if quick else ''}"
    path, n = base, 1
    while True:
        try:
            path.mkdir(parents=True, exist_ok=False)
            return path
        except FileExistsError:  # two runs in the same second: never overwrite
            if not path.is_dir():
                raise _runs_dir_error(path, "a file is in the way")
            path, n = base.with_name(f"{base.name}.{n}"), n + 1
        except OSError as e:
            raise _runs_dir_error(path, e.strerror or str(e)) from None


def _runs_dir_error(path: Path, why: str) -> HwkitError:
    return HwkitError(f"cannot create the run directory {path}: {why}; "
                      "set HWKIT_RUNS_DIR to a writable folder")


def run_key(task: str, seed: int, quick: bool, config: dict) -> str:
    """What makes two commands "the same run": task, seed, quick and every other resolved setting."""
    text = json.dumps(_jsonable({"task": task, "seed": seed, "quick": quick, "config": config}), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _lock(path: Path):
    """An exclusive, non-blocking ``flock`` on ``<run>/.lock``; None when another process holds it."""
    import fcntl
    try:
        fd = os.open(path / LOCK_FILE, os.O_CREAT | os.O_RDWR, 0o644)
    except OSError as e:
        raise _runs_dir_error(path, e.strerror or str(e)) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def _status(path: Path) -> str | None:
    """metrics.json's status; None when there is none yet (killed), "damaged" when it is unreadable."""
    if not (path / "metrics.json").exists():
        return None
    try:
        return read_run_file(path, "metrics.json", METRICS)["status"]
    except DamagedRun:
        return "damaged"      # never resumed: what it held is unknown


def _find_unfinished(task: str, key: str):
    """The newest run directory of ``task`` with this run key that did not finish, locked; else (None, None)."""
    folder = runs_root() / task
    if not folder.is_dir():
        return None, None
    for path in sorted((p for p in folder.iterdir() if p.is_dir()), reverse=True):
        try:
            config = read_run_file(path, "config.json", CONFIG)
        except DamagedRun:
            continue
        if config.get("run_key") != key or _status(path) not in UNFINISHED:
            continue
        fd = _lock(path)
        if fd is not None:
            if _status(path) in UNFINISHED:      # it may have finished while we looked
                return path, fd
            os.close(fd)
    return None, None


_FITS: dict[str, int] = {}      # run directory -> fits started in it by this process


def next_fit_name(path: Path) -> str:
    """``fit1``, ``fit2`` ... for the successive trainings of one run (the same names when it is resumed)."""
    key = str(Path(path).resolve())
    _FITS[key] = _FITS.get(key, 0) + 1
    return f"fit{_FITS[key]}"


def read_resumes(path: Path) -> list[dict]:
    try:
        return read_run_file(path, RESUMES_FILE, [dict])
    except DamagedRun:        # none yet, or unreadable: the resume history starts again
        return []


def note_resume(path: Path, **fields: Any) -> None:
    """Add ``fields`` (e.g. ``from_epoch``) to this resume's entry of ``resumes.json`` (a new entry if taken)."""
    entries = read_resumes(path) or [{"at": utc_now()}]
    last = entries[-1]
    if any(k in last for k in fields):
        entries.append({"at": last["at"], **fields})
    else:
        last.update(fields)
    write_json(path / RESUMES_FILE, entries)


def sweep_leftovers(path: Path) -> list[Path]:
    """Remove what unfinished writes left in a run directory: ``tmp-*`` (weights, models) and ``*.part`` (JSON, CSV).

    Every writer of hwkit writes such a temporary file and renames it when complete, so one that is
    still there was cut short (a kill, a full disk) and is never part of the run.
    """
    removed = []
    for folder, _, files in os.walk(path):      # os.walk does not enter symlinked folders
        for name in files:
            if name.startswith("tmp-") or name.endswith(".part"):
                with contextlib.suppress(OSError):
                    (Path(folder) / name).unlink()
                    removed.append(Path(folder) / name)
    return removed


@contextlib.contextmanager
def start_run(task: str, config: dict, seed: int = 0, quick: bool = False, fresh: bool = False,
              code_module: str | None = None) -> Iterator[Run]:
    """Open a run directory (continuing an unfinished one of the same command unless ``fresh``), yield
    it, and mark it complete, interrupted (Ctrl-C, SIGTERM) or failed at the end.

    ``code_module`` (the task module, ``<package>.<name>``) is hashed into config.json so a report can tell runs made by
    other versions of the task's code.
    """
    from hwkit import data
    key = run_key(task, seed, quick, config)
    roots = path_roots(code_module)
    path, fd = (None, None) if fresh else _find_unfinished(task, key)
    resumed = path is not None
    if resumed:   # keeps the fingerprint of the code it started with: it is stale if that code has changed
        swept = sweep_leftovers(path)
        write_json(path / RESUMES_FILE, read_resumes(path) + [{"at": utc_now()}])
        full_config = json.loads((path / "config.json").read_text())
    else:
        path = _new_run_dir(task, seed, quick)
        fd = _lock(path)
        try:
            code = code_record(code_module)
        except BaseException:   # no code, no run: leave no empty folder behind
            if fd is not None:
                os.close(fd)
            shutil.rmtree(path, ignore_errors=True)
            raise
        # the key above is of the real settings (two data folders are two runs); the record names no
        # folder of this machine
        full_config = portable({"task": task, "seed": seed, "quick": quick, **config, "run_key": key, "code": code},
                               roots)
        write_json(path / "config.json", full_config)
        write_json(path / "env.json", environment(code.get("file"), roots))
    run = Run(task=task, path=path, quick=quick, seed=seed, roots=roots)
    data.reset_files_read()
    _FITS.pop(str(path.resolve()), None)
    started = _dt.datetime.now(_dt.timezone.utc)

    def finish(status: str, **extra: Any) -> None:
        files = portable(data.files_read(), roots)
        if files:
            write_json(path / "config.json", {**full_config, "data_files": files})
        resumes = read_resumes(path)
        write_json(path / "metrics.json", {**portable(run.metrics, roots), **extra, "status": status, "quick": quick,
                                           **({"resumes": resumes} if resumes else {}), "data_files": files})

    try:
        with keep_console(path / OUTPUT_LOG) as log:
            if resumed:
                print(f"resuming the unfinished run {path} (add --fresh to start a new one)", flush=True)
                if swept:
                    print(f"removed {len(swept)} leftover file(s) of writes cut short in {path}: "
                          f"{', '.join(sorted(str(p.relative_to(path)) for p in swept))}", flush=True)
            try:
                yield run
                wall = (_dt.datetime.now(_dt.timezone.utc) - started).total_seconds()
                finish("complete", wall_time_s=round(wall, 2))
            except KeyboardInterrupt as e:   # Ctrl-C, and SIGTERM (the command line turns it into one)
                _log_line(log, f"{type(e).__name__}: the run is marked interrupted")
                with contextlib.suppress(Exception):
                    finish("interrupted", error=type(e).__name__)
                raise
            except BaseException as e:
                _log_line(log, traceback.format_exc())   # the log only: the terminal gets what the caller prints
                with contextlib.suppress(Exception):
                    finish("failed", error=f"{type(e).__name__}: {e}")
                raise
        shutil.rmtree(path / BACKUP_DIR, ignore_errors=True)   # complete: the checkpoints have done their job
    finally:
        with contextlib.suppress(Exception):   # failed or interrupted: no temporary file stays behind
            sweep_leftovers(path)
        if fd is not None:
            os.close(fd)


class _Tee:
    """A text stream that writes to ``stream`` and to ``log``; everything else (isatty, fileno, encoding ...)
    is the stream's, so progress bars behave as they would without it."""

    def __init__(self, stream, log):
        self._stream, self._log = stream, log

    def write(self, text: str) -> int:
        n = self._stream.write(text)
        _log_line(log=self._log, text=text, newline=False)
        return n

    def flush(self) -> None:
        self._stream.flush()
        with contextlib.suppress(ValueError, OSError):
            self._log.flush()

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def _log_line(log, text: str, newline: bool = True) -> None:
    """Write to the console log; a log that cannot be written (disk full, closed) never stops the task."""
    with contextlib.suppress(ValueError, OSError):
        log.write(text + ("\n" if newline and not text.endswith("\n") else ""))


@contextlib.contextmanager
def keep_console(path: Path) -> Iterator:
    """While inside, what is written to ``sys.stdout`` and ``sys.stderr`` also goes to ``path`` (appended: a
    resumed run adds to it), line-buffered so a crash or ``kill -9`` loses at most an unfinished line.

    At the Python level, so it works in-process (tests, ``report --run --jobs 1``); output that C/C++ code or
    a child process writes straight to file descriptors 1 and 2 (e.g. TensorFlow's native log lines) is not kept.
    """
    log = open(path, "a", buffering=1, encoding="utf-8", errors="replace")
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Tee(sys.stdout, log), _Tee(sys.stderr, log)
    try:
        yield log
    finally:
        tees = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = saved
        for tee in tees:
            with contextlib.suppress(ValueError, OSError):
                tee.flush()
        log.close()


# ----------------------------------------------------------------------------- reading back

@dataclass
class RunRecord:
    """A finished run as the reports see it."""

    task: str
    path: Path
    config: dict
    metrics: dict
    env: dict

    @property
    def quick(self) -> bool:
        return bool(self.config.get("quick"))

    @property
    def commit(self) -> str | None:
        """The git commit the run was made by (None outside a repository), short form."""
        commit = self._git.get("commit")
        return commit[:10] if commit else None

    @property
    def _git(self) -> dict:
        """env.json's ``git`` (``code`` in runs written before it had that name)."""
        return self.env.get("git") or self.env.get("code") or {}

    @property
    def dirty(self) -> bool:
        return bool(self._git.get("dirty"))

    @functools.cached_property
    def changed_files(self) -> list[str]:
        """The code files that differ now from those that made the run (``hwkit/x.py``, ``tasks/y.py``): any
        file of its fingerprint (config.json ``code.files``); for a run made before fingerprints, the task's file."""
        code = self.config.get("code") or {}
        if isinstance(code.get("files"), dict):
            return sources.changed(code["files"])
        module = code.get("module")
        if not code.get("sha256") or not isinstance(module, str):
            return []
        now = code_state(module).get("sha256")
        return [module.replace(".", "/") + ".py"] if now is not None and now != code["sha256"] else []

    @property
    def stale(self) -> bool:
        """True when code that made the run differs now ("made by older code"; ``changed_files`` says which)."""
        return bool(self.changed_files)

    def sources(self) -> dict[str, bytes]:
        """The code that made this run, file by file, byte for byte (name -> content), from ``_sources``."""
        files = (self.config.get("code") or {}).get("files")
        if not isinstance(files, dict):
            raise HwkitError(f"{self.path} was made before runs kept their code: its sources cannot be read back")
        return sources.read(files, self.path.parent.parent / sources.SOURCES_DIR)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def relative_path(self) -> str:
        """The run directory relative to the working directory (as a reader of the PDF finds it; ``shown_path``)."""
        return shown_path(self.path)

    def figure(self, name: str) -> Path | None:
        """The figure for the PDF: the SVG when there is one (vector), else the PNG (older runs)."""
        for suffix in (".svg", ".png"):
            p = self.path / "figures" / f"{name}{suffix}"
            if p.is_file():
                return p
        return None

    @property
    def figures(self) -> dict[str, Path]:
        names = sorted({p.stem for p in (self.path / "figures").glob("*") if p.suffix in (".svg", ".png")})
        return {n: self.figure(n) for n in names}

    def key_metrics(self) -> list[dict]:
        """The run's scalar results (numbers, flags, short strings) as metric/value rows, for a generic report."""
        skip = {"status", "quick"}
        return [{"metric": k, "value": v} for k, v in self.metrics.items()
                if k not in skip and (isinstance(v, (int, float, bool)) or (isinstance(v, str) and len(v) <= 80))]

    def table(self, name: str) -> list[dict] | None:
        p = self.path / "tables" / f"{name}.json"
        return read_run_file(self.path, f"tables/{name}.json", TABLE) if p.is_file() else None

    @property
    def tables(self) -> dict[str, list[dict]]:
        return {p.stem: self.table(p.stem) for p in sorted((self.path / "tables").glob("*.json"))}

    def check(self) -> None:
        """DamagedRun unless every table and search summary of the run has the shape hwkit writes."""
        for p in (self.path / "tables").glob("*.json"):
            self.table(p.stem)
        for p in self.path.glob("**/search_summary.json"):
            read_run_file(self.path, str(p.relative_to(self.path)), SEARCH_SUMMARY)

    def appendix(self) -> dict:
        """What a grader needs to reproduce this run, as rows for the PDF's reproducibility appendix.

        ``rows``: (label, value) pairs — run directory (relative), commit and dirty flag, command
        line, seed, versions, CPU/GPU, wall time; ``config``: the resolved configuration;
        ``searches``: each KerasTuner search of the run (``search_summary.json``, ``file``: its path in the
        run): objective, stop reason, search space, trial counts and the failed trials with their errors.
        """
        env = self.env
        git = self._git
        commit = git.get("commit")
        if commit:
            commit = commit[:12] + (f" + uncommitted changes (dirty; diff sha256 {git['diff_sha256'][:12]})"
                                    if git.get("dirty") and git.get("diff_sha256") else
                                    " + uncommitted changes (dirty)" if git.get("dirty") else
                                    " (clean)" if git.get("dirty") is False else " (dirty flag unknown)")
        versions = ", ".join(f"{k} {env[key]}" for k, key in (("Python", "python"), ("NumPy", "numpy"),
                             ("TensorFlow", "tensorflow"), ("Keras", "keras"), ("KerasTuner", "keras_tuner"))
                             if env.get(key))
        gpus = env.get("gpus") or []
        threads = env.get("intra_op_threads")
        hardware = (f"{env.get('cpu_count', '?')} CPU cores"
                    + (f" ({threads} TensorFlow thread{'s' * (threads > 1)} used)" if threads else "") + ", "
                    + (f"GPU: {', '.join(gpus)}" if gpus else "no GPU")
                    + (f"; {env['platform']}" if env.get("platform") else "")) if env else None
        wall = self.metrics.get("wall_time_s")
        rows = [("run directory", shown_path(self.path)),
                ("commit", commit or "not recorded"),
                ("command", recorded_command(env)),
                ("seed", self.config.get("seed")),
                ("mode", "quick (smoke)" if self.quick else "full"),
                ("versions", versions or "not recorded"),
                ("hardware", hardware or "not recorded"),
                ("wall time", f"{wall:.1f} s" if isinstance(wall, (int, float)) else "not recorded")]
        config = [(k, json.dumps(v) if not isinstance(v, str) else v) for k, v in self.config.items()
                  if k not in ("task", "code", "data_files")]
        task_code = self.config.get("code") or {}
        files = task_code.get("files")
        if isinstance(files, dict):
            changed = f" — changed since this run: {file_list(self.changed_files)}" if self.stale else ""
            rows.append(("code", f"{task_code.get('module')} and the project modules it imports: {len(files)} "
                                 f"files (SHA-256 of each in config.json, copies in _sources/ beside the task "
                                 f"folders){changed}"))
        elif task_code.get("sha256"):
            rows.append(("task code", f"{task_code.get('module')} (sha256 {task_code['sha256'][:12]})"
                                      + (" — changed since this run" if self.stale else "")))
        searches = [{**read_run_file(self.path, str(p.relative_to(self.path)), SEARCH_SUMMARY),
                     "file": str(p.relative_to(self.path))} for p in sorted(self.path.glob("**/search_summary.json"))]
        return {"task": self.task, "rows": rows, "config": config, "searches": searches}

    def history(self) -> list[dict]:
        """history.csv (Keras' per-epoch logs) as numbers; DamagedRun naming the line of a cell that is not one."""
        import csv
        p = self.path / "history.csv"
        if not p.is_file():
            return []
        rows = []
        try:
            with p.open(newline="") as f:
                reader = csv.DictReader(f)
                for row in reader:
                    if None in row:     # DictReader's key for cells beyond the header's
                        raise DamagedRun(self.path, f"history.csv line {reader.line_num} has more cells than "
                                                    "its header")
                    for key, cell in row.items():
                        try:
                            row[key] = float(cell) if cell not in ("", None) else None
                        except ValueError:
                            raise DamagedRun(self.path, f"history.csv line {reader.line_num}: {key!r} is "
                                                        f"{_describe(cell)}, not a number") from None
                    rows.append(row)
        except (OSError, UnicodeDecodeError, csv.Error) as e:
            raise DamagedRun(self.path, f"history.csv is unreadable ({e})") from None
        return rows


APPENDIX_SHARED = ("commit", "versions", "hardware")


def file_list(names: Sequence[str], most: int = 4) -> str:
    """``a, b and c``; past ``most`` names, ``a, b, c, d and 3 more files`` (a PDF line, one error line)."""
    names = list(names)
    if len(names) > most:
        return f"{', '.join(names[:most])} and {len(names) - most} more file{'s' * (len(names) - most > 1)}"
    return " and ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else "".join(names)


def appendix(records: list[RunRecord]) -> dict:
    """The reproducibility appendix of a PDF: ``common`` rows (commit, versions, hardware when every
    run shares them, said once) and one ``RunRecord.appendix()`` per run without those rows."""
    entries = [r.appendix() for r in records]
    common = []
    for label in APPENDIX_SHARED:
        values = {dict(e["rows"])[label] for e in entries}
        if len(entries) > 1 and len(values) == 1:
            common.append((label, values.pop()))
    shared = {label for label, _ in common}
    for e in entries:
        e["rows"] = [(label, value) for label, value in e["rows"] if label not in shared]
    return {"common": common, "entries": entries}


def relative_path(path: Path) -> str:
    """``path`` relative to the working directory when it lies below it (how a reader finds it), else as is."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def shown_path(path: Path) -> str:
    """``path`` as a PDF prints it: relative to the working directory when it lies below it, else as
    ``portable_path`` writes it (``$HWKIT_RUNS_DIR/...``, ``~/...``), so a report names no folder of the machine
    that rendered it. (Messages on the terminal keep ``relative_path``: there the full path is what helps.)"""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return portable_path(Path(path).resolve(), **path_roots())


def invoked_command() -> str:
    """This process's command as a user would type it, worked out when a run starts (never at render time):
    ``python -m pkg.mod ...`` when Python ran a module with -m, else the script path and its arguments."""
    import shlex
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    name = getattr(spec, "name", None)
    first = f"python -m {name.removesuffix('.__main__')}" if name else shlex.quote(sys.argv[0])
    return " ".join([first, *(shlex.quote(a) for a in sys.argv[1:])])


def command_line(argv: list[str], cwd: str | None = None) -> str:
    """A recorded ``sys.argv`` as a command to type, for runs made before env.json had ``command``.

    Worked out from the recorded strings alone, never from the files on this machine, so a run renders
    the same wherever the clone lives: a script below the run's working directory was run as the module
    of its dotted path (``python -m pkg.mod``), a package's ``__main__.py`` as ``python -m <package>``.
    """
    import shlex
    first, rest = argv[0], list(argv[1:])
    path = PurePosixPath(first)
    below_cwd = cwd and path.is_relative_to(cwd)
    if path.suffix == ".py" and path.is_absolute() and (below_cwd or path.name == "__main__.py"):
        dotted = path.relative_to(cwd).with_suffix("").parts if below_cwd else (path.parent.name,)
        first = "python -m " + ".".join(dotted).removesuffix(".__main__")
    else:
        first = shlex.quote(first)
    return " ".join([first, *(shlex.quote(a) for a in rest)])


def recorded_command(env: dict) -> str:
    """The command a run was started with, as env.json recorded it."""
    if isinstance(env.get("command"), str):
        return env["command"]
    argv = env.get("argv")
    if isinstance(argv, list) and argv and all(isinstance(a, str) for a in argv):
        cwd = env.get("cwd")
        return command_line(argv, cwd if isinstance(cwd, str) else None)
    return "not recorded"


def load_run(path: Path) -> RunRecord | None:
    """The run at ``path`` if it completed, else None (unfinished, failed, interrupted).

    Every file a reader uses is checked first (metrics.json, config.json, env.json when there is
    one, tables, search summaries): DamagedRun names the first that is not as hwkit writes it.
    """
    if not (path / "metrics.json").exists():
        return None                     # killed before it finished: unfinished, not damaged
    metrics = read_run_file(path, "metrics.json", METRICS)
    if metrics["status"] != "complete":
        return None
    config = read_run_file(path, "config.json", CONFIG)
    env = read_run_file(path, "env.json", ENV) if (path / "env.json").exists() else {}   # older runs have none
    record = RunRecord(task=config.get("task", path.parent.name), path=path, config=config,
                       metrics=metrics, env=env)
    record.check()
    return record


def latest_run(task: str, include_quick: bool = False, strict: bool = False) -> RunRecord | None:
    """Newest completed full run of ``task``; with include_quick, a quick run if no full one exists.

    A damaged run newer than the one returned (one that might have been the answer) is skipped with one
    warning line on stderr, or, with ``strict``, raised as DamagedRun: a task must not quietly read an
    older run than the one last made. Runs older than the answer are not read at all.
    """
    folder = runs_root() / task
    if not folder.is_dir():
        return None
    damaged, newest_quick, answer = [], None, None
    for path in sorted((p for p in folder.iterdir() if p.is_dir()), reverse=True):
        try:
            record = load_run(path)
        except DamagedRun as e:
            damaged.append(e)
            continue
        if record is not None and not record.quick:
            answer = record
            break
        newest_quick = newest_quick or record
    answer = answer or (newest_quick if include_quick else None)
    for e in damaged:
        if answer is None or e.run > answer.path:
            if strict:
                raise e
            warn_damaged(e)
    return answer


def task_command(task: str, quick: bool = False) -> str:
    """The command that produces a run of ``task``: ``python -m tasks.<task> [--quick]`` (``$HWKIT_TASKS`` package)."""
    return f"python -m {os.environ.get('HWKIT_TASKS', 'tasks')}.{task}{' --quick' if quick else ''}"


def require_run(task: str, quick: bool, needs: Sequence[str] | Mapping[str, Any] = (),
                reader: str | None = None) -> RunRecord:
    """The latest complete run of ``task`` holding every file in ``needs``, or one HwkitError naming the command to run.

    A full run is preferred; with ``quick`` a quick run may stand in (quick mode and its tests).
    ``needs`` are paths inside the run directory (``"models/e1_encoder.keras"``, ``"tables/summary.json"``),
    or a dict of them to the schema each JSON file must match (None: it need only exist), e.g.
    ``{"tables/summary.json": [{"final_test_accuracy": NUMBER}]}``: the columns the reader computes with.
    ``reader`` names the task that asks, for the message. The one place a task finds another task's run;
    a damaged run (see ``load_run``) is an error here, never skipped.
    """
    def refuse(found: str, then: str = "first") -> HwkitError:
        kind = "complete (or quick)" if quick else "complete full"
        return HwkitError(f"{f'task {reader}' if reader else 'this task'} reads the latest {kind} run of {task}, "
                          f"and {found}: run `{task_command(task, quick)}` {then}")

    def damaged(e: DamagedRun) -> HwkitError:
        return refuse(f"{e.run}/{e.problem}", f"to make a new one, or delete {e.run}")

    try:
        record = latest_run(task, include_quick=quick, strict=True)
    except DamagedRun as e:
        raise damaged(e) from None
    missing = [n for n in needs if record is not None and not (record.path / n).is_file()]
    if record is None or missing:
        raise refuse(f"{record.path} lacks {', '.join(missing)}" if record else
                     f"there is none under {runs_root() / task}")
    for name, schema in (needs.items() if isinstance(needs, Mapping) else ()):
        if schema is not None:
            try:
                read_run_file(record.path, name, schema)
            except DamagedRun as e:
                raise damaged(e) from None
    return record


def load_model(record: RunRecord, filename: str, shapes: tuple[tuple, tuple] | None = None):
    """The Keras model ``models/<filename>`` of a run, loaded with ``safe_mode=True`` (no arbitrary code from the file).

    ``shapes``: the (input, output) shapes without the batch axis the reader builds on, e.g.
    ``((28, 28, 1), (12,))``; a model of other shapes is one HwkitError naming the run and the command
    that remakes it, before the reader wires it into anything.
    """
    from hwkit import tf_runtime  # noqa: F401  (quiet TensorFlow import before Keras)
    # isort: split
    import keras
    path = record.path / "models" / filename
    remake = f"run `{task_command(record.task, record.quick)}` again to remake it"
    if not path.is_file():
        raise HwkitError(f"{record.path} has no models/{filename}: {remake}")
    try:   # safe_mode: a .keras file may not smuggle code in (e.g. a Lambda layer's bytecode)
        model = keras.models.load_model(path, safe_mode=True)
    except Exception as e:  # truncated zip, wrong architecture, refused unsafe content ...
        raise HwkitError(f"cannot load the model {path}: {type(e).__name__}: {str(e).splitlines()[0][:160]}; "
                         f"{remake}") from None
    if shapes is not None:
        found = tuple(_shape(s) for s in (model.input_shape, model.output_shape))
        if found != tuple(tuple(s) for s in shapes):
            raise HwkitError(f"{record.path}: models/{filename} takes {found[0]} and gives {found[1]}, but this task "
                             f"needs {tuple(shapes[0])} -> {tuple(shapes[1])}: {remake}")
    return model


def _shape(shape) -> tuple | list:
    """A Keras shape without its batch axis; a model with several inputs or outputs gives a list of them."""
    if isinstance(shape, list):
        return [_shape(s) for s in shape]
    return tuple(shape[1:])
