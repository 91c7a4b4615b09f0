"""The multi-machine paths, run as several processes on this one machine.

* ``--strategy multiworker``: two processes with a two-worker ``TF_CONFIG`` on free loopback
  ports train a tiny model through ``hwkit.training.setup_devices`` and ``Model.fit``; both end with
  the weights a single process gets on the same global batch.
* a distributed search whose worker is killed mid-trial and never comes back: the chief notices
  the silence (``--worker-lease``) and the other worker runs that trial; the search ends complete.

Both start real processes that import TensorFlow, so they are marked slow (the oracle's side of a
lost worker is tested in-process in test_lost_workers.py).
"""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from test_distribute import (  # noqa: F401  (task_package: a fixture)
    finish,
    only_run,
    start,
    task_package,
    wait_for_a_trial_of,
)

from hwkit import HwkitError, distribute

ROOT = Path(__file__).resolve().parents[1]
FIT = ROOT / "tests" / "multiworker_fit.py"


def two_free_ports() -> list[int]:
    ports: list[int] = []
    while len(ports) < 2:
        port = distribute.free_port()
        if port not in ports:
            ports.append(port)
    return ports


def start_workers(folder: Path, ports: list[int]) -> list[subprocess.Popen]:
    cluster = {"worker": [f"localhost:{p}" for p in ports]}
    procs = []
    for index in range(len(ports)):
        env = {k: v for k, v in os.environ.items() if not k.startswith("KERASTUNER_")}
        env.update(PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="", OMP_NUM_THREADS="1",
                   TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}))
        log = (folder / f"worker{index}.log").open("w")
        procs.append(subprocess.Popen([sys.executable, str(FIT), "multiworker", str(folder / f"worker{index}.npz")],
                                      cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL))
    return procs


def single_process_weights(path: Path) -> dict:
    """The same fit in this process with the default strategy (one replica)."""
    spec = importlib.util.spec_from_file_location("multiworker_fit", FIT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main("default", str(path))
    return dict(np.load(path))


@pytest.mark.slow
def test_two_multiworker_processes_end_with_the_single_process_weights(tmp_path, record_property):
    for attempt in range(2):          # a port taken between choosing and binding it: once more, new ports
        folder = tmp_path / f"try{attempt}"
        folder.mkdir()
        started = time.monotonic()
        procs = start_workers(folder, two_free_ports())
        try:
            reference = single_process_weights(folder / "single.npz")   # while the workers start up
            codes = [p.wait(timeout=240) for p in procs]
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait()
        wall = time.monotonic() - started
        logs = [(folder / f"worker{i}.log").read_text(errors="replace") for i in range(2)]
        if codes == [0, 0]:
            break
        assert attempt == 0 and any("in use" in log.lower() for log in logs), "\n\n".join(log[-3000:] for log in logs)
    print(f"multiworker: 2 worker processes, {wall:.1f} s wall time (start-up included)")
    record_property("multiworker_wall_s", round(wall, 1))
    workers = [dict(np.load(folder / f"worker{i}.npz")) for i in range(2)]
    assert int(workers[0]["replicas"]) == int(workers[1]["replicas"]) == 2 and int(reference["replicas"]) == 1
    names = sorted(k for k in reference if k != "replicas")
    assert names and all(set(names) <= set(w) for w in workers)
    for name in names:
        np.testing.assert_array_equal(workers[0][name], workers[1][name])      # in sync: one model
        np.testing.assert_allclose(workers[0][name], reference[name], rtol=1e-5, atol=1e-6)
    assert any(not np.allclose(reference[name], 0) for name in names)


def test_a_chief_whose_port_is_taken_says_so_in_one_line():
    import socket
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(HwkitError, match="cannot listen on 127.0.0.1:.*choose another --oracle"):
            distribute._check_can_listen("127.0.0.1", taken.getsockname()[1])
    distribute._check_can_listen("127.0.0.1", distribute.free_port())


@pytest.mark.slow
def test_a_worker_killed_for_good_mid_trial_has_its_trial_run_by_the_other(task_package):  # noqa: F811
    folder, env = task_package
    port, search = distribute.free_port(), folder / "search"
    # A 3 s lease: the chief gives worker0's trial away within seconds of the kill.
    common = ["--oracle", f"127.0.0.1:{port}", "--search-dir", str(search), "--trials", "3", "--trial-seconds", "1.5",
              "--worker-lease", "3"]
    chief = start(folder, env, "--tuner-role", "chief", *common, log="chief.log")
    workers = {w: start(folder, env, "--tuner-role", "worker", "--tuner-id", w, *common, log=f"{w}.log")
               for w in ("worker0", "worker1")}
    try:
        killed_trial = wait_for_a_trial_of("worker0", search, folder, {"chief": chief, **workers})
        time.sleep(0.3)                                          # into the trial's fit / wait
        workers["worker0"].kill()                                # SIGKILL, and no restart
        workers["worker0"].wait()
        assert finish(workers["worker1"], timeout=180) == 0, (folder / "worker1.log").read_text()
        assert finish(chief, timeout=120) == 0, (folder / "chief.log").read_text()
    finally:
        for process in (chief, *workers.values()):
            if process.poll() is None:
                process.kill()
    log = (folder / "chief.log").read_text()
    assert "search worker worker0 is lost (no sign of life" in log and f"its trial {killed_trial}" in log, log
    trials = json.loads((only_run(folder) / "tables" / "trials.json").read_text())
    assert len(trials) == 3 and all(t["status"] == "COMPLETED" for t in trials), trials
    assert len({t["units"] for t in trials}) == 3                      # each setting once, none lost
    assert next(t for t in trials if t["trial"] == killed_trial)["worker"] == "worker1"   # rerun by the other
    assert "worker worker1: ran" in (folder / "worker1.log").read_text()
