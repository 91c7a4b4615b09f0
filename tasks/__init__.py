"""One module per assignment task: ``python -m tasks.<name>``; ``python -m tasks`` lists them.

Module names are the assignment letter and the task number (a1, b1, c10 ...): that is how the
reports find them. A task that reads the runs of other tasks names them in ``REQUIRES``; no task
imports another (shared science lives in ``hwkit.assignments``).
"""
from hwkit import tf_runtime  # noqa: F401  (TensorFlow imported once, quietly, before any task imports Keras)
from hwkit.cli import install_unknown_task_message

install_unknown_task_message(__name__)   # `python -m tasks.nope`: one error line, exit 2

ASSIGNMENTS = {
    "A": "Learning the identity map from one example",
    "B": "Deep Learning for Scientists and Engineers, Homework 5",
    "C": "Deep Learning Coursework 1",
    "D": "Deep Learning for Engineers, Assignment 1",
    "E": "Introduction to Deep Learning, Exercise 2",
}
