"""Live progress (``hwkit.progress``, ``hwkit.regenerate.ProgressView``): what a watcher of ``report --run`` sees."""
from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hwkit import progress, regenerate
from hwkit.progress import Progress


def test_describe_and_fraction_left():
    assert Progress("search", 3, 20).describe() == "search trial 3/20"
    assert Progress("training", 4, 6, 131.2).describe() == "training epoch 4/6, 131 s/epoch"
    assert Progress("training", 1, 6, 2.25).describe() == "training epoch 1/6, 2.2 s/epoch"
    assert Progress("training", None, 6).describe() == "training"
    assert Progress("training", 4, 6).fraction_left() == pytest.approx(1 / 3)
    assert Progress("search", 3, None).fraction_left() is None


def test_update_writes_the_file_named_by_the_environment(tmp_path, monkeypatch, capsys):
    target = tmp_path / "p1.progress.json"
    monkeypatch.setenv(progress.ENV, str(target))
    monkeypatch.setattr(progress, "_last_write", 0.0)
    progress.update("training", 2, 5, 3.0)
    assert progress.read(target) == Progress("training", 2, 5, 3.0)
    assert capsys.readouterr().out == ""           # watched: nothing on the task's own output


def test_update_writes_at_most_once_a_second_within_a_phase(tmp_path, monkeypatch):
    target = tmp_path / "p1.progress.json"
    monkeypatch.setenv(progress.ENV, str(target))
    monkeypatch.setattr(progress, "_last_write", 0.0)
    monkeypatch.setattr(progress, "_last_phase", None)
    for epoch in range(1, 1000):                    # 1000 one-step epochs within a second: one write ...
        progress.update("training", epoch, 1000)
    assert progress.read(target).step == 1
    progress.update("training", 1000, 1000)         # ... and the last epoch
    assert progress.read(target).step == 1000
    progress.update("search", 1, 5)                 # a new phase is written at once
    assert progress.read(target).phase == "search"


def test_update_alone_prints_one_line_per_phase(monkeypatch, capsys):
    monkeypatch.delenv(progress.ENV, raising=False)
    monkeypatch.setattr(progress, "_last_phase", None)
    for epoch in (1, 2, 3):
        progress.update("training", epoch, 3)
    progress.update("search", 1, 4)
    assert capsys.readouterr().out.splitlines() == ["--- training epoch 1/3", "--- search trial 1/4"]


@pytest.mark.parametrize("content", [b"", b"not json", b"[1, 2]", b'{"phase": 3}', b'{"phase": "x", "pad": "'
                                     + b"y" * 5000 + b'"}'])
def test_read_refuses_what_update_does_not_write(tmp_path, content):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    assert progress.read(path) is None
    assert progress.read(tmp_path / "missing.json") is None


def test_read_drops_fields_of_the_wrong_type(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"phase": "training", "step": "2", "total": True, "seconds_per_step": 1.5}))
    assert progress.read(path) == Progress("training", None, None, 1.5)


def test_estimate_left():
    training = Progress("training", 2, 6, 10.0)                 # 4 epochs of 10 s to go
    assert progress.estimate_left_s([(270.0, training, 300.0)], [], jobs=2) == pytest.approx(40.0)
    # one training of several (its pace says 40 s; the task's expected time says 200 s more): the larger
    assert progress.estimate_left_s([(100.0, training, 300.0)], [], jobs=2) == pytest.approx(200.0)
    # slower than expected: its own pace wins over an expected time already used up
    assert progress.estimate_left_s([(400.0, training, 300.0)], [], jobs=2) == pytest.approx(40.0)
    searching = Progress("search", 2, 10)                        # no pace known: expected minus used
    assert progress.estimate_left_s([(100.0, searching, 300.0)], [], jobs=2) == pytest.approx(200.0)
    assert progress.estimate_left_s([(500.0, None, 300.0)], [], jobs=2) == 0.0
    # two running, two waiting of 60 s each, on two job slots
    both = [(0.0, training, 0.0), (100.0, None, 300.0)]
    assert progress.estimate_left_s(both, [60.0, 60.0], jobs=2) == pytest.approx((40 + 200 + 120) / 2)
    assert progress.estimate_left_s([], [], jobs=2) == 0.0


def test_clock():
    assert progress.clock(3725) == "1:02:05"
    assert progress.clock(65.4) == "1:05"
    assert progress.clock(-3) == "0:00"


