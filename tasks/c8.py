"""C8: Q3.1/Q3.2 — depthwise, pointwise and plain conv on 28x28x16 (3x3, 64 out): shapes, operation \
and parameter counts.

Q3.1 (Example 2 of the text): a 28x28x16 input, a 3x3 kernel, 64 output channels.
 a) depthwise 3x3 conv (one 3x3 filter per input channel): output shape, operations;
 b) pointwise 1x1 conv 16 -> 64 on that result: output shape, operations;
 c) a plain 3x3 conv 16 -> 64 on the input: output shape, operations.
Every count comes from a closed formula *and* is checked against Keras: the output shapes are
the layers' own, the parameters their ``count_params()``, and the operation counts TensorFlow's
graph profiler (which counts 2 FLOPs per multiply-add). SAME padding and stride 1, as in the
coursework's models (the VALID variant is tabulated too).

Q3.2: parameters of model 4 vs model 5 layer by layer, each formula matched against Keras'
count_params(); the parameter and operation ratio of separable vs plain conv for a range of
channel counts (when separable convolutions pay off); a measured CPU timing of the two on a
batch; and the accuracy of the convolutional models vs Part 1's, read from the latest C1, C6 and
C7 runs (their directories are recorded in the metrics).
"""
from __future__ import annotations

import dataclasses

from hwkit import HwkitError
from hwkit import findings as fnd
from hwkit.assignments import c_coursework
from hwkit.assignments.c_convolutions import (
    check_q31,
    layer_parameter_formulas,
    separable_equals_depthwise_then_pointwise,
    separable_ratio_rows,
    speedup_finding,
    time_q31,
)
from hwkit.task import choose_recipe, main

REQUIRES = dict.fromkeys(("c1", "c6", "c7"), c_coursework.PROTOCOL_TABLES)  # tasks whose latest runs this task reads


@dataclasses.dataclass(frozen=True)
class Recipe:
    timing_batch: int = 256     # images per timed call
    timing_repeats: int = 10    # best of N (the machine is shared: the minimum is the least disturbed); spread of N


FULL = Recipe()
QUICK = Recipe(timing_batch=16, timing_repeats=fnd.MIN_SEEDS)


def run(args, run):
    recipe = choose_recipe(args, FULL, QUICK)
    # Q3.1: shapes and operation counts, formula vs Keras vs TF profiler.
    q31 = [row for padding in ("same", "valid") for row in check_q31(padding)]
    run.save_table("q31_costs", q31)
    if not all(r.get("matches", True) for r in q31):
        raise HwkitError("a Q3.1 formula disagrees with Keras / the TF profiler; see tables/q31_costs.json")
    same = {r["step"]: r for r in q31 if r["padding"] == "SAME"}
    sep, plain = same["a+b) separable total"], same["c) plain 3x3 conv"]
    max_diff = separable_equals_depthwise_then_pointwise(args.seed)
    timing = time_q31(repeats=recipe.timing_repeats, batch=recipe.timing_batch)
    print(f"Q3.1 separable {sep['mults']:,} vs plain {plain['mults']:,} multiplications "
          f"({plain['mults'] / sep['mults']:.2f}x fewer); measured speed-up {timing['speedup']:.2f}x")

    # Q3.2: parameters of model 4 vs model 5, each layer's formula against Keras' count_params().
    model4, model5 = c_coursework.coursework_model(4), c_coursework.coursework_model(5)
    q32 = layer_parameter_formulas(model4) + layer_parameter_formulas(model5)
    run.save_table("q32_parameters", q32)
    if not all(r["matches"] for r in q32):
        raise HwkitError("a Q3.2 parameter formula disagrees with Keras' count_params()")
    totals = {}
    for m in (model4, model5):
        rows = [r for r in q32 if r["model"] == m.name]
        hidden = next(r for r in rows if r["layer"] == "hidden")   # the dense layer after the flatten
        totals[m.name] = {"formula": sum(r["parameters"] for r in rows), "keras": m.count_params(),
                          "conv": sum(r["parameters"] for r in rows if "conv" in r["layer"]),
                          "dense_after_flatten": hidden["parameters"], "dense_formula": hidden["formula"],
                          "dense_fraction": hidden["parameters"] / m.count_params()}
    run.save_table("separable_ratio", separable_ratio_rows())
    comparison, sources, scores = c_coursework.accuracy_comparison(args.quick)
    run.save_table("accuracy_comparison", comparison)
    answer = c_coursework.convolution_answer(comparison, scores)
    findings = {"speedup": speedup_finding(timing["speedups"], plain["mults"] / sep["mults"]).as_dict(),
                **(answer.pop("findings") if answer else {})}
    print(f"Q3.2 parameters: {totals}")

    run.log(q31_separable_mults=sep["mults"], q31_plain_mults=plain["mults"],
            q31_mult_ratio=plain["mults"] / sep["mults"], q31_separable_weights=sep["weights"],
            q31_plain_weights=plain["weights"], separable_vs_depthwise_pointwise_max_diff=max_diff,
            timing=timing, parameters=totals,
            model4_parameters=model4.count_params(), model5_parameters=model5.count_params(),
            model5_to_model4_parameters=model5.count_params() / model4.count_params(),
            accuracy_answer=answer, comparison_sources=sources, findings=findings)


if __name__ == "__main__":
    raise SystemExit(main(__spec__.name))
