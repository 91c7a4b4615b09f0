"""KerasTuner with the rules hwkit adds: validation objective, stop at target, wall-clock budget.

KerasTuner owns the search (the space lives in a ``HyperModel.build(hp)`` next to the model
factory in ``hwkit.models``; the oracle proposes trials; the tuner fits them). This module adds:

* the objective is always a *validation* metric (``val_...``) — the test set never chooses;
* the oracle refuses new trials once the best score reaches ``target`` or the wall-clock budget
  is spent (KerasTuner's own STOPPED status, so ``tuner.search`` ends normally);
* a trial table (id, hyperparameters, score, seconds, status, worker) for JSON and the report;
* ``<directory>/search_summary.json``: objective, stop reason, the search space and every trial
  (failed ones with their error), read by the report's reproducibility appendix;
* TensorBoard logs per trial in ``<directory>/tensorboard/<trial id>/``.
* resume: the tuner directory is reloaded (``overwrite=False``), so a search interrupted in a
  run directory continues with the trials it has not finished, within what is left of its budget.

A search scales out with KerasTuner's distributed mode: the oracle (and with it the target and
budget rules) lives in the chief, workers ask it for trials over gRPC. ``search`` runs as the
command line's ``hwkit.distribute.current()`` cluster says: alone, as the chief (serving the oracle
and waiting for its workers), or as a worker (running trials until the chief says stop).
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from hwkit import tf_runtime  # noqa: F401  (quiet TensorFlow import before Keras)

# isort: split
import keras_tuner as kt
from keras_tuner.engine.trial import Trial, TrialStatus

from hwkit import HwkitError, distribute, progress

ORACLES = {"random": kt.oracles.RandomSearchOracle, "bayesian": kt.oracles.BayesianOptimizationOracle,
           "grid": kt.oracles.GridSearchOracle}


IDLE_WAIT_S = 1.0          # a worker told to wait (IDLE) asks the chief again after this long


def _budgeted(oracle_cls):
    """Subclass an oracle so that it stops proposing trials at the target or after the budget.

    It also notes, per trial, which tuner ran it (``worker``) and its wall time on the oracle's
    clock (``seconds``, from hand-out to result): in a distributed search only the chief's oracle
    sees every trial, so that is where the trial table's facts are kept (and saved with its state).

    Lost workers: every request about a trial (and a worker's heartbeat, ``get_trial`` every
    lease / 4 s) is a sign of life. ``requeue_silent(lease)`` takes the trials of workers silent
    for longer, and ``requeue_worker(id)`` those of a worker known dead, and hands them to the next
    worker that asks. So that someone is left to ask, a worker that finds no new trial to start
    (max_trials reached, space exhausted) while others still run one is told to wait (IDLE) rather
    than to stop; the target and the budget stop everyone at once, as before.
    """

    class Budgeted(oracle_cls):
        def __init__(self, *args, target: float | None = None, time_budget_s: float | None = None, **kwargs):
            super().__init__(*args, **kwargs)
            self.target, self.time_budget_s = target, time_budget_s
            self.stop_reason: str | None = None
            self.stop_sent = False                    # a worker has been told the search is over
            self._started: float | None = None
            self.trial_info: dict[str, dict] = {}
            self.requeued: list[str] = []             # trials of lost workers, handed out first
            self.last_seen: dict[str, float] = {}     # trial id -> time.monotonic() of its last sign of life

        def _best_score(self):
            best = self.get_best_trials(1)
            return best[0].score if best and best[0].score is not None else None

        def target_reached(self) -> bool:
            best = self._best_score()
            if self.target is None or best is None:
                return False
            return best >= self.target if self.objective.direction == "max" else best <= self.target

        def _unfinished(self) -> list[str]:
            """Trials handed out and not ended, or waiting to be run again (after a reload or a retry)."""
            return [t.trial_id for t in self.trials.values()
                    if t.status not in (TrialStatus.COMPLETED, TrialStatus.FAILED)]

        def search_over(self) -> bool:
            """True when no trial is left to run (a resumed chief has nothing to serve)."""
            return not self._unfinished() and (self.target_reached() or (self.max_trials is not None
                                                                         and len(self.trials) >= self.max_trials))

        def _seconds_of_reloaded_trials(self) -> float:
            """Time already spent by the trials of an interrupted search (0 for a new one): it counts
            against the budget, so a resumed search does not get a second full budget."""
            return sum(info.get("seconds") or 0.0 for info in self.trial_info.values())

        def _why_stop_now(self) -> str | None:
            """hwkit's reasons to stop every worker now: the target is reached or the budget spent."""
            if self._started is None:
                self._started = time.perf_counter() - self._seconds_of_reloaded_trials()
            if self.target_reached():
                return f"target {self.objective.name} {self.target} reached ({self._best_score():.4f})"
            # The budget is checked before each new trial; the first trial always runs.
            if (self.time_budget_s is not None and self.trials
                    and time.perf_counter() - self._started > self.time_budget_s):
                return f"wall-clock budget of {self.time_budget_s:.0f} s spent"
            return None

        def populate_space(self, trial_id):
            self.stop_reason = self._why_stop_now()
            if self.stop_reason:
                return {"status": TrialStatus.STOPPED, "values": None}
            return super().populate_space(trial_id)

        def _handed_out(self, trial, tuner_id: str) -> None:
            self.trial_info[trial.trial_id] = {**self.trial_info.get(trial.trial_id, {}), "worker": tuner_id,
                                               "started": time.time()}
            self.last_seen[trial.trial_id] = time.monotonic()

        @kt.synchronized
        def create_trial(self, tuner_id):
            if tuner_id not in self.ongoing_trials and self.requeued and not self._why_stop_now():
                trial = self.trials[self.requeued.pop(0)]     # a lost worker's trial, run again here
                trial.status = TrialStatus.RUNNING
                self.ongoing_trials[tuner_id] = trial
                self.tuner_ids.add(tuner_id)
                self._handed_out(trial, tuner_id)
                self.save()
                return trial
            trial = super().create_trial(tuner_id)
            if trial.status == TrialStatus.RUNNING:
                self._handed_out(trial, tuner_id)
            elif trial.status == TrialStatus.STOPPED:
                if not self.stop_reason and any(t != tuner_id for t in self.ongoing_trials):
                    self.tuner_ids.add(tuner_id)              # still one of the search's workers
                    return Trial(self.hyperparameters.copy(), status=TrialStatus.IDLE)
                self.stop_sent = True
            return trial

        def get_trial(self, trial_id):
            self.last_seen[trial_id] = time.monotonic()       # a worker's heartbeat
            return super().get_trial(trial_id)

        @kt.synchronized
        def update_trial(self, trial_id, metrics, step=0):
            self.last_seen[trial_id] = time.monotonic()
            return super().update_trial(trial_id, metrics, step=step)

        @kt.synchronized
        def end_trial(self, trial):
            if trial.trial_id in self.end_order:
                # A worker taken for lost was only slow: its trial has been ended already.
                print(f"trial {trial.trial_id} ended twice (a worker taken for lost came back); "
                      "the first result is kept", flush=True)
                return
            if trial.trial_id in self.requeued:
                self.requeued.remove(trial.trial_id)          # its worker came back in time
            self.last_seen.pop(trial.trial_id, None)
            info = self.trial_info.setdefault(trial.trial_id, {})
            if "started" in info:
                info["seconds"] = time.time() - info["started"]
            super().end_trial(trial)

        @kt.synchronized
        def requeue_worker(self, tuner_id: str, why: str) -> str | None:
            """Take worker ``tuner_id`` for lost: its trial goes to the next worker that asks."""
            self.tuner_ids.discard(tuner_id)
            trial = self.ongoing_trials.pop(tuner_id, None)
            if trial is None:
                return None
            self.requeued.append(trial.trial_id)
            self.last_seen.pop(trial.trial_id, None)
            info = self.trial_info.setdefault(trial.trial_id, {})
            info["lost_by"] = [*info.get("lost_by", []), tuner_id]
            print(f"search worker {tuner_id} is lost ({why}): its trial {trial.trial_id} goes to the next worker "
                  "that asks", flush=True)
            self.save()
            return trial.trial_id

        @kt.synchronized
        def requeue_silent(self, lease_s: float) -> list[str]:
            """Requeue the trials of workers with no sign of life for ``lease_s`` seconds."""
            now, lost = time.monotonic(), []
            for tuner_id, trial in list(self.ongoing_trials.items()):
                seen = self.last_seen.setdefault(trial.trial_id, now)   # reloaded: its lease starts now
                if now - seen > lease_s:
                    lost.append(self.requeue_worker(tuner_id, f"no sign of life for {now - seen:.0f} s"))
            return lost

        @kt.synchronized
        def finished(self) -> bool:
            """Every worker that joined has been told to stop, and no trial is running."""
            return self.stop_sent and not self.ongoing_trials and not self.tuner_ids

        @kt.synchronized
        def save(self):       # the serving thread and hwkit's watch both save: one writer at a time
            super().save()

        def get_state(self):
            return {**super().get_state(), "hwkit_trial_info": self.trial_info, "hwkit_requeued": self.requeued}

        def set_state(self, state):
            super().set_state(state)
            self.trial_info = dict(state.get("hwkit_trial_info", {}))
            self.requeued = list(state.get("hwkit_requeued", []))

    Budgeted.__name__ = f"Budgeted{oracle_cls.__name__}"
    return Budgeted


