"""Seconds per training step with 1 and with 2 TensorFlow threads: why `report --run` runs two tasks at a time.

One process per thread count (TensorFlow fixes its thread pools when it starts). Each measures the
median time of one ``Model.fit`` step, after a warm-up fit that traces the graph, on random data of
the real shapes:

* ``d6``: D6's CIFAR-10 network (``d_cifar.cifar10_net``, bfloat16, batch 1024);
* ``b1``: B1's MNIST CNN (``b_mnist_cnn.mnist_cnn``, float32, batch 128).

Printed per network: ms per step with each thread count and the speed-up of the second thread.
Below 2x, two one-thread tasks side by side finish sooner than the same two one after another with
two threads each. Run it with nothing else on the machine.

    python benchmarks/thread_scaling.py [--networks d6 b1] [--repeat 3] [--machine-state idle|loaded]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))   # run from a checkout without installing
sys.path.insert(0, str(ROOT / "benchmarks"))
from results import add_machine_state, record  # noqa: E402

NETWORKS = {"d6": (1024, 6), "b1": (128, 60)}   # batch size, steps per timed fit


def step_seconds(network: str, threads: int, repeat: int) -> float:
    """Median seconds per step of ``repeat`` timed fits, in this process (``threads`` set before TensorFlow runs)."""
    from hwkit import distribute
    distribute.configure_threads(threads)
    import keras
    import numpy as np

    from hwkit import models
    from hwkit.assignments import b_mnist_cnn, d_cifar
    batch, steps = NETWORKS[network]
    rng = np.random.default_rng(0)
    if network == "d6":
        keras.config.set_dtype_policy(d_cifar.CIFAR10_POLICY)
        x = rng.random((batch * steps, 32, 32, 3), dtype=np.float32)
        model = d_cifar.compile_cifar10(d_cifar.cifar10_net(x[:2000]), batch_size=batch)
    else:
        x = rng.random((batch * steps, 28, 28, 1), dtype=np.float32)
        model = models.compile_classifier(b_mnist_cnn.mnist_cnn(), 1e-3, total_steps=1000)
    y = rng.integers(0, 10, len(x))
    if network == "d6":
        y = np.eye(10, dtype="float32")[y]   # D6's label-smoothed loss takes one-hot labels, B1's sparse ones
    model.fit(x[:batch * 2], y[:batch * 2], batch_size=batch, epochs=1, verbose=0)   # trace the graph
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
        times.append((time.perf_counter() - started) / steps)
    return statistics.median(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", nargs="+", choices=list(NETWORKS), default=list(NETWORKS))
    parser.add_argument("--repeat", type=int, default=3, help="timed fits per measurement (median)")
    parser.add_argument("--one", nargs=2, metavar=("NETWORK", "THREADS"), help=argparse.SUPPRESS)  # child process
    add_machine_state(parser)
    args = parser.parse_args(argv)
    if args.one:
        print(step_seconds(args.one[0], int(args.one[1]), args.repeat))
        return 0
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    measured = {}
    for network in args.networks:
        seconds = {}
        for threads in (1, 2):
            out = subprocess.run([sys.executable, __file__, "--one", network, str(threads),
                                  "--repeat", str(args.repeat)],
                                 env=env, capture_output=True, text=True, check=True)
            seconds[threads] = float(out.stdout.strip().splitlines()[-1])
        print(f"{network}: {seconds[1] * 1000:.0f} ms/step with 1 thread, {seconds[2] * 1000:.0f} ms/step with 2; "
              f"second thread: {seconds[1] / seconds[2]:.2f}x")
        measured[network] = {"batch": NETWORKS[network][0], "ms_1_thread": seconds[1] * 1000,
                             "ms_2_threads": seconds[2] * 1000, "speedup": seconds[1] / seconds[2]}
    record("thread_scaling", {"repeat": args.repeat, "networks": measured}, args.machine_state, argv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
