"""Scale a KerasTuner search out: a chief that serves the oracle over gRPC, and worker processes.

KerasTuner's documented distributed mode is the engine: every process runs the same script with
``KERASTUNER_TUNER_ID`` / ``KERASTUNER_ORACLE_IP`` / ``KERASTUNER_ORACLE_PORT`` set; the chief's
``Tuner.search`` serves the oracle over gRPC; each worker's tuner asks it for a trial, fits it and
reports the score. hwkit adds the parts a course-sized command line needs:

* ``--workers N``: this process becomes the chief on loopback (127.0.0.1, a free port), starts N
  worker processes of the same task (``--threads`` = cores // N each, ``CUDA_VISIBLE_DEVICES`` =
  one GPU each where GPUs exist; their output goes to ``<search dir>/<tuner id>.log``), waits for
  them, and returns the search result; the task then trains the final model as usual and writes one
  run directory. A worker that dies is restarted once with the same tuner id (KerasTuner hands it
  its unfinished trial again); one that fails again is given up and its trial goes to the others.
* multi-machine: ``--tuner-role chief --oracle HOST:PORT`` on one machine and
  ``--tuner-role worker --oracle HOST:PORT --tuner-id ID --search-dir DIR`` on the others.
* lost workers: during a trial a worker sends a heartbeat every ``--worker-lease``/4 seconds; the
  chief hands the trial of a worker silent for ``--worker-lease`` seconds to the next worker that
  asks (KerasTuner alone would wait for that worker forever).
* the end of the search is ours: KerasTuner's chief returns only after polling every 20 s (and
  the chief has a final training to do), so it serves in a thread while ``serve`` watches the
  workers and returns once every worker has been told the search is over (hwkit's target and
  wall-clock rules live in the chief's oracle, so a stop reaches every worker on its next request)
  and nobody is still running a trial.
* a worker that cannot reach the chief fails with one ``error:`` line after ``--oracle-timeout``
  seconds (KerasTuner itself waits an hour per request); the same timeout bounds each request
  during the search (the one KerasTuner internal hwkit uses, in ``hwkit.private_api``).

The settings travel as a ``Cluster`` made by ``from_args`` and made current for the task's run with
``active(cluster)``; ``hwkit.tuning.search`` reads ``current()`` the way Keras code reads the
current ``tf.distribute`` strategy. This module imports no TensorFlow (gRPC only when serving).
"""
from __future__ import annotations

import argparse
import contextlib
import contextvars
import dataclasses
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Iterator, Sequence

from hwkit import HwkitError
from hwkit.task import bounded_float, bounded_int

ROLES = ("chief", "worker")
DEFAULT_ORACLE_TIMEOUT_S = 60.0
MAX_ORACLE_TIMEOUT_S = 86_400.0    # a day: KerasTuner's own wait is an hour; inf or 1e12 overflow gRPC's deadline
MIN_ORACLE_TIMEOUT_S = 0.1
LOCAL_PROCESSES_PER_CORE = 4       # bound on --workers, --threads, report --jobs (each worker is a ~0.5 GB TensorFlow)
DEFAULT_WORKER_LEASE_S = 60.0
SERVER_START_S = 60.0              # the chief's gRPC server must answer within this long of starting
RESTARTS_PER_WORKER = 1            # a local worker that dies is restarted this many times
STOP_GRACE_S = 120.0               # after the stop: at least this long for workers to finish their trial


class WorkerFinished(Exception):
    """Raised by a worker's search when the chief says the search is over: the task stops there."""


@dataclasses.dataclass(frozen=True)
class Cluster:
    """Where this process stands in a search: alone, the chief (with local workers), or a worker."""

    workers: int = 0                  # local worker processes the chief starts (0: none)
    role: str | None = None           # "chief", "worker", or None (chief on loopback if workers > 0)
    oracle: str | None = None         # HOST:PORT the chief listens on / the workers connect to
    tuner_id: str | None = None       # a worker's KerasTuner id
    search_dir: str | None = None     # KerasTuner's directory (shared by chief and workers)
    oracle_timeout: float = DEFAULT_ORACLE_TIMEOUT_S
    worker_lease: float = DEFAULT_WORKER_LEASE_S   # a worker silent this long is taken for lost
    threads: int | None = None        # TensorFlow intra-op threads of this process
    module: str = ""                  # `python -m <module>` starts a worker of the same task
    argv: tuple[str, ...] = ()        # the command line minus the distribution flags, for workers

    @property
    def is_worker(self) -> bool:
        return self.role == "worker"

    @property
    def is_chief(self) -> bool:
        return self.role == "chief" or (self.role is None and self.workers > 0)

    @property
    def is_distributed(self) -> bool:
        return self.is_worker or self.is_chief

    @property
    def heartbeat_s(self) -> float | None:
        """How often a worker shows the chief it is alive during a trial (4 beats per lease)."""
        return self.worker_lease / 4 if self.is_worker else None

    def host_port(self) -> tuple[str, int]:
        return parse_address(self.oracle)