class _Tuner(kt.Tuner):
    """KerasTuner's Tuner, remembering which trials this process ran (a worker reports the count).

    On a worker (``heartbeat_s`` set) it also shows the chief it is alive while a trial runs, and
    waits ``IDLE_WAIT_S`` between asks when the chief has no trial for it yet (KerasTuner asks
    again at once).
    """

    heartbeat_s: float | None = None

    def on_search_begin(self):
        self._asked = False
        super().on_search_begin()

    def pre_create_trial(self):
        if getattr(self, "_asked", False):      # the last answer started no trial: it was IDLE
            time.sleep(IDLE_WAIT_S)
        self._asked = True
        super().pre_create_trial()

    def on_trial_begin(self, trial):
        self._asked = False
        self.trials_run = [*getattr(self, "trials_run", []), trial.trial_id]
        # the chief's oracle counts every worker's trials; a worker's client only knows its own
        started = len(getattr(self.oracle, "trials", None) or self.trials_run)
        progress.update("search", started, self.oracle.max_trials)
        if self.heartbeat_s:
            self._heartbeat = threading.Event()
            threading.Thread(target=_heartbeat, args=(self.oracle, trial.trial_id, self.heartbeat_s, self._heartbeat),
                             name=f"hwkit-heartbeat-{trial.trial_id}", daemon=True).start()
        super().on_trial_begin(trial)

    def on_trial_end(self, trial):
        if getattr(self, "_heartbeat", None) is not None:
            self._heartbeat.set()
        super().on_trial_end(trial)


