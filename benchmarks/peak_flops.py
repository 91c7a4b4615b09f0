"""This machine's practical peak FLOP/s through TensorFlow, and how much of it the benchmarks' training steps reach.

    python benchmarks/peak_flops.py [--repeat 5] [--networks d6 b1 mnist1] [--machine-state idle|loaded]

1. **Peak**: large matmuls (4096^3) and convolutions shaped like D6's layers, in float32 and
   bfloat16, each a ``tf.function`` timed ``--repeat`` times after a warm-up; the median gives
   GFLOP/s (2 FLOPs per multiply-add). Measured before and again after the networks (on a shared
   machine the load moves); the best bfloat16 figure of either pass is "the bf16 peak".
2. **Achieved**: one ``Model.fit`` training step of each network on random data of its real shapes
   (median of ``--repeat`` timed fits of several steps, after a warm-up fit that traces the graph):
   * ``d6``: D6's CIFAR-10 network (``d_cifar.cifar10_net``, mixed bfloat16, batch 1024);
   * ``b1``: B1's MNIST CNN as the MNIST benchmark trains it (filters 16, float32, batch 128);
   * ``mnist1``: the 1-epoch MNIST recipe (``mnist_time_to_accuracy.one_epoch_cnn``, batch 256).
   FLOPs per step are counted exactly from the model by ``benchmarks/flops.py``: conv and dense
   multiply-adds x 2, x 3 for forward + backward (BatchNorm, activations, pooling and the
   optimizer left out); the exact count (no input gradient for the first layer, no weight
   gradient for a frozen one) is printed beside it. Achieved = FLOPs per step / seconds per step.

Goal (issue 24): D6's training step at >= 0.7 of the bfloat16 peak. Printed: goal, measured, ratio.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from hwkit import tf_runtime  # noqa: E402,F401  (quiet TensorFlow import)

# isort: split
import flops  # noqa: E402
import numpy as np  # noqa: E402
from results import add_machine_state, record  # noqa: E402

GOAL_FRACTION = 0.7   # of the bfloat16 peak, in D6's training step
# (name, kind, shape): matmul (m, k, n); conv (batch, height, width, in channels, out channels, kernel)
PEAK_OPS = (
    ("matmul 4096x4096x4096", "matmul", (4096, 4096, 4096)),
    ("conv 3x3 64->256 @16x16, batch 256 (D6 group 2)", "conv", (256, 16, 16, 64, 256, 3)),
    ("conv 3x3 256->256 @8x8, batch 512 (D6 group 3)", "conv", (512, 8, 8, 256, 256, 3)),
)
NETWORKS = {"d6": (1024, 4), "b1": (128, 60), "mnist1": (256, 30)}   # batch size, steps per timed fit


def op_flops(kind: str, shape: tuple) -> int:
    """FLOPs of one matmul (m, k, n) or one same-padded stride-1 conv (b, h, w, cin, cout, kernel)."""
    if kind == "matmul":
        m, k, n = shape
        return 2 * m * k * n
    b, h, w, cin, cout, kernel = shape
    return 2 * b * h * w * cin * cout * kernel * kernel


def median_seconds(fn, repeat: int) -> float:
    fn()   # warm-up: traces the graph, picks the kernels
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def peak(repeat: int) -> list[dict]:
    """GFLOP/s of each ``PEAK_OPS`` entry in float32 and bfloat16 (median of ``repeat``)."""
    import tensorflow as tf
    rng = np.random.default_rng(0)
    rows = []
    for name, kind, shape in PEAK_OPS:
        for dtype in ("float32", "bfloat16"):
            if kind == "matmul":
                m, k, n = shape
                a = tf.cast(rng.standard_normal((m, k), np.float32), dtype)
                b = tf.cast(rng.standard_normal((k, n), np.float32), dtype)
                op = tf.function(lambda a=a, b=b: tf.reduce_sum(tf.matmul(a, b)[:1, :1]))
            else:
                batch, h, w, cin, cout, kernel = shape
                x = tf.cast(rng.standard_normal((batch, h, w, cin), np.float32), dtype)
                f = tf.cast(rng.standard_normal((kernel, kernel, cin, cout), np.float32), dtype)
                op = tf.function(lambda x=x, f=f: tf.reduce_sum(tf.nn.conv2d(x, f, 1, "SAME")[:1, :1, :1, :1]))
            seconds = median_seconds(lambda op=op: op().numpy(), repeat)
            gflops = op_flops(kind, shape) / seconds / 1e9
            rows.append({"op": name, "dtype": dtype, "seconds": seconds, "gflops": gflops})
            print(f"  {name:<50} {dtype:<9} {seconds * 1000:8.1f} ms  {gflops:7.1f} GFLOP/s", flush=True)
    return rows


def network(name: str):
    """(compiled model, x, y, batch, steps) for one of ``NETWORKS``, on random data of the real shapes."""
    import keras

    from hwkit import models
    from hwkit.assignments import b_mnist_cnn, d_cifar
    batch, steps = NETWORKS[name]
    rng = np.random.default_rng(0)
    keras.backend.clear_session()
    if name == "d6":
        keras.config.set_dtype_policy(d_cifar.CIFAR10_POLICY)
        x = rng.random((batch * steps, 32, 32, 3), dtype=np.float32)
        model = d_cifar.compile_cifar10(d_cifar.cifar10_net(x[:2000]), batch_size=batch)
        y = np.eye(10, dtype="float32")[rng.integers(0, 10, len(x))]
        return model, x, y, batch, steps
    keras.config.set_dtype_policy("float32")
    x = rng.random((batch * steps, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, len(x))
    if name == "b1":
        model = models.compile_classifier(b_mnist_cnn.mnist_cnn(16, 128, 0.2), 1e-3, total_steps=1000)
    else:
        import mnist_time_to_accuracy as mnist
        model = mnist.compile_one_epoch(mnist.one_epoch_cnn(), total_steps=steps)
    return model, x, y, batch, steps


def achieved(name: str, repeat: int) -> dict:
    """Seconds per training step (median of ``repeat`` timed fits) and the FLOP/s it reaches."""
    model, x, y, batch, steps = network(name)
    seconds = median_seconds(lambda: model.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=False),
                             repeat) / steps
    step_flops = flops.training_flops(model, batch)
    return {"batch": batch, "step_s": seconds, "step_gflop": step_flops / 1e9,
            "step_gflop_exact": flops.training_flops(model, batch, exact=True) / 1e9,
            "gflops": step_flops / seconds / 1e9}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per measurement (median)")
    parser.add_argument("--networks", nargs="*", choices=list(NETWORKS), default=list(NETWORKS))
    add_machine_state(parser)
    args = parser.parse_args(argv)

    print(f"Practical peak through TensorFlow ({os.cpu_count()} CPU cores, median of {args.repeat}):")
    ops = peak(args.repeat)

    print("\nTraining steps (FLOPs: conv+dense multiply-adds x2 x3, counted from the model):")
    nets = {name: achieved(name, args.repeat) for name in args.networks}
    # On a shared machine the load changes between measurements: the peak is measured again after the
    # networks, and each op's better median of the two counts (the lower, more conservative ratio).
    print("\nPeak again, after the networks:")
    after = peak(args.repeat)
    for first, again in zip(ops, after):
        first["gflops_after"] = again["gflops"]
    bf16_peak = max(max(r["gflops"], r["gflops_after"]) for r in ops if r["dtype"] == "bfloat16")
    fp32_peak = max(max(r["gflops"], r["gflops_after"]) for r in ops if r["dtype"] == "float32")
    print(f"  peak (the better of both): bfloat16 {bf16_peak:.1f} GFLOP/s, float32 {fp32_peak:.1f} GFLOP/s\n")
    for name, r in nets.items():
        r["of_bf16_peak"] = r["gflops"] / bf16_peak
        print(f"  {name:<7} batch {r['batch']:>5}: {r['step_s'] * 1000:8.1f} ms/step, "
              f"{r['step_gflop']:8.2f} GFLOP/step "
              f"(exact {r['step_gflop_exact']:.2f}), {r['gflops']:6.1f} GFLOP/s = {r['of_bf16_peak']:.2f} of the "
              f"bf16 peak", flush=True)
    if "d6" in nets:
        measured = nets["d6"]["of_bf16_peak"]
        print(f"\ngoal: D6's training step >= {GOAL_FRACTION:.2f} of the bf16 peak ({GOAL_FRACTION * bf16_peak:.0f} "
              f"GFLOP/s); measured {nets['d6']['gflops']:.0f} GFLOP/s = {measured:.2f}; "
              f"ratio measured/goal {measured / GOAL_FRACTION:.2f} -> "
              f"{'met' if measured >= GOAL_FRACTION else 'NOT met'}")
    record("peak_flops", {"repeat": args.repeat, "ops": ops, "bf16_peak_gflops": bf16_peak,
                          "fp32_peak_gflops": fp32_peak, "networks": nets, "goal_fraction": GOAL_FRACTION,
                          "flop_convention": "conv+dense multiply-adds x2 (FLOPs) x3 (forward+backward); "
                                             "BatchNorm, activations, pooling, optimizer excluded"},
           args.machine_state, argv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
