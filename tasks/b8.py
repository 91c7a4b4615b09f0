"""B8: computational cost of B6 ([-1,1]^5) vs B7 ([-1,1]^20) to reach 5% accuracy (ε < 0.05), from their runs.

Homework 5, task 8: compare the computational cost of tasks 6 and 7 to achieve 5% accuracy of
the generated distribution.

"5% accuracy" is defined in ``hwkit.assignments.b_wgan``: ε = mean over a fixed direction set Θ (the d axes and
50 random unit vectors) of W1(θ·G(z), θ·X) / sd(θ·X), with X an independent sample of 8 192 points
of the target; ε is 0 for a perfect generator up to sampling noise (its floor is measured), and
"5% accurate" means ε < 0.05. B6 and B7 evaluate ε in a callback every 100 generator steps
while training with the same recipe; this task reads their latest runs (it trains nothing) and
reports, per data and noise dimension, the generator steps, training seconds and FLOP proxy at
the first evaluation with ε < 0.05 — or that it was not reached within the budget.
"""
from __future__ import annotations

from hwkit import runs
from hwkit.cli import task_main

REQUIRES = ("b6", "b7")  # tasks whose latest runs this task reads

SOURCES = {"b6": 5, "b7": 20}    # task -> data dimension


def run(args, run):
    records = {task: runs.require_run(task, args.quick, reader=run.task) for task in SOURCES}

    # One row per (data dimension, noise dimension): cost to the first evaluation with ε < target.
    rows = []
    for task, record in records.items():
        m = record.metrics
        for r in record.table("noise_dims"):
            reached = r["steps_to_target"] is not None
            rows.append({"task": task.upper(), "data_dim": m["data_dim"], "noise_dim": r["noise_dim"],
                         "reached": reached, "steps_to_target": r["steps_to_target"],
                         "seconds_to_target": r["seconds_to_target"], "flops_to_target": r["flops_to_target"],
                         "budget_steps": r["steps"], "budget_seconds": r["train_s"],
                         "budget_flops": r["steps"] * r["flops_per_step"],
                         "final_error": r["final_error"], "best_error": r["best_error"],
                         "seconds_per_step": r["train_s"] / r["steps"], "flops_per_step": r["flops_per_step"]})
    run.save_table("cost", rows)

    # The headline comparison: noise dimension = data dimension in both tasks.
    matched = {row["data_dim"]: row for row in rows if row["noise_dim"] == row["data_dim"]}
    low, high = matched.get(5), matched.get(20)
    comparison = {}
    if low and high:
        for key in ("steps", "seconds", "flops"):
            a, b = low[f"{key}_to_target"], high[f"{key}_to_target"]
            comparison[f"{key}_ratio"] = b / a if a and b else None
        comparison["per_step_seconds_ratio"] = high["seconds_per_step"] / low["seconds_per_step"]
        comparison["per_step_flops_ratio"] = high["flops_per_step"] / low["flops_per_step"]

    # Figure: ε against the FLOP proxy for every run of both tasks.
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6.8, 4))
    for k, (task, record) in enumerate(records.items()):
        per_step = {r["noise_dim"]: r["flops_per_step"] for r in record.table("noise_dims")}
        curves = record.table("curves")
        for j, noise_dim in enumerate(per_step):
            pts = [c for c in curves if c["noise_dim"] == noise_dim]
            ax.loglog([c["steps"] * per_step[noise_dim] for c in pts], [c["error"] for c in pts],
                      ["-", "--", ":"][j % 3], color=f"C{k}", label=f"d={record.metrics['data_dim']}, noise {noise_dim}")
    target = records["b6"].metrics["target"]
    ax.axhline(target, color="k", lw=1, label=f"ε = {target}")
    ax.set_xlabel("FLOP proxy (6 · parameters · samples)")
    ax.set_ylabel("ε")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    run.save_figure(fig, "cost")

    run.log(sources={task: str(record.path) for task, record in records.items()},
            sources_quick={task: record.quick for task, record in records.items()},
            target=target, sampling_floor={task: r.metrics["sampling_floor"] for task, r in records.items()},
            matched=matched, comparison=comparison,
            reached={f"{row['data_dim']}/{row['noise_dim']}": row["reached"] for row in rows})


if __name__ == "__main__":
    raise SystemExit(task_main(__spec__.name))