def _heartbeat(oracle, trial_id: str, every_s: float, stop: threading.Event) -> None:
    """Ask the chief about ``trial_id`` every ``every_s`` seconds until ``stop``: the chief's oracle
    takes each request as a sign of life of the worker running it."""
    while not stop.wait(every_s):
        try:
            oracle.get_trial(trial_id)
        except Exception:  # noqa: BLE001 - the chief is away: the search's own next request says so
            pass


@dataclass
class SearchResult:
    best_hyperparameters: kt.HyperParameters
    trials: list[dict] = field(default_factory=list)
    stop_reason: str = "max_trials reached"
    seconds: float = 0.0
    direction: str = "max"          # of the objective: "min" for a loss

    @property
    def best_score(self) -> float | None:
        """The best objective value over the scored trials, in the objective's own direction."""
        scores = [t["score"] for t in self.trials if t["score"] is not None]
        if not scores:
            return None
        return min(scores) if self.direction == "min" else max(scores)


def search(hypermodel: kt.HyperModel, x, y=None, *, validation_data, directory: Path | str,
           objective: str = "val_accuracy", direction: str = "max", target: float | None = None,
           max_trials: int = 10, time_budget_s: float | None = None, epochs: int = 1,
           oracle: str = "random", seed: int = 0, callbacks=(), verbose: int = 1, **fit_kwargs) -> SearchResult:
    """Run a KerasTuner search on (x, y) scored on ``validation_data``; return the best hp and trials."""
    if not objective.startswith("val_"):
        raise HwkitError(f"tuning objective must be a validation metric (val_*), got {objective!r}")
    if validation_data is None:
        raise HwkitError("tuning needs validation_data: the test set is never used to choose")
    if oracle not in ORACLES:
        raise HwkitError(f"unknown oracle {oracle!r}; choose from {', '.join(ORACLES)}")
    cluster = distribute.current()
    directory = Path(cluster.search_dir or directory)
    the_oracle = _budgeted(ORACLES[oracle])(
        objective=kt.Objective(objective, direction), max_trials=max_trials, seed=seed,
        target=target, time_budget_s=time_budget_s)
    from hwkit.training import tensorboard  # KerasTuner gives each trial its own sub-folder of log_dir
    fit = dict(validation_data=validation_data, epochs=epochs, verbose=verbose, **fit_kwargs,
               callbacks=[*callbacks, tensorboard(Path(directory) / "tensorboard")])
    started = time.perf_counter()
    # overwrite=False: the directory is new, or one being resumed (a restarted chief or worker).
    if cluster.is_worker:
        with distribute.worker_environment(cluster):   # KerasTuner's KERASTUNER_* switches: a client of the chief
            tuner = _Tuner(oracle=the_oracle, hypermodel=hypermodel, directory=str(directory),
                           project_name="search", overwrite=False)
            tuner.heartbeat_s = cluster.heartbeat_s
            distribute.run_worker(tuner, cluster, x, y, **fit)   # raises WorkerFinished
    tuner = _Tuner(oracle=the_oracle, hypermodel=hypermodel, directory=str(directory),
                   project_name="search", overwrite=False)
    try:
        if cluster.is_chief:
            the_oracle.verbose = verbose
            if the_oracle.search_over():
                print(f"search in {directory} already finished: not serving it again")
            else:
                distribute.serve(tuner, cluster, directory)
        else:
            tuner.search(x, y, **fit)
    finally:  # also when the search fails: the summary says which trials failed and why
        trials = trial_table(tuner.oracle, objective)
        stop_reason = the_oracle.stop_reason or _why_stopped(the_oracle, max_trials)
        write_search_summary(Path(directory) / "search_summary.json", tuner.oracle, trials, objective=objective,
                             direction=direction, target=target, time_budget_s=time_budget_s,
                             max_trials=max_trials, stop_reason=stop_reason,
                             seconds=time.perf_counter() - started)
    best = tuner.oracle.get_best_trials(1)
    if not best or best[0].score is None:
        raise HwkitError("no search trial completed; see the trial errors printed above")
    return SearchResult(best_hyperparameters=best[0].hyperparameters, trials=trials, direction=direction,
                        stop_reason=stop_reason, seconds=round(time.perf_counter() - started, 2))