_CURRENT: contextvars.ContextVar[Cluster] = contextvars.ContextVar("hwkit_search_cluster", default=Cluster())


def current() -> Cluster:
    """The cluster the running task's searches use (a lone process unless ``active`` says otherwise)."""
    return _CURRENT.get()


@contextlib.contextmanager
def active(cluster: Cluster) -> Iterator[Cluster]:
    token = _CURRENT.set(cluster)
    try:
        yield cluster
    finally:
        _CURRENT.reset(token)


# ----------------------------------------------------------------------------- command line

def max_local_processes(cores: int | None = None) -> int:
    """The most worker processes (or threads) this machine is asked to run: ``LOCAL_PROCESSES_PER_CORE`` per core.

    More than that only thrashes; 64 workers needed ~36 GB on a 2-core machine. Workers on other
    machines (``--tuner-role worker``) are not counted: each is bounded by its own machine.
    """
    return LOCAL_PROCESSES_PER_CORE * (cores or os.cpu_count() or 1)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The distribution flags of a task that runs a KerasTuner search."""
    local = max_local_processes()
    per_core = f"{LOCAL_PROCESSES_PER_CORE} per core on this machine"
    g = parser.add_argument_group("distributed search (KerasTuner chief + workers)")
    g.add_argument("--workers", default=0,
                   type=bounded_int(1, local, "a number of worker processes",
                                    note=f"{per_core}; workers on other machines join with --tuner-role worker"),
                   help=f"run the search with N worker processes on this machine (chief on loopback; 1..{local}, "
                        f"{per_core}; more join from other machines with --tuner-role worker)")
    g.add_argument("--tuner-role", choices=ROLES,
                   help="multi-machine search: this process is the chief (serves the oracle) or a worker")
    g.add_argument("--oracle", metavar="HOST:PORT",
                   help="address the chief listens on and the workers connect to")
    g.add_argument("--tuner-id", help="a worker's KerasTuner id (unique per worker; reuse it to restart one)")
    g.add_argument("--search-dir", help="KerasTuner directory shared by chief and workers (the chief resumes from it)")
    g.add_argument("--oracle-timeout", default=DEFAULT_ORACLE_TIMEOUT_S,
                   type=bounded_float(MIN_ORACLE_TIMEOUT_S, MAX_ORACLE_TIMEOUT_S, "a number of seconds",
                                      note="at most a day"),
                   help=f"seconds a worker waits for the chief (default {DEFAULT_ORACLE_TIMEOUT_S:.0f}, "
                        f"at most {MAX_ORACLE_TIMEOUT_S:.0f})")
    g.add_argument("--worker-lease", default=DEFAULT_WORKER_LEASE_S,
                   type=bounded_float(MIN_ORACLE_TIMEOUT_S, MAX_ORACLE_TIMEOUT_S, "a number of seconds",
                                      note="at most a day"),
                   help="seconds without a sign of life (a worker sends one every lease/4 s during a trial) after "
                        "which the chief gives a worker's trial to another worker; give chief and workers the same "
                        f"value (default {DEFAULT_WORKER_LEASE_S:.0f})")
    g.add_argument("--threads", type=bounded_int(1, local, "a number of threads", note=per_core),
                   help=f"TensorFlow threads of this process (default: all cores; 1..{local})")


_VALUE_FLAGS = ("--workers", "--tuner-role", "--oracle", "--tuner-id", "--search-dir", "--oracle-timeout",
                "--threads", "--strategy")
_BARE_FLAGS = ("--report",)


def worker_argv(argv: Sequence[str]) -> list[str]:
    """The command line without the flags that belong to the chief alone (distribution, --report, --strategy)."""
    out, skip = [], False
    for token in argv:
        if skip:
            skip = False
        elif token in _VALUE_FLAGS:
            skip = True
        elif token in _BARE_FLAGS or token.split("=", 1)[0] in _VALUE_FLAGS:
            continue
        else:
            out.append(token)
    return out


def parse_address(text: str | None) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6) as (host, port), or one clear error."""
    host, _, port = (text or "").rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise HwkitError(f"--oracle must be HOST:PORT with a port in 1..65535, got {text!r}")
    return host, int(port)