class _Done:
    def poll(self):
        return 0


def _job(tmp_path: Path, name: str, now: Progress | None) -> regenerate._Job:
    job = regenerate._Job(name, _Done(), tmp_path / f"{name}.log", time.perf_counter() - 30)
    if now is not None:
        job.progress_file.write_text(json.dumps(now.__dict__))
    return job


def test_plain_view_prints_a_line_per_change_and_no_control_characters(tmp_path):
    out = io.StringIO()
    view = regenerate.ProgressView(total=3, jobs=2, live=False, stream=out)
    job = _job(tmp_path, "d6", Progress("search", 1, 8))
    view.refresh([job], [], done=1, failed=0)
    view.refresh([job], [], done=1, failed=0)                     # unchanged: no new line
    job.progress_file.write_text(json.dumps(Progress("training", 1, 6, 120.0).__dict__))
    view.refresh([job], [], done=1, failed=0)
    view.event("d6 done in 900 s")
    lines = out.getvalue().splitlines()
    assert len(lines) == 3, lines
    assert lines[0].startswith("... d6: search trial 1/8 (0:30) | 1 done · 0 failed · 1 running · 0 waiting of 3")
    assert "training epoch 1/6, 120 s/epoch" in lines[1]
    # at least the 5 epochs of 120 s its pace needs; more while d6's expected time is not used up
    minutes, seconds = re.search(r"about (\d+):(\d\d) left", lines[1]).groups()
    assert 60 * int(minutes) + int(seconds) >= 600
    assert lines[2].endswith("d6 done in 900 s")
    assert "\x1b" not in out.getvalue() and "\r" not in out.getvalue()


def test_live_view_redraws_in_place(tmp_path):
    out = io.StringIO()
    view = regenerate.ProgressView(total=2, jobs=2, live=True, stream=out)
    view.refresh([_job(tmp_path, "b1", Progress("search", 2, 5))], [], done=0, failed=0)
    view._live.refresh()
    view.close()
    text = out.getvalue()
    assert "b1" in text and "search trial 2/5" in text
    assert "\x1b[" in text                                       # cursor movement: the table is redrawn in place


def test_phase_progress_callback_reports_epochs(tmp_path, monkeypatch):
    import keras
    import numpy as np

    from hwkit import training
    target = tmp_path / "fit.progress.json"
    monkeypatch.setenv(progress.ENV, str(target))
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    seen = []
    monkeypatch.setattr(progress, "update", lambda *a: seen.append(a))
    model.fit(np.zeros((8, 2)), np.zeros((8, 1)), epochs=3, verbose=0, callbacks=[training.PhaseProgress()])
    assert [s[:3] for s in seen] == [("training", None, 3), ("training", 1, 3), ("training", 2, 3),
                                     ("training", 3, 3)]
    assert all(s[3] >= 0 for s in seen[1:])


@pytest.mark.slow   # a real `report --run` in two task processes, its output piped to a file
def test_report_run_piped_prints_plain_progress_lines(tmp_path, monkeypatch, runs_dir):
    from conftest import install_task_package
    source = '''
        """{name}: a toy task that reports two epochs."""
        import time
        from hwkit import progress
        from hwkit.task import main


        def run(args, run):
            for epoch in (1, 2):
                progress.update("training", epoch, 2, 0.6)
                time.sleep(1.2)
            run.log(done=True)


        if __name__ == "__main__":
            raise SystemExit(main(__spec__.name))
        '''
    package = install_task_package(tmp_path, monkeypatch, "progtasks", {"Q": "progress"},
                                   {"q1": source.format(name="Q1"), "q2": source.format(name="Q2")})
    env = {**__import__("os").environ, "HWKIT_RUNS_DIR": str(runs_dir), "HWKIT_TASKS": "progtasks",
           "PYTHONPATH": f"{package.parent}:{Path(__file__).resolve().parents[1]}"}
    log = tmp_path / "out.txt"
    with open(log, "w") as out:
        command = [sys.executable, "-m", "hwkit.report", "Q", "--run", "--jobs", "2", "--out-dir", str(tmp_path)]
        done = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, env=env, timeout=300)
    text = log.read_text()
    assert done.returncode == 0, text[-2000:]
    assert "\x1b" not in text
    for task in ("q1", "q2"):
        assert f"... {task}: training epoch 1/2" in text and f"... {task}: training epoch 2/2" in text
        assert f"{task} done in" in text
