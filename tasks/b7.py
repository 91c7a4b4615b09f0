"""B7: WGAN-GP generating the uniform distribution on [-1,1]^20 from N(0,1) noise of dimension 5, 20 and 40.

Homework 5, task 7: train a WGAN-GP to generate a uniform distribution in [-1, 1]^20 from Gaussian
noise (mean 0, standard deviation 1), trying different noise dimensions.

How: exactly the recipe of B6 (``hwkit.assignments.b_wgan``): MLP generator (ReLU, tanh output) and ReLU critic,
WGAN-GP ``train_step`` driven by ``Model.fit``, EMA of the generator's weights, ε every 100
generator steps (ε < 0.05 is "5% accuracy"). 3 seeds for noise dim 20, 1 for the others; the 3 seeds
of noise dim 20 again under half the budget (3000 steps), for B8. Every
generator is saved as ``.keras`` in the run.
"""
from __future__ import annotations

import dataclasses

from hwkit.assignments import b_wgan
from hwkit.task import choose_recipe, main

DATA_DIM = 20
FULL = b_wgan.Recipe(noise_dims=(5, 20, 40),  # fewer, as many, and more noise dimensions than data dimensions
                     seeds=3, other_seeds=1, epochs=60,   # 60 x 100 = 6000 generator steps
                     short_epochs=30,   # the matched seeds again under half the budget (B8)
                     comparison=())   # the textbook settings (b_wgan.STANDARD_SETTINGS) cost 2 more trainings
QUICK = dataclasses.replace(FULL, noise_dims=(5, 20), seeds=1, epochs=2, short_epochs=1, eval_every=25,
                            train_samples=10_000,
                            comparison=())


def run(args, run):
    b_wgan.uniform_task(run, DATA_DIM, choose_recipe(args, FULL, QUICK), args.seed)


if __name__ == "__main__":
    raise SystemExit(main(__spec__.name))
