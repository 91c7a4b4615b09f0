"""The science of each assignment, one module per topic, named after its assignment.

``a_identity``      A: learning the identity map from one example (data, protocol, verdicts, models)
``b_mnist_cnn``     B1: the MNIST CNN and its search space
``b_functions``     B2-B4: 1-D function fitting, dead ReLUs
``b_wgan``          B6-B8: WGAN-GP and the distribution error
``c_coursework``    C: Coursework 1's models and training protocol
``d_cifar``         D6: the airbench-style CIFAR-10 network, its recipe, search space and TTA views
``e_autoencoders``  E1-E5: convolutional autoencoder, classifier head
``e_latent``        E3: latent-space geometry
``e_transfer``      E4-E5: the scarce-label subset, few-label recipe, over-fitting verdicts
``e_shift``         E6-E7: shift equivariance and invariance
``e_jacobians``     E8: Jacobians by hand vs autodiff

Modules here may import the core (``hwkit.*``) but never ``tasks`` or each other's assignment.
A module that uses Keras imports ``hwkit.tf_runtime`` first; this package itself imports no
TensorFlow, so numpy-only science (e.g. pass/fail goals) stays importable without it.
"""
