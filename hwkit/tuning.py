"""KerasTuner with the rules hwkit adds: validation objective, stop at target, wall-clock budget.

KerasTuner owns the search (the space lives in a ``HyperModel.build(hp)`` next to the model
factory in ``hwkit.models``; the oracle proposes trials; the tuner fits them). This module adds:

* the objective is always a *validation* metric (``val_...``) — the test set never chooses;
* the oracle refuses new trials once the best score reaches ``target`` or the wall-clock budget
  is spent (KerasTuner's own STOPPED status, so ``tuner.search`` ends normally);
* a trial table (id, hyperparameters, score, seconds, status) for JSON and the report;
* ``<directory>/search_summary.json``: objective, stop reason, the search space and every trial
  (failed ones with their error), read by the report's reproducibility appendix;
* TensorBoard logs per trial in ``<directory>/tensorboard/<trial id>/``.

To scale a search past one machine use KerasTuner's distributed mode (chief + workers via the
``KERASTUNER_*`` environment variables); nothing here prevents it.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from hwkit import tf_runtime  # noqa: F401  (quiet TensorFlow import before Keras)
import keras_tuner as kt
from keras_tuner.src.engine.trial import TrialStatus

from hwkit import HwkitError

ORACLES = {"random": kt.oracles.RandomSearchOracle, "bayesian": kt.oracles.BayesianOptimizationOracle}


def _budgeted(oracle_cls):
    """Subclass an oracle so that it stops proposing trials at the target or after the budget."""

    class Budgeted(oracle_cls):
        def __init__(self, *args, target: float | None = None, time_budget_s: float | None = None, **kwargs):
            super().__init__(*args, **kwargs)
            self.target, self.time_budget_s = target, time_budget_s
            self.stop_reason: str | None = None
            self._started: float | None = None

        def _best_score(self):
            best = self.get_best_trials(1)
            return best[0].score if best and best[0].score is not None else None

        def populate_space(self, trial_id):
            if self._started is None:
                self._started = time.perf_counter()
            best = self._best_score()
            if self.target is not None and best is not None:
                reached = best >= self.target if self.objective.direction == "max" else best <= self.target
                if reached:
                    self.stop_reason = f"target {self.objective.name} {self.target} reached ({best:.4f})"
                    return {"status": TrialStatus.STOPPED, "values": None}
            # The budget is checked before each new trial; the first trial always runs.
            if (self.time_budget_s is not None and self.trials
                    and time.perf_counter() - self._started > self.time_budget_s):
                self.stop_reason = f"wall-clock budget of {self.time_budget_s:.0f} s spent"
                return {"status": TrialStatus.STOPPED, "values": None}
            return super().populate_space(trial_id)

    Budgeted.__name__ = f"Budgeted{oracle_cls.__name__}"
    return Budgeted


class _TimedTuner(kt.Tuner):
    """A Tuner that remembers how long each trial took, for the trial table."""

    def on_trial_begin(self, trial):
        self._trial_started = time.perf_counter()
        super().on_trial_begin(trial)

    def on_trial_end(self, trial):
        trial.metrics.register("seconds", direction="min")
        trial.metrics.update("seconds", time.perf_counter() - self._trial_started)
        super().on_trial_end(trial)


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
    the_oracle = _budgeted(ORACLES[oracle])(
        objective=kt.Objective(objective, direction), max_trials=max_trials, seed=seed,
        target=target, time_budget_s=time_budget_s)
    tuner = _TimedTuner(oracle=the_oracle, hypermodel=hypermodel, directory=str(directory),
                        project_name="search", overwrite=True)
    from hwkit.training import tensorboard  # KerasTuner gives each trial its own sub-folder of log_dir
    started = time.perf_counter()
    try:
        tuner.search(x, y, validation_data=validation_data, epochs=epochs,
                     callbacks=[*callbacks, tensorboard(Path(directory) / "tensorboard")],
                     verbose=verbose, **fit_kwargs)
    finally:
        trials = trial_table(tuner.oracle, objective)
        stop_reason = the_oracle.stop_reason or f"max_trials={max_trials} reached"
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


def trial_table(oracle, objective: str) -> list[dict]:
    """One row per trial, in the order they ran: id, hyperparameters, score, seconds, status."""
    rows = []
    for trial_id in oracle.start_order:
        t = oracle.trials[trial_id]
        seconds = t.metrics.get_last_value("seconds") if t.metrics.exists("seconds") else None
        rows.append({"trial": trial_id, **t.hyperparameters.values, "score": t.score,
                     "objective": objective, "seconds": round(seconds, 1) if seconds else None,
                     "status": t.status})
    return rows