def from_args(args: argparse.Namespace, module: str, argv: Sequence[str]) -> Cluster:
    """Check the distribution flags together and return the Cluster they describe."""
    role, workers = args.tuner_role, args.workers or 0
    if role is None and (args.oracle or args.tuner_id):
        raise HwkitError("--oracle and --tuner-id need --tuner-role chief or worker "
                         "(or use --workers N on one machine)")
    if role == "worker":
        missing = [f for f, v in (("--oracle", args.oracle), ("--tuner-id", args.tuner_id),
                                  ("--search-dir", args.search_dir)) if not v]
        if missing:
            raise HwkitError(f"--tuner-role worker needs {' and '.join(missing)}")
        if workers:
            raise HwkitError("--workers is for the chief; a worker runs one tuner")
        if "chief" in args.tuner_id or not args.tuner_id.replace("-", "").replace("_", "").isalnum():
            raise HwkitError(f"--tuner-id must be letters, digits, - or _ and must not contain 'chief' "
                             f"(KerasTuner's mark of the chief), got {args.tuner_id!r}")
    if role == "chief" and not args.oracle:
        raise HwkitError("--tuner-role chief needs --oracle HOST:PORT (the address it listens on)")
    if args.oracle:
        parse_address(args.oracle)
    if role is None and not workers and args.search_dir:
        raise HwkitError("--search-dir is for a distributed search (--workers N or --tuner-role)")
    return Cluster(workers=workers, role=role, oracle=args.oracle, tuner_id=args.tuner_id,
                   search_dir=args.search_dir, oracle_timeout=args.oracle_timeout,
                   worker_lease=getattr(args, "worker_lease", DEFAULT_WORKER_LEASE_S), threads=args.threads,
                   module=module, argv=tuple(worker_argv(argv)))


def configure_threads(threads: int | None) -> None:
    """Limit TensorFlow (and BLAS) to ``threads`` threads; call before TensorFlow runs any op."""
    if not threads:
        return
    os.environ["OMP_NUM_THREADS"] = str(threads)
    from hwkit import tf_runtime  # noqa: F401
    # isort: split
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(min(2, threads))


def check_reachable(cluster: Cluster) -> None:
    """Fail within ``oracle_timeout`` seconds, with one line, when the chief cannot be reached."""
    import grpc
    channel = grpc.insecure_channel(cluster.oracle)
    try:
        grpc.channel_ready_future(channel).result(timeout=cluster.oracle_timeout)
    except grpc.FutureTimeoutError:
        raise HwkitError(f"cannot reach the KerasTuner chief at {cluster.oracle} within {cluster.oracle_timeout:g} s: "
                         "start the chief first (--tuner-role chief --oracle HOST:PORT) or check the address "
                         "and firewall") from None
    finally:
        channel.close()


# ----------------------------------------------------------------------------- worker side

@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def kerastuner_environment(tuner_id: str, host: str, port: int) -> dict[str, str]:
    """KerasTuner's documented switches of its distributed mode (an id containing 'chief' serves)."""
    return {"KERASTUNER_TUNER_ID": tuner_id, "KERASTUNER_ORACLE_IP": host, "KERASTUNER_ORACLE_PORT": str(port)}


@contextlib.contextmanager
def worker_environment(cluster: Cluster) -> Iterator[None]:
    """A worker's ``KERASTUNER_*`` switches, set for the search only, and requests bounded by
    ``--oracle-timeout`` (KerasTuner waits an hour; no public setting, see ``hwkit.private_api``)."""
    from hwkit import private_api
    with _environment(kerastuner_environment(cluster.tuner_id, *cluster.host_port())), \
            private_api.request_timeout(cluster.oracle_timeout):
        yield


def run_worker(tuner, cluster: Cluster, *fit_args, **fit_kwargs) -> None:
    """Run trials handed out by the chief until it says stop; then raise ``WorkerFinished``."""
    import grpc
    try:
        tuner.search(*fit_args, **fit_kwargs)
    except grpc.RpcError as e:
        raise HwkitError(f"worker {cluster.tuner_id} lost the KerasTuner chief at {cluster.oracle} "
                         f"({e.code().name}); restart this worker with the same --tuner-id "
                         "once the chief is back") from None
    raise WorkerFinished(f"worker {cluster.tuner_id}: ran {len(getattr(tuner, 'trials_run', []))} trial(s); "
                         "the chief stopped the search")


