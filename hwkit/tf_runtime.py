"""TensorFlow, imported once and quietly, for the modules that need it.

``import hwkit`` stays cheap (no TensorFlow); a module that needs TensorFlow or Keras imports
this module first (``from hwkit import tf_runtime``), so the backend is chosen and TensorFlow's
start-up notices (absl/oneDNN, written straight to file descriptor 2 and deaf to
``TF_CPP_MIN_LOG_LEVEL``) are swallowed in this one place: one-line errors and Keras progress
bars are what a user sees. If the import fails, the captured output is shown with the error.
"""
import os
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def _import_tensorflow_quietly() -> None:
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
