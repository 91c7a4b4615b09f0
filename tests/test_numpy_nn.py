"""Unit tests of hwkit.numpy_nn: gradient checks of every layer and the loss, SGD/momentum, the MLP facade."""
from __future__ import annotations

import numpy as np
import pytest

from hwkit import numpy_nn as nn

TOL = 1e-6


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def away_from_zero(x: np.ndarray) -> np.ndarray:
    """Keep inputs off ReLU's kink, where finite differences straddle two slopes."""
    return x + np.sign(x) * 0.05


def random_bias(d, dtype):
    return np.random.default_rng(d).normal(0, 0.5, d).astype(dtype)


# ----------------------------------------------------------------------------- gradient checks

@pytest.mark.parametrize("make", [
    lambda rng: nn.Linear(7, 4, bias_init=random_bias, rng=rng, dtype=np.float64),
    lambda rng: nn.ReLU(), lambda rng: nn.Sigmoid(), lambda rng: nn.Tanh(),
    lambda rng: nn.mlp(7, (6, 5), 4, activation="relu", bias_init=random_bias, rng=rng, dtype=np.float64),
    lambda rng: nn.mlp(7, (6,), 4, activation="tanh", rng=rng, dtype=np.float64),
    lambda rng: nn.mlp(7, (), 4, rng=rng, dtype=np.float64),
], ids=["linear", "relu", "sigmoid", "tanh", "mlp-relu", "mlp-tanh", "model1"])
def test_every_layer_matches_finite_differences(make, rng):
    layer = make(rng)
    errors = nn.check_layer(layer, away_from_zero(rng.standard_normal((5, 7))), rng)
    assert set(errors) == {"input", *(f"param{k}" for k in range(len(layer.parameters())))}
    assert max(errors.values()) < TOL, errors


@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_softmax_cross_entropy_gradient_matches_finite_differences(reduction, rng):
    err = nn.check_loss(nn.SoftmaxCrossEntropy(reduction), rng.standard_normal((6, 10)) * 3, rng.integers(0, 10, 6))
    assert err < TOL


def test_gradient_check_catches_a_wrong_backward(rng):
    class ForgotTranspose(nn.Linear):   # dW = x g instead of x^T g (shapes made to fit), a classic bug
        def backward(self, grad_out):
            self.W.grad += (self._x.T @ grad_out)[::-1]
            self.b.grad += grad_out.sum(axis=0)
            return grad_out @ self.W.data.T

    errors = nn.check_layer(ForgotTranspose(5, 3, rng=rng, dtype=np.float64), rng.standard_normal((4, 5)), rng)
    assert errors["param0"] > 1e-2 and errors["input"] < TOL

    class HalfReLU(nn.ReLU):
        def derivative(self):
            return 0.5 * super().derivative()

    assert nn.check_layer(HalfReLU(), rng.standard_normal((4, 5)), rng)["input"] > 1e-2


def test_relative_error_scale():
    a = np.array([1.0, 2.0, 3.0])
    assert nn.relative_error(a, a) == 0
    assert nn.relative_error(a, a * (1 + 1e-9)) < 1e-8
    assert nn.relative_error(a, -a) == pytest.approx(1.0)


# ----------------------------------------------------------------------------- loss and activations

def test_softmax_cross_entropy_values(rng):
    z, y = rng.standard_normal((4, 10)), np.array([3, 0, 9, 3])
    expected = np.sum(-z[np.arange(4), y] + np.log(np.exp(z).sum(axis=1)))
    loss_sum, loss_mean = nn.SoftmaxCrossEntropy("sum"), nn.SoftmaxCrossEntropy("mean")
    assert loss_sum.forward(z, y) == pytest.approx(expected)
    assert loss_mean.forward(z, y) == pytest.approx(expected / 4)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(loss_sum.backward(), p - np.eye(10)[y], atol=1e-12)
    np.testing.assert_allclose(loss_mean.backward(), (p - np.eye(10)[y]) / 4, atol=1e-12)
    assert loss_sum.forward(z, np.eye(10)[y]) == pytest.approx(expected)   # one-hot labels too


