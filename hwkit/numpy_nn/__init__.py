"""From-scratch numpy neural networks: the layers, loss, optimizer and checks two assignments demand.

One library, two faces:

* compose the pieces directly — ``Sequential`` of ``Linear`` and ``ReLU`` layers,
  ``SoftmaxCrossEntropy(reduction="sum")``, ``SGD`` — and train them with ``train_step``;
* or use ``MLP``, a PyTorch-like facade over the
  same layers with the API the assignment names (``forward``, ``backward``, ``step``,
  ``zero_grads``, ``get_loss``, ``get_error``, momentum, ``random_normal_weight_init``,
  ``zeros_bias_init``).

Layout convention everywhere: a batch is a row matrix ``x`` of shape (N, features) and a linear
layer computes ``z = x W + b`` with ``W`` of shape (in, out). Every layer's backward is checked
against central finite differences by ``gradcheck`` (tests/test_numpy_nn.py).
Only numpy is imported here (and threadpoolctl, where installed, to run BLAS on one thread).
"""
from hwkit.numpy_nn.gradcheck import check_layer, check_loss, numerical_gradient, relative_error
from hwkit.numpy_nn.initializers import (
    he_normal_weight_init,
    random_normal_weight_init,
    xavier_uniform,
    zeros_bias_init,
)
from hwkit.numpy_nn.layers import (
    ACTIVATIONS,
    Activation,
    Layer,
    Linear,
    Parameter,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
    mlp,
)
from hwkit.numpy_nn.losses import SoftmaxCrossEntropy, log_softmax, one_hot, softmax
from hwkit.numpy_nn.optim import SGD
from hwkit.numpy_nn.threads import blas_threads, single_threaded_blas
from hwkit.numpy_nn.torchlike import MLP, get_training_stats
from hwkit.numpy_nn.training import accuracy, batches, dead_relu_fraction, evaluate, predict, train_step

__all__ = [
    "ACTIVATIONS", "Activation", "Layer", "Linear", "MLP", "Parameter", "ReLU", "SGD", "Sequential", "Sigmoid",
    "SoftmaxCrossEntropy", "Tanh", "accuracy", "batches", "blas_threads", "check_layer", "check_loss",
    "dead_relu_fraction", "evaluate",
    "get_training_stats", "he_normal_weight_init", "log_softmax", "mlp", "numerical_gradient", "one_hot",
    "predict", "random_normal_weight_init", "relative_error", "single_threaded_blas", "softmax", "train_step",
    "xavier_uniform", "zeros_bias_init",
]
