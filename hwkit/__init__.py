"""hwkit: Keras 3 toolkit that turns deep-learning coursework into tuned, reproducible runs and PDF reports."""
import os

# TensorFlow's C++ start-up chatter hides the Keras progress bars users should see.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

__version__ = "0.1.0"


class HwkitError(Exception):
    """A problem the user can fix (bad flag value, missing run, ...): shown as one line, no traceback."""