def test_softmax_is_stable_for_huge_logits():
    z = np.array([[1000.0, 0.0, -1000.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        p = nn.softmax(z)
        loss = nn.SoftmaxCrossEntropy("sum").forward(z, np.array([1]))
    np.testing.assert_allclose(p, [[1, 0, 0]], atol=1e-12)
    assert loss == pytest.approx(1000.0)


def test_activation_values_and_derivatives():
    x = np.array([[-2.0, 0.0, 3.0]])
    s, t, r = nn.Sigmoid(), nn.Tanh(), nn.ReLU()
    np.testing.assert_allclose(s.forward(x), 1 / (1 + np.exp(-x)))
    np.testing.assert_allclose(s.derivative(), s.forward(x) * (1 - s.forward(x)))
    assert s.derivative()[0, 1] == pytest.approx(0.25)
    np.testing.assert_allclose(t.forward(x), np.tanh(x))
    assert t.derivative()[0, 1] == pytest.approx(1.0)
    np.testing.assert_array_equal(r.forward(x), [[0, 0, 3]])
    np.testing.assert_array_equal(r.derivative(), [[0, 0, 1]])
    with np.errstate(over="raise", invalid="raise"):
        assert s.forward(np.array([-1000.0, 1000.0])).tolist() == [0.0, 1.0]


# ----------------------------------------------------------------------------- initializers

def test_initializers(rng):
    w = nn.random_normal_weight_init(400, 300, rng)
    assert w.shape == (400, 300) and abs(w.mean()) < 0.01 and w.std() == pytest.approx(1.0, abs=0.01)
    he = nn.he_normal_weight_init(400, 300, rng)
    assert he.std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)
    xa = nn.xavier_uniform(400, 300, rng)
    limit = np.sqrt(6 / 700)
    assert np.abs(xa).max() <= limit and xa.std() == pytest.approx(limit / np.sqrt(3), rel=0.02)
    assert nn.zeros_bias_init(7).tolist() == [0] * 7


# ----------------------------------------------------------------------------- optimizer

def test_sgd_step_is_p_minus_lr_grad():
    p = nn.Parameter(np.array([1.0, -2.0]))
    p.grad[...] = [0.5, 1.0]
    nn.SGD([p], lr=0.1).step()
    np.testing.assert_allclose(p.data, [0.95, -2.1])


def test_momentum_accumulates_velocity():
    p = nn.Parameter(np.array([0.0]))
    opt = nn.SGD([p], lr=0.1, momentum=0.9)
    for _ in range(3):
        p.grad[...] = 1.0
        opt.step()
    # v: 1, 1.9, 2.71 -> p = -0.1 * (1 + 1.9 + 2.71)
    np.testing.assert_allclose(p.data, [-0.561])


def test_sgd_rejects_bad_settings():
    with pytest.raises(ValueError):
        nn.SGD([], lr=0.0)
    with pytest.raises(ValueError):
        nn.SGD([], lr=0.1, momentum=1.0)


# ----------------------------------------------------------------------------- the MLP facade

def small_mlp(rng, momentum=0.0) -> nn.MLP:
    return nn.MLP(6, 3, [5, 4], [nn.ReLU(), nn.Tanh()], weight_init_fn=nn.he_normal_weight_init,
                  bias_init_fn=nn.zeros_bias_init, criterion=nn.SoftmaxCrossEntropy(), lr=0.1, momentum=momentum,
                  rng=rng, dtype=np.float64)


def test_mlp_backward_accumulates_and_zero_grads_zeroes(rng):
    mlp, x, y = small_mlp(rng), rng.standard_normal((8, 6)), rng.integers(0, 3, 8)
    mlp.forward(x)
    mlp.backward(y)
    first = [g.copy() for g in mlp.dW + mlp.db]
    assert all(np.abs(g).sum() > 0 for g in first)
    mlp.forward(x)
    mlp.backward(y)
    for g, g0 in zip(mlp.dW + mlp.db, first):
        np.testing.assert_allclose(g, 2 * g0)
    mlp.zero_grads()
    assert all(not g.any() for g in mlp.dW + mlp.db)


def test_mlp_gradients_match_finite_differences(rng):
    mlp, x, y = small_mlp(rng), rng.standard_normal((8, 6)), rng.integers(0, 3, 8)

    def loss():
        mlp.forward(x)
        return mlp.get_loss(y)

    mlp.zero_grads()
    mlp.forward(x)
    mlp.backward(y)
    for analytic, param in zip(mlp.dW + mlp.db, mlp.W + mlp.b):
        assert nn.relative_error(analytic.copy(), nn.numerical_gradient(loss, param)) < TOL


def test_step_moves_parameters_downhill(rng):
    mlp, x = small_mlp(rng, momentum=0.9), rng.standard_normal((32, 6))
    y = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0).astype(int)   # learnable labels
    before = [w.copy() for w in mlp.W]
    losses = []
    for _ in range(30):
        mlp.zero_grads()
        mlp.forward(x)
        losses.append(mlp.get_loss(y))
        mlp.backward(y)
        mlp.step()
    assert all(not np.array_equal(w, w0) for w, w0 in zip(mlp.W, before))
    assert losses[-1] < 0.5 * losses[0]
    mlp.forward(x)
    assert mlp.get_error(y) == int(np.sum(mlp.output.argmax(1) != y)) and mlp.get_error(y) < 8


def test_get_error_counts_wrong_predictions(rng):
    mlp = small_mlp(rng)
    mlp.output = np.array([[0.0, 1.0, 0.0], [2.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    assert mlp.get_error(np.array([1, 0, 0])) == 1
    assert mlp.get_error(np.eye(3)[[1, 1, 2]]) == 1   # one-hot labels


def test_save_load_round_trip(rng, tmp_path):
    mlp, x, y = small_mlp(rng), rng.standard_normal((50, 6)), rng.integers(0, 3, 50)
    path = tmp_path / "p1_model.npz"
    mlp.save(path)
    again = nn.MLP.load(path)
    assert [a.name for a in again.activations] == ["relu", "tanh"] and again.hiddens == [5, 4]
    np.testing.assert_array_equal(again.forward(x), mlp.forward(x))
    assert again.evaluate(x, y) == mlp.evaluate(x, y)


def test_mlp_checks_its_arguments():
    with pytest.raises(ValueError, match="one activation per hidden layer"):
        nn.MLP(4, 2, [3, 3], [nn.ReLU()])


def test_get_training_stats_learns_a_separable_problem(rng):
    x = rng.standard_normal((600, 6)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(int) + (x[:, 2] > 1).astype(int)
    mlp = nn.MLP(6, 3, [16], [nn.ReLU()], nn.he_normal_weight_init, nn.zeros_bias_init,
                 nn.SoftmaxCrossEntropy(), lr=0.1, momentum=0.9, rng=rng)
    stats = nn.get_training_stats(mlp, {"train": (x[:500], y[:500]), "val": (x[500:], y[500:])}, 8, 32, rng)
    assert set(stats) == {"train_loss", "train_error", "val_loss", "val_error"}
    assert all(len(v) == 8 for v in stats.values())
    assert stats["train_loss"][-1] < 0.5 * stats["train_loss"][0] and stats["val_error"][-1] < 0.15


def test_c_style_training_step_reduces_summed_loss(rng):
    x, y = rng.random((200, 20)).astype(np.float32), rng.integers(0, 4, 200)
    model = nn.mlp(20, (8,), 4, rng=rng)
    loss = nn.SoftmaxCrossEntropy("sum")
    opt = nn.SGD(model.parameters(), lr=1e-2)
    first = nn.train_step(model, loss, opt, x, y)
    for _ in range(50):
        last = nn.train_step(model, loss, opt, x, y)
    assert last < first
    assert nn.accuracy(model, x, y) == np.mean(model.forward(x).argmax(axis=1) == y)   # the batched predict agrees
    assert nn.evaluate(model, x, y)["error"] == pytest.approx(1 - nn.accuracy(model, x, y))


def test_dead_relu_fraction(rng):
    model = nn.mlp(3, (4,), 2, rng=rng, dtype=np.float64)
    x = rng.random((10, 3))                      # positive inputs
    first = model.linear_layers[0]
    first.W.data[:, :2] = -1.0                   # units 0 and 1 see only negative pre-activations
    first.W.data[:, 2:] = 1.0
    assert nn.dead_relu_fraction(model, x) == pytest.approx(0.5)
    assert nn.dead_relu_fraction(nn.mlp(3, (), 2, rng=rng), x) is None


def test_batches_cover_every_row_once(rng):
    parts = list(nn.batches(250, 100, rng))
    assert [len(p) for p in parts] == [100, 100, 50]
    assert sorted(np.concatenate(parts).tolist()) == list(range(250))
    assert [len(p) for p in nn.batches(250, 100, rng, drop_last=True)] == [100, 100]


def test_single_threaded_blas_restores_the_thread_count():
    before = nn.blas_threads()
    with nn.single_threaded_blas():
        assert nn.blas_threads() in (1, None)
    assert nn.blas_threads() == before
