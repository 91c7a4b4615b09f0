"""hwkit: Keras 3 toolkit that turns deep-learning coursework into tuned, reproducible runs and PDF reports."""
import os
import sys
import tempfile
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

__version__ = "0.1.0"

# Keras warns on every fit() over a tf.data pipeline that its default shuffle=True is ignored; our
# pipelines shuffle themselves (hwkit.training.dataset), so the warning is noise above the progress bar.
warnings.filterwarnings("ignore", message="`shuffle=True` was passed", category=UserWarning)


class HwkitError(Exception):
    """A problem the user can fix (bad flag value, missing run, ...): shown as one line, no traceback."""


def _import_tensorflow_quietly() -> None:
    """Import TensorFlow with its start-up notices (absl/oneDNN, written straight to file descriptor 2
    and deaf to TF_CPP_MIN_LOG_LEVEL) swallowed, so that one-line errors and Keras progress bars are
    what a user sees. If the import fails, the captured output is shown with the error."""
    if "tensorflow" in sys.modules:
        return
    try:
        saved = os.dup(2)
    except OSError:  # no usable stderr descriptor: nothing to protect
        import tensorflow  # noqa: F401
        return
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow  # noqa: F401
        except BaseException:
            os.dup2(saved, 2)
            captured.seek(0)
            sys.stderr.write(captured.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


_import_tensorflow_quietly()
