"""B6: WGAN-GP generating the uniform distribution on [-1,1]^5 from N(0,1) noise of dimension 1, 5 and 10.

Homework 5, task 6: train a WGAN-GP to generate a uniform distribution in [-1, 1]^5 from Gaussian
noise (mean 0, standard deviation 1), trying different noise dimensions.

How: ``hwkit.assignments.b_wgan`` — an MLP generator (tanh output) and critic trained by ``Model.fit`` through the
WGAN-GP ``train_step`` (5 critic updates with gradient penalty per generator update). Every 100
generator steps a callback measures the distribution error ε (normalised sliced Wasserstein-1
against an independent sample of the target; ε < 0.05 is "5% accuracy", see B8).
"""
from __future__ import annotations

from hwkit.assignments import b_wgan
from hwkit.cli import task_main

DATA_DIM = 5
NOISE_DIMS = [1, 5, 10]      # fewer, as many, and more noise dimensions than data dimensions
STEPS = 4000                 # generator steps per noise dimension; --epochs N means N × 100 steps

QUICK = dict(noise_dims=[1, 5], steps=100)


def run(args, run):
    steps = 100 * args.epochs if args.epochs else (QUICK["steps"] if args.quick else STEPS)
    b_wgan.uniform_task(run, DATA_DIM, QUICK["noise_dims"] if args.quick else NOISE_DIMS, steps, args.seed)


if __name__ == "__main__":
    raise SystemExit(task_main(__spec__.name))
