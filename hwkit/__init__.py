"""hwkit: Keras 3 toolkit that turns deep-learning coursework into tuned, reproducible runs and PDF reports.

Layers, imports pointing one way only: ``tasks`` -> ``hwkit.assignments`` (the science of each
assignment) -> the core (``task``: the task API tasks import; ``data``, ``runs``, ``training``,
``tuning``, ``models``, ``plots``, ``report``, ``cli``, ``numpy_nn``). ``import hwkit`` loads no
TensorFlow; modules that need it import ``hwkit.tf_runtime`` first.
"""
__version__ = "0.1.0"


class HwkitError(Exception):
    """A problem the user can fix (bad flag value, missing run, ...): shown as one line, no traceback."""