# ----------------------------------------------------------------------------- chief side

@dataclasses.dataclass
class _LocalWorker:
    tuner_id: str
    command: list[str]
    env: dict
    log: Path
    process: subprocess.Popen | None = None
    restarts: int = 0
    done: bool = False                # exited 0, or failed for good
    failed: bool = False

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(self.command, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _gpu_ids() -> list[str]:
    """The GPUs this process may use, as CUDA_VISIBLE_DEVICES entries (none on a CPU-only machine)."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [g for g in visible.split(",") if g.strip() and g.strip() != "-1"]
    try:
        import tensorflow as tf
        return [str(i) for i in range(len(tf.config.list_physical_devices("GPU")))]
    except Exception:  # pragma: no cover - no TensorFlow GPU support at all
        return []


def threads_per_worker(workers: int, cores: int | None = None) -> int:
    """Cores shared evenly: cores // workers, at least 1."""
    return max(1, (cores or os.cpu_count() or 1) // workers)


def _local_workers(cluster: Cluster, port: int, search_dir: Path) -> list[_LocalWorker]:
    if not cluster.workers:
        return []
    gpus, threads = _gpu_ids(), cluster.threads or threads_per_worker(cluster.workers)
    out = []
    for i in range(cluster.workers):
        tuner_id = f"worker{i}"
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))
        if gpus:
            env["CUDA_VISIBLE_DEVICES"] = gpus[i % len(gpus)]
        command = [sys.executable, "-m", cluster.module, *cluster.argv, "--tuner-role", "worker",
                   "--oracle", f"127.0.0.1:{port}", "--tuner-id", tuner_id, "--search-dir", str(search_dir),
                   "--oracle-timeout", f"{cluster.oracle_timeout:g}", "--threads", str(threads)]
        out.append(_LocalWorker(tuner_id, command, env, search_dir / f"{tuner_id}.log"))
    return out


def _connect_host(host: str) -> str:
    """Where this machine reaches a server listening on ``host`` (a wildcard address: loopback)."""
    return {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "[::]": "[::1]", "::": "[::1]"}.get(host, host)


