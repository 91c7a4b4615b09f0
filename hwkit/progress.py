"""Live progress: what a running task is doing now, for the person watching ``report --run``.

A task reports its phase — ``search`` trial k of n, ``training`` epoch e of E with seconds per
step — through ``update``; the Keras callback ``hwkit.training.PhaseProgress`` and the tuner call it,
so a task's own code does not. ``report --run`` starts each task with ``$HWKIT_PROGRESS_FILE`` set
and reads that small JSON file (``read``) to draw its view: one line per running task, counts and an
estimate of the time left (``estimate_left_s``), updated in place on a terminal (rich) and as plain
lines, one per change, when the output goes to a file or CI. Without the variable (a task run on its
own) ``update`` only prints a line when the phase changes; Keras' own progress bars show the rest.

The progress file is a display aid, not a record: it is untrusted input like any run file (a
bounded read, and a file that does not parse shows as "running").
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from hwkit.files import atomic_file

ENV = "HWKIT_PROGRESS_FILE"
MAX_BYTES = 4096
MIN_INTERVAL_S = 1.0   # a fit of 1000 one-step epochs must not spend its time writing progress files


@dataclass(frozen=True)
class Progress:
    phase: str                      # "search", "training", or a task's own word
    step: int | None = None         # trial or epoch number, 1-based
    total: int | None = None
    seconds_per_step: float | None = None

    def describe(self) -> str:
        """``search trial 3/20`` · ``training epoch 4/6, 131 s/epoch``."""
        unit = {"search": "trial", "training": "epoch"}.get(self.phase, "step")
        text = self.phase
        if self.step is not None:
            text += f" {unit} {self.step}" + (f"/{self.total}" if self.total else "")
        if self.seconds_per_step:
            text += f", {self.seconds_per_step:.0f} s/{unit}" if self.seconds_per_step >= 10 \
                else f", {self.seconds_per_step:.1f} s/{unit}"
        return text

    def fraction_left(self) -> float | None:
        """Share of this phase still to go (None when the phase has no known length)."""
        if self.step is None or not self.total:
            return None
        return max(0.0, 1.0 - self.step / self.total)


_last_phase: str | None = None
_last_write = 0.0


def update(phase: str, step: int | None = None, total: int | None = None,
           seconds_per_step: float | None = None) -> None:
    """Report the running task's phase (a no-op apart from one line per phase change when nobody watches)."""
    global _last_phase, _last_write
    progress = Progress(phase, step, total, seconds_per_step)
    target = os.environ.get(ENV)
    now = time.monotonic()
    if target and (phase != _last_phase or step == total or now - _last_write >= MIN_INTERVAL_S):
        _last_write = now
        try:
            with atomic_file(Path(target)) as tmp:
                tmp.write_text(json.dumps({**asdict(progress), "updated": time.time()}))
        except OSError:
            pass  # progress is a display aid: never stop a training for it
    elif phase != _last_phase:
        print(f"--- {progress.describe()}", flush=True)
    _last_phase = phase


def read(path: Path) -> Progress | None:
    """The progress a task last wrote, or None (missing, too large, or not the shape ``update`` writes)."""
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_BYTES + 1)
        data = json.loads(raw) if len(raw) <= MAX_BYTES else None
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("phase"), str):
        return None

    def number(key, kind):
        value = data.get(key)
        return kind(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    return Progress(data["phase"][:40], number("step", int), number("total", int), number("seconds_per_step", float))


def estimate_left_s(running: list[tuple[float, Progress | None, float]], waiting_expected_s: list[float],
                    jobs: int) -> float:
    """Seconds until every task is done, roughly.

    ``running``: per running task (seconds since it started, its progress, its expected wall seconds);
    the larger of its expected time minus what it has used and, while it trains, what its current training
    needs at its own pace (a task that trains several models in turn reports one training at a time, so
    the pace alone would say "almost done" at the end of each). Waiting tasks add their expected seconds,
    shared by ``jobs``.
    """
    left = []
    for elapsed, progress, expected in running:
        budget_left = max(0.0, expected - elapsed)
        fraction = progress.fraction_left() if progress and progress.phase == "training" else None
        if fraction is not None and progress.seconds_per_step:
            left.append(max(budget_left, fraction * progress.total * progress.seconds_per_step))
        else:
            left.append(budget_left)
    return max(left, default=0.0) if not waiting_expected_s else \
        (sum(left) + sum(waiting_expected_s)) / max(1, jobs)


def clock(seconds: float) -> str:
    """``3725`` -> ``1:02:05``; under an hour ``12:05``."""
    seconds = int(round(max(0.0, seconds)))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