def describe_space(hyperparameters: kt.HyperParameters) -> list[dict]:
    """The search space as rows: name, type and the values or range it may take."""
    rows = []
    for hp in hyperparameters.space:
        cfg = hp.get_config()
        kind = type(hp).__name__
        if "values" in cfg:
            domain = ", ".join(str(v) for v in cfg["values"])
        elif "min_value" in cfg:
            step = f", step {cfg['step']}" if cfg.get("step") else ""
            domain = f"[{cfg['min_value']}, {cfg['max_value']}]{step}, {cfg.get('sampling') or 'linear'} sampling"
        elif "value" in cfg:
            domain = f"fixed {cfg['value']}"
        else:
            domain = "true, false" if kind == "Boolean" else ""
        rows.append({"name": hp.name, "type": kind, "values": domain, "default": cfg.get("default")})
    return rows


def write_search_summary(path: Path, oracle, trials: list[dict], **facts) -> None:
    """``search_summary.json``: the search's settings and outcome, its space, and every trial."""
    from hwkit.runs import write_json
    failed = []
    for row in trials:
        if row["status"] in (TrialStatus.FAILED, TrialStatus.INVALID):
            message = (getattr(oracle.trials[row["trial"]], "message", None) or "").strip()
            failed.append({**row, "error": message.splitlines()[-1] if message else "no message recorded"})
    write_json(path, {**facts, "seconds": round(facts.get("seconds", 0.0), 2),
                      "space": describe_space(oracle.hyperparameters), "trials": trials,
                      "completed": sum(t["status"] == TrialStatus.COMPLETED for t in trials),
                      "failed": failed})


def _why_stopped(oracle, max_trials: int) -> str:
    if oracle.target_reached():
        return f"target {oracle.objective.name} {oracle.target} reached ({oracle._best_score():.4f})"
    return f"max_trials={max_trials} reached"


def trial_table(oracle, objective: str) -> list[dict]:
    """One row per trial, in the order they started: id, hyperparameters, score, seconds, status, worker.

    ``worker`` is the KerasTuner id of the tuner that ran the trial (``tuner0`` in a single process).
    """
    rows = []
    info = getattr(oracle, "trial_info", {})
    for trial_id in oracle.start_order:
        t = oracle.trials[trial_id]
        seconds = info.get(trial_id, {}).get("seconds")
        rows.append({"trial": trial_id, **t.hyperparameters.values, "score": t.score,
                     "objective": objective, "seconds": round(seconds, 1) if seconds else None,
                     "status": t.status, "worker": info.get(trial_id, {}).get("worker")})
    return rows