def _check_can_listen(host: str, port: int) -> None:
    """One clear line when ``host:port`` cannot be listened on (in use, or not this machine's address).

    gRPC itself would share a port with another server (it sets SO_REUSEPORT) or fail in the
    serving thread; a plain bind without SO_REUSEPORT tells in advance.
    """
    try:
        infos = socket.getaddrinfo(host.strip("[]") or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _, address = infos[0]
        with socket.socket(family, kind, proto) as s:
            s.bind(address)
    except OSError:
        raise HwkitError(f"the KerasTuner chief cannot listen on {host}:{port}: is the port in use or the host not "
                         "this machine's? choose another --oracle") from None


def _start_chief(tuner, host: str, port: int) -> threading.Thread:
    """KerasTuner's own chief: ``tuner.search()`` with ``KERASTUNER_TUNER_ID=chief`` serves the oracle.

    It runs in a daemon thread because it returns only once every worker has been told to stop
    (polling every 20 s); ``serve`` decides on its own when the search is over and lets it end.
    """
    failure: list[BaseException] = []

    def run() -> None:
        try:
            tuner.search()
        except BaseException as e:  # noqa: BLE001 - reported by serve() in one line
            failure.append(e)

    import grpc
    with _environment(kerastuner_environment("chief", host, port)):
        thread = threading.Thread(target=run, name="keras-tuner-chief", daemon=True)
        thread.start()
        channel = grpc.insecure_channel(f"{_connect_host(host)}:{port}")
        try:
            deadline = time.monotonic() + SERVER_START_S
            while True:   # the environment stays set until KerasTuner has read it and listens
                try:
                    grpc.channel_ready_future(channel).result(timeout=0.2)
                    break
                except grpc.FutureTimeoutError:
                    if not thread.is_alive() or time.monotonic() > deadline:
                        why = f": {str(failure[0]).splitlines()[0]}" if failure else ""
                        raise HwkitError(f"the KerasTuner chief did not start serving on {host}:{port}{why}") from None
        finally:
            channel.close()
    thread.failure = failure
    return thread


def serve(tuner, cluster: Cluster, search_dir: Path, poll_s: float = 0.5) -> None:
    """Serve ``tuner``'s oracle to the workers until the search is over; start and watch the local workers.

    Over = the oracle has told a worker to stop (target, budget or max_trials: KerasTuner's STOPPED)
    and no worker still runs a trial or has yet to hear it; with local workers only, when they have
    all exited. After the stop, workers get ``max(STOP_GRACE_S, 2 x the longest trial)`` to finish
    their trial; a local worker still running then is stopped (its trial stays unfinished).
    A worker lost mid-trial (a local one that failed for good, or one silent for ``--worker-lease``
    seconds) has its trial handed to the next worker that asks.
    """
    oracle = tuner.oracle
    host, port = cluster.host_port() if cluster.oracle else ("127.0.0.1", free_port())
    _check_can_listen(host, port)
    chief = _start_chief(tuner, host, port)
    search_dir.mkdir(parents=True, exist_ok=True)
    locals_ = _local_workers(cluster, port, search_dir)
    print(f"KerasTuner chief serving the oracle on {host}:{port}; search directory {search_dir}"
          + ("" if cluster.oracle is None else f"; start workers with --tuner-role worker --oracle {cluster.oracle} "
                                               f"--tuner-id ID --search-dir DIR"), flush=True)
    for w in locals_:
        w.start()
        print(f"started search worker {w.tuner_id} (pid {w.process.pid}, log {w.log})", flush=True)
    stopped_at = None
    try:
        while True:
            time.sleep(poll_s)
            if not chief.is_alive() and (chief.failure or not oracle.finished()):
                why = f": {str(chief.failure[0]).splitlines()[0]}" if chief.failure else ""
                raise HwkitError(f"the KerasTuner chief stopped serving before the search was over{why}")
            for w in locals_:
                if _watch(w):
                    oracle.requeue_worker(w.tuner_id, f"it failed {w.restarts + 1} times; log {w.log}")
            if locals_ and all(w.failed for w in locals_):
                w = locals_[-1]
                print(w.tail(), file=sys.stderr)
                raise HwkitError(f"every search worker failed (worker {w.tuner_id}: {w.restarts + 1} times, last exit "
                                 f"status {w.process.returncode}); its output is in {w.log}")
            oracle.requeue_silent(cluster.worker_lease)
            locals_done = all(w.done for w in locals_)
            if oracle.stop_sent and stopped_at is None:
                stopped_at = time.monotonic()
            if locals_ and cluster.oracle is None and locals_done:
                break      # loopback only: every worker has heard the stop (or failed) and exited
            if locals_done and oracle.finished():
                break
            if stopped_at is not None and time.monotonic() - stopped_at > _grace(oracle):
                late = [w.tuner_id for w in locals_ if not w.done] or sorted(getattr(oracle, "ongoing_trials", {}))
                print(f"warning: the search stopped {_grace(oracle):.0f} s ago and {', '.join(late) or 'a worker'} "
                      "is still busy; not waiting for it", flush=True)
                break
    finally:
        for w in locals_:
            w.stop()
        oracle.save()
    chief.join(2 * poll_s + 1.5)   # KerasTuner's server sees the same end within ~1 s (else it ends on its own)


def _watch(w: _LocalWorker) -> bool:
    """Mark a local worker done when it exits 0; restart it once (same tuner id) if it fails.

    True when it has just failed for good (its trial is then given to another worker).
    """
    if w.done or w.process is None:
        return False
    rc = w.process.poll()
    if rc is None:
        return False
    if rc == 0:
        w.done = True
        return False
    if w.restarts < RESTARTS_PER_WORKER:
        w.restarts += 1
        print(f"search worker {w.tuner_id} exited with status {rc}; restarting it with the same tuner id "
              f"(KerasTuner gives it its unfinished trial again); log {w.log}", flush=True)
        w.start()
        return False
    w.done = w.failed = True
    print(f"search worker {w.tuner_id} failed {w.restarts + 1} times (last exit status {rc}); not restarting it; "
          f"its output is in {w.log}", flush=True)
    return True


def _grace(oracle) -> float:
    seconds = [info.get("seconds") or 0 for info in getattr(oracle, "trial_info", {}).values()]
    return max(STOP_GRACE_S, 2 * max(seconds, default=0))


def free_port() -> int:
    """A TCP port that is free on loopback now (for tests and benchmarks that start a chief themselves)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
