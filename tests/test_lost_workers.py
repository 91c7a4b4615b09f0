"""The chief's oracle when a worker is lost mid-trial (in-process, no gRPC: the fast half of the
killed-worker test in test_one_machine_cluster.py)."""
from __future__ import annotations

import keras
import keras_tuner as kt
from keras_tuner.engine.trial import TrialStatus

from hwkit import tuning


class Tiny(kt.HyperModel):
    def build(self, hp):
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(hp.Choice("units", [1, 2, 3, 4]))])
        model.compile("sgd", "mse")
        return model


def chief_oracle(tmp_path, max_trials=2, target=None):
    oracle = tuning._budgeted(kt.oracles.RandomSearchOracle)(
        objective=kt.Objective("val_score", "max"), max_trials=max_trials, seed=1, target=target)
    tuner = tuning._Tuner(oracle=oracle, hypermodel=Tiny(), directory=str(tmp_path), project_name="search")
    tuner.save()      # as the chief does before serving: a second chief on this directory reloads it
    return oracle


def finish(oracle, trial, score=0.5):
    oracle.update_trial(trial.trial_id, {"val_score": score})
    trial.status = TrialStatus.COMPLETED
    oracle.end_trial(trial)


def test_a_silent_workers_trial_goes_to_the_next_worker_that_asks(tmp_path):
    oracle = chief_oracle(tmp_path)
    lost, kept = oracle.create_trial("w0"), oracle.create_trial("w1")
    finish(oracle, kept)
    # max_trials are handed out, but w0 still holds one: w1 waits instead of leaving the search.
    assert oracle.create_trial("w1").status == TrialStatus.IDLE and not oracle.stop_sent
    assert oracle.requeue_silent(lease_s=60) == []                   # w0 was heard from just now
    oracle.last_seen[lost.trial_id] -= 61
    assert oracle.requeue_silent(lease_s=60) == [lost.trial_id]
    again = oracle.create_trial("w1")
    assert again.trial_id == lost.trial_id and again.status == TrialStatus.RUNNING
    assert oracle.trial_info[lost.trial_id]["worker"] == "w1"
    assert oracle.trial_info[lost.trial_id]["lost_by"] == ["w0"]
    finish(oracle, again)
    assert oracle.create_trial("w1").status == TrialStatus.STOPPED and oracle.finished()
    assert oracle.search_over()
    rows = tuning.trial_table(oracle, "val_score")
    assert [r["status"] for r in rows] == ["COMPLETED", "COMPLETED"] and {r["worker"] for r in rows} == {"w1"}


def test_a_worker_taken_for_lost_that_comes_back_is_not_counted_twice(tmp_path):
    oracle = chief_oracle(tmp_path)
    slow, other = oracle.create_trial("w0"), oracle.create_trial("w1")
    oracle.requeue_worker("w0", "test")
    finish(oracle, slow, score=0.75)                 # w0 was only slow: its result arrives, the requeue is dropped
    assert oracle.requeued == [] and oracle.trials[slow.trial_id].score == 0.75
    finish(oracle, other)
    oracle.end_trial(slow)                           # a duplicate result is ignored
    assert oracle.end_order == [slow.trial_id, other.trial_id]
    assert oracle.create_trial("w1").status == TrialStatus.STOPPED and oracle.finished()


def test_the_target_stops_everyone_at_once_even_with_a_lost_trial_queued(tmp_path):
    oracle = chief_oracle(tmp_path, max_trials=5, target=0.9)
    first, second = oracle.create_trial("w0"), oracle.create_trial("w1")
    finish(oracle, second, score=0.95)               # target reached
    oracle.requeue_worker("w0", "test")
    assert oracle.create_trial("w1").status == TrialStatus.STOPPED
    assert oracle.stop_reason.startswith("target val_score 0.9 reached") and oracle.requeued == [first.trial_id]


def test_the_requeue_survives_a_chief_restart(tmp_path):
    oracle = chief_oracle(tmp_path, max_trials=3)
    trial = oracle.create_trial("w0")
    oracle.requeue_worker("w0", "test")
    again = chief_oracle(tmp_path, max_trials=3)     # a restarted chief reloads its directory
    assert again.requeued == [trial.trial_id] and not again.search_over()
    assert again.create_trial("w5").trial_id == trial.trial_id
