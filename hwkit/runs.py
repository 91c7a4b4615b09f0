"""Run directories: one folder per task run, never overwritten, read back by the reports.

Layout of ``runs/<task>/<UTC-time>-s<seed>[-quick]/``::

    config.json    resolved flags and settings (written at start)
    env.json       versions, backend, CPU/GPU, logical devices, dtype policy (written at start)
    history.csv    per-epoch Keras logs (CSVLogger)
    figures/*.png  plots for the report
    tables/*.json  tables for the report (list of row dicts)
    models/        saved models
    metrics.json   final numbers; written last, with "status": "complete"

A run that fails keeps its folder (for debugging) but gets ``"status": "failed"`` and is never
picked up by a report. The root is ``$HWKIT_RUNS_DIR`` or ``./runs``.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import platform
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from hwkit import HwkitError


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
    """Write JSON atomically: a reader never sees half a file."""
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(_jsonable(obj), indent=2, sort_keys=False) + "\n")
    tmp.replace(path)


def environment() -> dict:
    """What produced the numbers: versions, backend and hardware."""
    import keras
    import tensorflow as tf
    try:
        import keras_tuner
        kt_version = keras_tuner.__version__
    except ImportError:  # pragma: no cover - declared dependency
        kt_version = None
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "numpy": np.__version__,
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "keras_tuner": kt_version,
        "backend": keras.backend.backend(),
        "gpus": [d.name for d in tf.config.list_physical_devices("GPU")],
        "devices": [d.name for d in tf.config.list_logical_devices()],
        "dtype_policy": keras.config.dtype_policy().name,
        "argv": sys.argv,
    }


@dataclass
class Run:
    """A run directory being written. Use ``start_run`` to create one."""

    task: str
    path: Path
    quick: bool
    seed: int
    metrics: dict = field(default_factory=dict)

    def file(self, *parts: str) -> Path:
        p = self.path.joinpath(*parts)
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def save_figure(self, fig, name: str) -> Path:
        """Save a matplotlib figure as figures/<name>.png and close it."""
        import matplotlib.pyplot as plt
        path = self.file("figures", f"{name}.png")
        fig.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(fig)
        return path

    def save_table(self, name: str, rows: list[dict]) -> Path:
        path = self.file("tables", f"{name}.json")
        write_json(path, rows)
        return path

    def save_json(self, name: str, obj: Any) -> Path:
        path = self.file(name)
        write_json(path, obj)
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
            path, n = base.with_name(f"{base.name}.{n}"), n + 1


@contextlib.contextmanager
def start_run(task: str, config: dict, seed: int = 0, quick: bool = False) -> Iterator[Run]:
    """Create a run directory, yield it, and mark it complete (or failed) at the end."""
    run = Run(task=task, path=_new_run_dir(task, seed, quick), quick=quick, seed=seed)
    write_json(run.path / "config.json", {"task": task, "seed": seed, "quick": quick, **config})
    write_json(run.path / "env.json", environment())
    started = _dt.datetime.now(_dt.timezone.utc)
    try:
        yield run
    except BaseException as e:
        write_json(run.path / "metrics.json",
                   {"status": "failed", "error": f"{type(e).__name__}: {e}", **run.metrics})
        raise
    wall = (_dt.datetime.now(_dt.timezone.utc) - started).total_seconds()
    write_json(run.path / "metrics.json",
               {**run.metrics, "status": "complete", "quick": quick, "wall_time_s": round(wall, 2)})


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
    def name(self) -> str:
        return self.path.name

    def figure(self, name: str) -> Path | None:
        p = self.path / "figures" / f"{name}.png"
        return p if p.is_file() else None

    @property
    def figures(self) -> dict[str, Path]:
        return {p.stem: p for p in sorted((self.path / "figures").glob("*.png"))}

    def key_metrics(self) -> list[dict]:
        """The run's scalar results (numbers, flags, short strings) as metric/value rows, for a generic report."""
        skip = {"status", "quick"}
        return [{"metric": k, "value": v} for k, v in self.metrics.items()
                if k not in skip and (isinstance(v, (int, float, bool)) or (isinstance(v, str) and len(v) <= 80))]

    def table(self, name: str) -> list[dict] | None:
        p = self.path / "tables" / f"{name}.json"
        return json.loads(p.read_text()) if p.is_file() else None

    @property
    def tables(self) -> dict[str, list[dict]]:
        return {p.stem: json.loads(p.read_text()) for p in sorted((self.path / "tables").glob("*.json"))}

    def history(self) -> list[dict]:
        import csv
        p = self.path / "history.csv"
        if not p.is_file():
            return []
        with p.open() as f:
            return [{k: float(v) if v not in ("", None) else None for k, v in row.items()}
                    for row in csv.DictReader(f)]


def load_run(path: Path) -> RunRecord | None:
    """The run at ``path`` if it completed, else None."""
    try:
        metrics = json.loads((path / "metrics.json").read_text())
        config = json.loads((path / "config.json").read_text())
    except (OSError, ValueError):
        return None
    if metrics.get("status") != "complete":
        return None
    env_path = path / "env.json"
    env = json.loads(env_path.read_text()) if env_path.is_file() else {}
    return RunRecord(task=config.get("task", path.parent.name), path=path, config=config,
                     metrics=metrics, env=env)


def latest_run(task: str, include_quick: bool = False) -> RunRecord | None:
    """Newest completed full run of ``task``; with include_quick, a quick run if no full one exists."""
    folder = runs_root() / task
    if not folder.is_dir():
        return None
    records = [r for r in (load_run(p) for p in sorted(folder.iterdir(), reverse=True) if p.is_dir()) if r]
    full = [r for r in records if not r.quick]
    if full:
        return full[0]
    return records[0] if include_quick and records else None


def task_command(task: str, quick: bool = False) -> str:
    """The command that produces a run of ``task``: ``python -m tasks.<task> [--quick]`` (``$HWKIT_TASKS`` package)."""
    return f"python -m {os.environ.get('HWKIT_TASKS', 'tasks')}.{task}{' --quick' if quick else ''}"


def require_run(task: str, quick: bool, needs: Sequence[str] = (), reader: str | None = None) -> RunRecord:
    """The latest complete run of ``task`` holding every file in ``needs``, or one HwkitError naming the command to run.

    A full run is preferred; with ``quick`` a quick run may stand in (quick mode and its tests).
    ``needs`` are paths inside the run directory (``"models/e1_encoder.keras"``, ``"tables/summary.json"``);
    ``reader`` names the task that asks, for the message. The one place a task finds another task's run.
    """
    record = latest_run(task, include_quick=quick)
    missing = [n for n in needs if record is not None and not (record.path / n).is_file()]
    if record is None or missing:
        kind = "complete (or quick)" if quick else "complete full"
        found = f"{record.path} lacks {', '.join(missing)}" if record else f"there is none under {runs_root() / task}"
        raise HwkitError(f"{f'task {reader}' if reader else 'this task'} reads the latest {kind} run of {task}, and {found}: run `{task_command(task, quick)}` first")
    return record


def load_model(record: RunRecord, filename: str):
    """The Keras model ``models/<filename>`` of a run, loaded with ``safe_mode=True`` (no arbitrary code from the file)."""
    from hwkit import tf_runtime  # noqa: F401  (quiet TensorFlow import before Keras)
    import keras
    path = record.path / "models" / filename
    if not path.is_file():
        raise HwkitError(f"{record.path} has no models/{filename}: run `{task_command(record.task, record.quick)}` again")
    return keras.models.load_model(path, safe_mode=True)
