"""One module per assignment task: ``python -m tasks.<name>``; ``python -m tasks`` lists them.

Module names are the assignment letter and the task number (a1, b1, c10 ...): that is how the
reports find them. A task that reads the runs of other tasks names them in ``REQUIRES`` (with the files it
reads of each and the columns it computes with: checked before it starts); no task imports another
(shared science lives in ``hwkit.assignments``).
"""
from hwkit import tf_runtime  # noqa: F401  (TensorFlow imported once, quietly, before any task imports Keras)
from hwkit.task import install_unknown_task_message

install_unknown_task_message(__name__)   # `python -m tasks.nope`: one error line, exit 2

ASSIGNMENTS = {
    "A": "Learning the identity map from one example",
    "B": "Deep Learning for Scientists and Engineers, Homework 5",
    "C": "Deep Learning Coursework 1",
    "D": "Deep Learning for Engineers, Assignment 1",
    "E": "Introduction to Deep Learning, Exercise 2",
}

# Rough wall time (minutes) of the long full runs on 2 idle cores, measured 2026-11-29; every other task
# takes about a minute or less. `python -m hwkit.report X --run` starts the longest first (hwkit.regenerate).
FULL_RUN_MINUTES = {"d6": 17, "b7": 12, "b6": 11, "b1": 10, "a5": 5, "e1": 5, "c10": 4, "c1": 3, "c6": 3,
                    "c7": 3, "e3": 3, "e4": 3, "c3": 2.5, "e2": 2}

# Fixed settings each PDF states that no run records (library constants: an optimizer's momentum, a
# verdict's ratio ...): the science modules whose ``REPORT_FACTS`` dict the template sees as ``facts``.
REPORT_FACTS = {
    "A": ("hwkit.assignments.a_identity",),
    "B": ("hwkit.assignments.b_mnist_cnn", "hwkit.assignments.b_functions"),
    "C": ("hwkit.assignments.c_coursework",),
    "D": ("hwkit.assignments.d_cifar", "hwkit.assignments.d_theory"),
    "E": ("hwkit.assignments.e_autoencoders", "hwkit.assignments.e_transfer"),
}

# Benchmark scripts whose run directories (runs/<name>/) a task's PDF section shows, by task: D6's table of
# what each trick buys (`python benchmarks/cifar10_tricks.py --table`); a PDF without D6 neither shows nor lists it.
REPORT_BENCHMARKS = {"d6": ("cifar10_tricks",)}

# What each course asks to be handed in (``python -m hwkit.submit X``; see ``hwkit.submit.Bundle``).
# A and B name nothing: they get the default bundle (X.pdf, the code, the results).
from hwkit.submit import Bundle  # noqa: E402

SUBMISSIONS = {
    "C": Bundle(  # "all results/plots/tables required for grading ... we should not have to re-run your code"
        reports={"coursework1.pdf": ("", None)}, results=True),
    "D": Bundle(  # "p1_report.pdf, p1.py, p1_model.npz" and "p2_report.pdf, p2.py, p2_model.pkl"
        reports={"theory_report.pdf": ("Theory exercises 1-4", ("d1", "d2", "d3", "d4")),
                 "p1_report.pdf": ("Programming problem 1: numpy MLP on MNIST", ("d5",)),
                 "p2_report.pdf": ("Programming problem 2: CIFAR-10 CNN", ("d6",))},
        launchers={"p1.py": "d5", "p2.py": "d6"},
        numpy_only=("p1.py",),
        models={"p1_model.npz": ("d5", "models/p1_model.npz"),
                "p2_model.keras": ("d6", "models/d6_cifar10_net.keras")},
        notes=("`p2_model.keras`: the text asks for `p2_model.pkl`, the name of a pickled PyTorch model. This "
               "network is a Keras model, so it is shipped in Keras' own format (architecture + weights, no "
               "pickle): `import p2; keras.saving.load_model('p2_model.keras')` (importing p2 registers the "
               "network's layers). A `.pkl` would need the same code to unpickle and could run arbitrary code "
               "when loaded.",
               "`p1_model.npz`: `import p1; p1.nn.MLP.load('p1_model.npz')` (numpy only).",
               "`theory_report.pdf`: the answers to theory problems 1-4 (D1-D4), each computed and checked by code.")),
    "E": Bundle(  # "a single zip file named ex2_ID1_ID2.zip ... code, ex2.pdf ... README with names and usernames"
        reports={"ex2.pdf": ("", None)}, zip_name="ex2_{ids}.zip", authors=2),
}
