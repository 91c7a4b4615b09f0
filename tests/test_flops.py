"""benchmarks/flops.py against hand counts; the 1-epoch MNIST recipe's schedule against PyTorch's formula."""
import math
import sys
from pathlib import Path

import keras
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import flops  # noqa: E402


def tiny_model(frozen_first: bool = False) -> keras.Model:
    inputs = keras.Input((8, 8, 3))
    first = keras.layers.Conv2D(4, 3, trainable=not frozen_first)   # valid: 6x6x4
    x = first(inputs)
    x = keras.layers.BatchNormalization()(x)                        # not counted
    x = keras.layers.Conv2D(5, 3, padding="same", groups=1)(x)     # 6x6x5
    x = keras.layers.MaxPooling2D(2)(x)                             # 3x3x5
    x = keras.layers.Flatten()(x)                                    # 45
    return keras.Model(inputs, keras.layers.Dense(7)(x))


def test_multiply_adds_match_a_hand_count():
    model = tiny_model()
    conv1, conv2, dense = 6 * 6 * 4 * (3 * 3 * 3), 6 * 6 * 5 * (3 * 3 * 4), 45 * 7
    assert sorted(flops.model_macs(model).values()) == sorted([conv1, conv2, dense])
    assert flops.forward_flops(model) == 2 * (conv1 + conv2 + dense)
    assert flops.training_flops(model, batch_size=10) == 3 * 2 * (conv1 + conv2 + dense) * 10
    # exact: the first layer needs no input gradient; the others need all three passes
    assert flops.training_flops(model, 10, exact=True) == 2 * 10 * (2 * conv1 + 3 * conv2 + 3 * dense)


def test_exact_count_skips_the_weight_gradient_of_a_frozen_layer_and_walks_nested_models():
    model = tiny_model(frozen_first=True)
    conv1, conv2, dense = 6 * 6 * 4 * 27, 6 * 6 * 5 * 36, 45 * 7
    # frozen first layer: forward only; the next layer has no trainable layer upstream: no input gradient
    assert flops.training_flops(model, 1, exact=True) == 2 * (conv1 + 2 * conv2 + 3 * dense)
    outer = keras.Sequential([keras.Input((8, 8, 3)), model, keras.layers.Dense(2)])
    assert flops.forward_flops(outer) == flops.forward_flops(model) + 2 * 7 * 2


def test_grouped_conv_and_dense_on_sequences():
    inputs = keras.Input((10, 8))
    x = keras.layers.Conv1D(4, 3, groups=2)(inputs)    # 8 positions x 4 out x 3 taps x 8/2 in
    out = keras.layers.Dense(6)(x)                      # 8 positions x 4 x 6
    model = keras.Model(inputs, out)
    assert flops.forward_flops(model) == 2 * (8 * 4 * 3 * 4 + 8 * 4 * 6)


def test_non_counted_layers_count_zero():
    assert flops.layer_macs(keras.layers.ReLU()) == 0


@pytest.fixture(scope="module")
def mnist_bench():
    from conftest import load_benchmark
    return load_benchmark("mnist_time_to_accuracy")


def test_one_epoch_mnist_network_is_the_published_045_tflop_per_epoch(mnist_bench):
    macs = 24 * 24 * 24 * 25 + 10 * 10 * 32 * 24 * 9 + 800 * 256 + 256 * 10
    model = mnist_bench.one_epoch_cnn()
    assert flops.forward_flops(model) == 2 * macs
    assert flops.training_flops(model, 60_000) == pytest.approx(0.448e12, rel=1e-3)


def test_torch_one_cycle_breakpoints(mnist_bench):
    sched = mnist_bench.TorchOneCycle(0.01, total_steps=10)   # warm-up ends at step 0.3*10-1 = 2
    start, end = 0.01 / 25, 0.01 / 25 / 1e4
    assert float(sched(0)) == pytest.approx(start, rel=1e-5)
    assert float(sched(1)) == pytest.approx((start + 0.01) / 2, rel=1e-5)         # half-way on the cosine
    assert float(sched(2)) == pytest.approx(0.01, rel=1e-5)
    assert float(sched(9)) == pytest.approx(end, rel=1e-3)
    mid = 2 + 7 / 3                                                       # a third of the way down
    assert float(sched(mid)) == pytest.approx(end + (0.01 - end) / 2 * (math.cos(math.pi / 3) + 1), rel=1e-5)


def test_peak_op_flops_count_two_per_multiply_add():
    from conftest import load_benchmark
    bench = load_benchmark("peak_flops")
    assert bench.op_flops("matmul", (2, 3, 4)) == 2 * 2 * 3 * 4
    assert bench.op_flops("conv", (2, 5, 5, 3, 4, 3)) == 2 * 2 * 5 * 5 * 3 * 4 * 9
