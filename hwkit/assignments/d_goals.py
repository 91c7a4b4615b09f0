"""Assignment D's cut-offs (D5, D6) and whether a run met them: the verdicts the report lays out.

D5 (numpy MLP on the MNIST CSV files) must reach a test error below 5% and aims at below 2%;
D6 (CIFAR-10 CNN) is graded at 75/80/85/90% test accuracy, with >= 85% the goal and >= 90% the aim.
Pure Python (no numpy, no TensorFlow): D5 is a numpy-only task.
"""
from __future__ import annotations

D5_REQUIRED_ERROR = 0.05     # test error must be below this
D5_AIM_ERROR = 0.02          # ... and should be below this
D6_CUTOFFS = (0.75, 0.80, 0.85, 0.90)   # the assignment's grading cut-offs (test accuracy)
D6_GOAL_ACCURACY = 0.85      # test accuracy goal (at least)
D6_AIM_ACCURACY = 0.90       # ... and aim


def d5_verdict(test_error: float) -> dict:
    """D5's cut-offs and whether ``test_error`` (a fraction) is below each."""
    return {"required_error": D5_REQUIRED_ERROR, "required_met": test_error < D5_REQUIRED_ERROR,
            "aim_error": D5_AIM_ERROR, "aim_met": test_error < D5_AIM_ERROR}


def d6_verdict(test_accuracy: float, tta_accuracy: float) -> dict:
    """D6's goal and aim, each judged for the plain model and with test-time augmentation (D6 passes its 6-view
    TTA), and the cut-offs met."""
    return {"goal_accuracy": D6_GOAL_ACCURACY, "aim_accuracy": D6_AIM_ACCURACY, "cutoffs": list(D6_CUTOFFS),
            "goal_reached": test_accuracy >= D6_GOAL_ACCURACY, "aim_reached": test_accuracy >= D6_AIM_ACCURACY,
            "goal_reached_tta": tta_accuracy >= D6_GOAL_ACCURACY, "aim_reached_tta": tta_accuracy >= D6_AIM_ACCURACY,
            "cutoffs_reached": [c for c in D6_CUTOFFS if test_accuracy >= c]}
