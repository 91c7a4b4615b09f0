"""D4: convolution with zero padding and stride, "same" padding, stride search, 2x2 average pooling \
and pooling as a convolution.

Assignment D, theory problem 4. The numbers of Fig. 5 (feature map F, Filter1, Filter2) are not in
the text, so they are *input data*: a JSON file (``--input``, default ``tasks/examples/d4_example.json``)
with keys ``feature_map`` (n x n), ``filter1`` and ``filter2`` (square), ``filter2_padding``
(the text's p = 1), ``pool_size`` and ``pool_stride`` (the text's 2 and 2).

"Convolution" is computed as deep-learning libraries define it - cross-correlation, the filter is
not flipped: F'[i, j] = sum_{u, v} Fpad[i*s + u, j*s + v] f[u, v]. Every result of the numpy code
here is checked against ``tf.nn.conv2d`` / ``keras.layers.AveragePooling2D``. Output size per axis:
out = floor((n + 2p - k) / s) + 1.

(a) "same" size with stride 1 needs n + 2p - k + 1 = n, i.e. total padding 2p = k - 1: p = (k - 1)/2
    on each side for odd k (an even k needs asymmetric padding, k/2 - 1 and k/2, as TF does).
(b) with p fixed, every stride s = 1 .. n + 2p is tried in the formula; the ones giving n are the
    answer (none means impossible, and the report says why from the numbers).
(c) 2x2 average pooling with stride 2 of F' from (a).
(d) the same pooling as a convolution: a pool x pool filter of 1/pool^2 with stride = pool stride
    and no padding (one such filter per channel, i.e. a depthwise convolution).
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from hwkit import HwkitError, findings
from hwkit.assignments import d_findings
from hwkit.assignments.d_theory import (
    average_pool,
    conv2d,
    keras_average_pool,
    load_problem,
    matrix,
    output_size,
    same_padding,
    tf_conv2d,
)
from hwkit.task import main

PROJECT = Path(__file__).resolve().parent.parent
DEFAULT_INPUT = "tasks/examples/d4_example.json"   # relative to the project: the run records no home folder
DATA_DIR_VARIABLE = "HWKIT_DATA_DIR"


def portable_path(value: str) -> str:
    """The input file as the run records it (config.json, the PDF's appendix): relative to the project when it
    lies in it, ``$HWKIT_DATA_DIR/...`` when it lies in the data folder, ``~/...`` below the home folder — never
    the absolute path of this machine's clone or home folder. ``input_file`` turns it back into a path."""
    path = Path(value).expanduser()
    if not path.is_absolute():   # as typed, from here; the default (and a project path typed elsewhere): the project's
        path = PROJECT / path if not path.exists() and (PROJECT / path).exists() else Path.cwd() / path
    path = path.resolve()
    data_dir = os.environ.get(DATA_DIR_VARIABLE)
    for base, shown in ((PROJECT, None), (Path(data_dir).resolve() if data_dir else None, f"${DATA_DIR_VARIABLE}"),
                        (Path.home().resolve(), "~")):
        if base is not None and path.is_relative_to(base):
            rel = path.relative_to(base).as_posix()
            return rel if shown is None else f"{shown}/{rel}"
    return str(path)


def input_file(recorded: str) -> Path:
    """The file a recorded ``portable_path`` names, on this machine."""
    if recorded.startswith(f"${DATA_DIR_VARIABLE}/"):
        return Path(os.environ.get(DATA_DIR_VARIABLE, "")) / recorded.split("/", 1)[1]
    path = Path(recorded).expanduser()
    return path if path.is_absolute() else PROJECT / path


def add_arguments(parser):
    parser.add_argument("--input", type=portable_path, default=DEFAULT_INPUT,
                        help="JSON file with feature_map, filter1, filter2 [, filter2_padding, pool_size, pool_stride] "
                             "(default tasks/examples/d4_example.json)")


def run(args, run):
    problem = load_problem(input_file(args.input))
    f, f1, f2 = problem["feature_map"], problem["filter1"], problem["filter2"]
    n, k1, k2, p2 = len(f), len(f1), len(f2), problem["filter2_padding"]
    run.save_json("input.json", {"path": args.input, **{k: (matrix(v) if isinstance(v, np.ndarray) else v)
                                                             for k, v in problem.items()}})
    checks = {}

    # (a) "same" padding for Filter1 at stride 1, and the new feature map F'.
    pad_a = same_padding(k1)
    f_prime = conv2d(f, f1, 1, pad_a)
    checks["a_conv_vs_tf"] = float(np.max(np.abs(f_prime - tf_conv2d(f, f1, 1, pad_a))))
    true_convolution = conv2d(f, f1[::-1, ::-1], 1, pad_a)    # the textbook (flipped) convolution, for contrast

    # (b) Filter2 with padding p: which strides keep the size n?
    strides = [{"stride": s, "output_size": output_size(n, k2, p2, s),
                "exact_fit": (n + 2 * p2 - k2) % s == 0, "same_size": output_size(n, k2, p2, s) == n}
               for s in range(1, n + 2 * p2 + 1)]
    good = [r["stride"] for r in strides if r["same_size"]]
    b_map = None
    if good:
        b_map = conv2d(f, f2, good[0], p2)
        checks["b_conv_vs_tf"] = float(np.max(np.abs(b_map - tf_conv2d(f, f2, good[0], (p2, p2)))))

    # (c) average pooling of F'.
    size, stride = problem["pool_size"], problem["pool_stride"]
    pooled = average_pool(f_prime, size, stride)
    checks["c_pool_vs_keras"] = float(np.max(np.abs(pooled - keras_average_pool(f_prime, size, stride))))

    # (d) average pooling as a convolution: constant filter 1/size^2, stride = pooling stride, no padding.
    pool_filter = np.full((size, size), 1.0 / size ** 2)
    as_conv = conv2d(f_prime, pool_filter, stride, 0)
    checks["d_conv_vs_pool"] = float(np.max(np.abs(as_conv - pooled)))
    checks["d_tf_conv_vs_pool"] = float(np.max(np.abs(tf_conv2d(f_prime, pool_filter, stride, (0, 0)) - pooled)))

    run.save_table("b_strides", strides)
    results = {"a_padding": list(pad_a), "a_padding_symmetric": pad_a[0] == pad_a[1], "a_total_padding": sum(pad_a),
               "a_output_size": len(f_prime), "a_feature_map": matrix(f_prime),
               "a_true_convolution": matrix(true_convolution),
               "b_stride_one_size": output_size(n, k2, p2, 1), "b_possible": bool(good), "b_strides": good,
               "b_same_total_padding": k2 - 1, "b_same_total_padding_odd": (k2 - 1) % 2 == 1,
               "b_feature_map": matrix(b_map) if b_map is not None else None,
               "c_pooled": matrix(pooled), "c_output_size": len(pooled),
               "d_filter": matrix(pool_filter), "d_weight_denominator": size ** 2, "d_stride": stride, "d_padding": 0,
               "d_output": matrix(as_conv)}
    worst = max(checks.values())
    if worst > 1e-9:
        raise HwkitError(f"D4 cross-check failed: {checks}")
    print(f"(a) padding {pad_a}, F' =\n{f_prime}\n(b) strides keeping size {n}: {good or 'none'}\n"
          f"(c) pooled =\n{pooled}\n(d) filter {size}x{size} of {1 / size ** 2:g}, stride {stride}, padding 0; "
          f"worst cross-check difference {worst:.1e}")
    run.log(n=n, k1=k1, k2=k2, filter2_padding=p2, pool_size=size, pool_stride=stride,
            input_path=args.input,
            findings=findings.as_dicts({"b_stride": d_findings.stride_keeps_size(good)}),
            input_description=problem["description"],
            feature_map=matrix(f), filter1=matrix(f1), filter2=matrix(f2),
            checks=checks, worst_check=worst, **results)


if __name__ == "__main__":
    raise SystemExit(main(__spec__.name))
