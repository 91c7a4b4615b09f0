"""D2: smallest sigmoid MLPs for AND, OR, XOR and XNOR, verified on every truth-table row (numpy and Keras).

Assignment D, theory problem 2. How the text's decision rule is read: every neuron computes
z = w.x + b and outputs s(z) (sigmoid); the network "classifies as 0 if the output is smaller than
0 and 1 if greater or equal to 0". A sigmoid's value is never below 0, so the rule can only apply
to the output neuron's *pre-activation* z (equivalently s(z) >= 0.5). Hidden neurons pass on s(z),
which is never exactly 0 or 1 - the weights below are large (|w| = 20) so that s(z) is within
5e-5 of 0 or 1 and the next layer still works; the code checks this with the exact sigmoid.

The NOT example of Fig. 3 ("-1 on the edge, -0.5 a bias added to -1 x A") gives z = -A - 0.5,
which classifies A = 0 as 0 - wrong. It works if -0.5 is the neuron's *threshold* subtracted from
the sum (z = -A + 0.5); both are evaluated below, and our biases are written as added terms.

Smallest structures: AND and OR are linearly separable, so one output neuron and no hidden layer
suffice. XOR and XNOR are not (proof in the report; a weight-grid scan finds no separating neuron),
and one hidden neuron is not enough either (the output would still be a threshold of a monotone
function of one linear form of A, B), so they need one hidden layer of two neurons.
"""
from __future__ import annotations

import numpy as np

from hwkit import findings
from hwkit.assignments import d_findings
from hwkit.assignments.d_theory import (
    GATE_GRID,
    GATE_WEIGHT,
    INPUTS,
    NETWORKS,
    NOT_EXAMPLE,
    TRUTH,
    classify,
    hidden_distance_from_binary,
    keras_predictions,
    linearly_separable_on_grid,
    output_preactivation,
    sigmoid,
    structure,
)
from hwkit.task import main


def run(args, run):
    truth_rows, networks, all_correct = [], [], True
    for gate, layers in NETWORKS.items():
        z = output_preactivation(layers, INPUTS)
        z_keras = keras_predictions(layers, INPUTS)
        predicted, keras_predicted = classify(z), classify(z_keras)
        correct = bool(np.array_equal(predicted, TRUTH[gate]) and np.array_equal(keras_predicted, TRUTH[gate]))
        all_correct &= correct
        for (a, b), zi, p, kp, t in zip(INPUTS.astype(int), z, predicted, keras_predicted, TRUTH[gate]):
            truth_rows.append({"gate": gate, "A": int(a), "B": int(b), "z": float(zi), "sigmoid_z": float(sigmoid(zi)),
                               "predicted": int(p), "keras_predicted": int(kp), "truth": t, "ok": bool(p == t == kp)})
        hidden = len(layers) - 1
        networks.append({
            "gate": gate, "structure": structure(layers), "hidden_layers": hidden,
            "neurons": sum(w.shape[1] for w, _ in layers),
            "weights": "; ".join(f"layer {i + 1}: W={w.T.tolist()} b={b.tolist()}" for i, (w, b) in enumerate(layers)),
            "single_neuron_on_grid": linearly_separable_on_grid(TRUTH[gate]),
            "correct": correct, "min_abs_z": float(np.min(np.abs(z)))})
    run.save_table("truth_tables", truth_rows)
    run.save_table("networks", networks)

    not_rows = []
    for reading, (w, b) in NOT_EXAMPLE.items():
        for a in (0, 1):
            z = w * a + b
            not_rows.append({"reading": reading, "A": a, "z": z, "predicted": int(z >= 0), "truth": 1 - a,
                             "ok": int(z >= 0) == 1 - a})
    run.save_table("not_example", not_rows)
    print("\n".join(f"{n['gate']:5s} {n['structure']:10s} correct={n['correct']} "
                    f"single neuron possible on grid={n['single_neuron_on_grid']}" for n in networks))
    found = {"separability": d_findings.separability({n["gate"]: n["single_neuron_on_grid"] for n in networks}),
             "all_correct": d_findings.classification(all_correct, "every network, numpy and Keras,"),
             "not_literal": d_findings.classification(all(r["ok"] for r in not_rows[:2]), "z = −A − 0.5"),
             "not_threshold": d_findings.classification(all(r["ok"] for r in not_rows[2:]), "z = −A + 0.5")}
    run.log(findings=findings.as_dicts(found), all_correct=all_correct,
            rows_checked=len(truth_rows), weight_scale=GATE_WEIGHT,
            hidden_distance_from_binary=max(hidden_distance_from_binary(layers) for layers in NETWORKS.values()),
            neurons={n["gate"]: n["neurons"] for n in networks},
            structures={n["gate"]: n["structure"] for n in networks},
            grid_points_per_axis=len(GATE_GRID), grid_range=[float(GATE_GRID[0]), float(GATE_GRID[-1])],
            not_literal_ok=all(r["ok"] for r in not_rows[:2]), not_threshold_ok=all(r["ok"] for r in not_rows[2:]))


if __name__ == "__main__":
    raise SystemExit(main(__spec__.name))
