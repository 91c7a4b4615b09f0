"""WGAN-GP (Gulrajani et al. 2017) as a ``keras.Model`` whose ``train_step`` ``Model.fit`` drives,
and the distribution error used to say when a generator is "5% accurate" (assignment B6–B8).

One ``train_step`` = ``n_critic`` critic updates (each on its own slice of the real batch, a
fresh noise batch and the gradient penalty on random interpolates) followed by one generator
update. ``fit`` therefore counts *generator* steps, and the real batch it is given holds
``n_critic * batch_size`` samples.

The distribution error ε (0 for a perfect generator, up to the sampling floor) is a normalised
sliced Wasserstein-1 distance: for each direction θ in a fixed set Θ (the d coordinate axes plus
``n_random`` random unit vectors),

    ε = mean_θ  W1(θ·G(z), θ·X) / sd(θ·X),

with W1 between two equal-size samples = mean |sorted(a) − sorted(b)|, X a fixed reference sample
of the target distribution and sd its standard deviation along θ. The axes check the marginals;
the random directions check the joint law (a generator whose coordinates are dependent — e.g. a
curve when the noise has fewer dimensions than the data — has correct-looking axes but wrong
oblique projections). "5% accuracy" means ε < 0.05.
"""
from __future__ import annotations

from hwkit import tf_runtime  # noqa: F401  (quiet TensorFlow import before Keras)

import time

import keras
import numpy as np
import tensorflow as tf


class WGANGP(keras.Model):
    """A generator and a critic trained adversarially with the Wasserstein loss + gradient penalty."""

    def __init__(self, generator: keras.Model, critic: keras.Model, noise_dim: int, n_critic: int = 5,
                 gp_weight: float = 10.0, **kwargs):
        super().__init__(**kwargs)
        self.generator, self.critic = generator, critic
        self.noise_dim, self.n_critic, self.gp_weight = noise_dim, n_critic, gp_weight
        self.trackers = {name: keras.metrics.Mean(name=name)
                         for name in ("critic_loss", "generator_loss", "gradient_penalty", "wasserstein")}

    def compile(self, generator_optimizer, critic_optimizer, **kwargs):
        super().compile(**kwargs)
        self.generator_optimizer, self.critic_optimizer = generator_optimizer, critic_optimizer

    @property
    def metrics(self):
        return list(self.trackers.values())

    def call(self, z, training=False):
        return self.generator(z, training=training)

    def _noise(self, n):
        return tf.random.normal((n, self.noise_dim))

    def train_step(self, real):
        real = tf.convert_to_tensor(real)
        chunks = tf.split(real, self.n_critic)
        for chunk in chunks:  # unrolled: n_critic critic updates per generator update
            n = tf.shape(chunk)[0]
            with tf.GradientTape() as tape:
                fake = self.generator(self._noise(n), training=True)
                alpha = tf.random.uniform((n, 1))
                interpolates = alpha * chunk + (1.0 - alpha) * fake
                with tf.GradientTape() as gp_tape:
                    gp_tape.watch(interpolates)
                    critic_interpolates = self.critic(interpolates, training=True)
                slopes = tf.norm(gp_tape.gradient(critic_interpolates, interpolates) + 1e-12, axis=1)
                penalty = tf.reduce_mean((slopes - 1.0) ** 2)
                wasserstein = (tf.reduce_mean(self.critic(chunk, training=True))
                               - tf.reduce_mean(self.critic(fake, training=True)))
                critic_loss = -wasserstein + self.gp_weight * penalty
            grads = tape.gradient(critic_loss, self.critic.trainable_weights)
            self.critic_optimizer.apply_gradients(zip(grads, self.critic.trainable_weights))
        with tf.GradientTape() as tape:
            fake = self.generator(self._noise(tf.shape(chunks[0])[0]), training=True)
            generator_loss = -tf.reduce_mean(self.critic(fake, training=True))
        grads = tape.gradient(generator_loss, self.generator.trainable_weights)
        self.generator_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))
        for name, value in (("critic_loss", critic_loss), ("generator_loss", generator_loss),
                            ("gradient_penalty", penalty), ("wasserstein", wasserstein)):
            self.trackers[name].update_state(value)
        return {name: t.result() for name, t in self.trackers.items()}

    def sample(self, n: int, seed: int | None = None) -> np.ndarray:
        """n generated points (numpy), from N(0, 1) noise drawn with ``seed``."""
        z = np.random.default_rng(seed).standard_normal((n, self.noise_dim)).astype(np.float32)
        return np.asarray(self.generator.predict(z, batch_size=8192, verbose=0))

    def flops_per_step(self, batch_size: int) -> float:
        """FLOP proxy for one ``train_step``: 6 · parameters · samples through each network.

        The usual "6 N D" training estimate (2 N forward + 4 N backward per sample). Per step the
        critic sees 3 batches (real, fake, interpolates) in each of ``n_critic`` updates and one fake
        batch in the generator update; the generator sees ``n_critic + 1`` batches. The gradient
        penalty's double back-propagation is not counted: it is the same factor for every setting,
        so the proxy compares settings fairly even though it undercounts absolute work.
        """
        critic_samples = (3 * self.n_critic + 1) * batch_size
        generator_samples = (self.n_critic + 1) * batch_size
        return 6.0 * (self.critic.count_params() * critic_samples + self.generator.count_params() * generator_samples)


# ----------------------------------------------------------------------------- distribution error

def directions(dim: int, n_random: int, seed: int = 0) -> np.ndarray:
    """The direction set Θ as rows: the ``dim`` coordinate axes, then ``n_random`` random unit vectors."""
    rng = np.random.default_rng(seed)
    random = rng.standard_normal((n_random, dim))
    random /= np.linalg.norm(random, axis=1, keepdims=True)
    return np.concatenate([np.eye(dim), random]).astype(np.float64)


def wasserstein1(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """W1 between equal-size 1-D samples, column by column: mean |sorted(a) − sorted(b)|."""
    return np.mean(np.abs(np.sort(a, axis=0) - np.sort(b, axis=0)), axis=0)


def sliced_errors(samples: np.ndarray, reference: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """W1(θ·samples, θ·reference) / sd(θ·reference) for each direction θ (row of ``theta``)."""
    if samples.shape != reference.shape:
        raise ValueError(f"samples {samples.shape} and reference {reference.shape} must have the same shape")
    ps, pr = samples @ theta.T, reference @ theta.T
    return wasserstein1(ps, pr) / pr.std(axis=0)


def distribution_error(samples: np.ndarray, reference: np.ndarray, theta: np.ndarray) -> dict[str, float]:
    """ε over all of Θ (``error``), over the axes only (``marginal_error``) and the oblique directions only."""
    e = sliced_errors(samples, reference, theta)
    d = samples.shape[1]
    return {"error": float(e.mean()), "marginal_error": float(e[:d].mean()),
            "joint_error": float(e[d:].mean()) if len(e) > d else float("nan")}


class DistributionError(keras.callbacks.Callback):
    """After every epoch (= ``steps_per_epoch`` generator steps): ε of a fresh generated sample.

    Adds ``error``, ``marginal_error``, ``joint_error``, ``steps`` and ``train_s`` (training seconds
    so far, *excluding* the time spent here) to the epoch logs, so ``CSVLogger`` records them, and
    keeps them in ``records``. With ``stop_at``, training stops the first time ε < ``stop_at``;
    ``reached`` then holds that record.
    """

    def __init__(self, reference: np.ndarray, theta: np.ndarray, target: float = 0.05,
                 stop_at_target: bool = False, seed: int = 0):
        super().__init__()
        self.reference, self.theta, self.target = reference, theta, target
        self.stop_at_target, self.seed = stop_at_target, seed
        self.records: list[dict] = []
        self.reached: dict | None = None

    def on_train_begin(self, logs=None):
        self._steps, self._train_s = 0, 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self._train_s += time.perf_counter() - self._epoch_started
        self._steps += self.params["steps"]  # per-batch hooks fire once per steps_per_execution
        samples = self.model.sample(len(self.reference), seed=self.seed + 1 + epoch)
        record = {"steps": self._steps, "train_s": round(self._train_s, 3),
                  **distribution_error(samples, self.reference, self.theta)}
        self.records.append(record)
        if logs is not None:
            logs.update(record)
        if self.reached is None and record["error"] < self.target:
            self.reached = record
            if self.stop_at_target:
                self.model.stop_training = True


# ----------------------------------------------------------------------------- the B6/B7 experiment

# One recipe for every data / noise dimension, so that B8 compares like with like.
WIDTHS = [128, 128, 128]      # hidden layers of the generator and of the critic (ReLU)
BATCH_SIZE = 256              # samples per critic / generator update
N_CRITIC = 5                  # critic updates per generator update
GP_WEIGHT = 10.0
LEARNING_RATE = 5e-4          # Adam(β1=0.5, β2=0.9) as in Gulrajani et al.; cosine decay to 5% over the budget
TRAIN_SAMPLES = 100_000       # a fixed training sample of the target distribution
REFERENCE_SAMPLES = 8_192     # an independent sample for ε
RANDOM_DIRECTIONS = 50
EVAL_EVERY = 100              # generator steps between ε evaluations
TARGET = 0.05                 # "5% accuracy": ε < 0.05


def uniform_cube(n: int, dim: int, seed: int) -> np.ndarray:
    """n points of the uniform distribution on [-1, 1]^dim (float32)."""
    return np.random.default_rng(seed).uniform(-1.0, 1.0, (n, dim)).astype(np.float32)


def build_wgan(data_dim: int, noise_dim: int, steps: int) -> WGANGP:
    """Generator (tanh output: the target lives in [-1, 1]^d, as DCGAN's images do) + critic, compiled."""
    from hwkit import models
    generator = models.dense_net(noise_dim, WIDTHS, data_dim, output_activation="tanh", name="generator")
    critic = models.dense_net(data_dim, WIDTHS, 1, name="critic")
    model = WGANGP(generator, critic, noise_dim, n_critic=N_CRITIC, gp_weight=GP_WEIGHT)

    def adam(decay_steps):
        return keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(LEARNING_RATE, decay_steps, alpha=0.05),
                                     beta_1=0.5, beta_2=0.9)
    model.compile(generator_optimizer=adam(steps), critic_optimizer=adam(steps * N_CRITIC),
                  steps_per_execution=EVAL_EVERY)
    return model


def train_uniform(data_dim: int, noise_dim: int, steps: int, seed: int, callbacks=()) -> tuple[WGANGP, DistributionError]:
    """Train a WGAN-GP on uniform [-1, 1]^data_dim from N(0, I_noise_dim) for ``steps`` generator steps.

    ε is evaluated every ``EVAL_EVERY`` steps (``DistributionError``, whose ``records`` and
    ``reached`` are returned with the model); training always runs the whole budget.
    """
    keras.utils.set_random_seed(seed)
    if steps % EVAL_EVERY:
        raise ValueError(f"steps ({steps}) must be a multiple of {EVAL_EVERY}")
    real = uniform_cube(TRAIN_SAMPLES, data_dim, seed)
    reference = uniform_cube(REFERENCE_SAMPLES, data_dim, seed + 10_000)
    theta = directions(data_dim, RANDOM_DIRECTIONS, seed=seed)
    ds = (tf.data.Dataset.from_tensor_slices(real).shuffle(len(real), seed=seed).repeat()
          .batch(BATCH_SIZE * N_CRITIC, drop_remainder=True).prefetch(2))
    model = build_wgan(data_dim, noise_dim, steps)
    monitor = DistributionError(reference, theta, target=TARGET, seed=seed)
    model.fit(ds, steps_per_epoch=EVAL_EVERY, epochs=steps // EVAL_EVERY, callbacks=[monitor, *callbacks], verbose=0)
    return model, monitor


def sampling_floor(data_dim: int, seed: int) -> float:
    """ε of a *true* sample of the reference size: what a perfect generator scores (sampling noise)."""
    theta = directions(data_dim, RANDOM_DIRECTIONS, seed=seed)
    return distribution_error(uniform_cube(REFERENCE_SAMPLES, data_dim, seed + 20_000),
                              uniform_cube(REFERENCE_SAMPLES, data_dim, seed + 10_000), theta)["error"]


def uniform_task(run, data_dim: int, noise_dims: list[int], steps: int, seed: int) -> None:
    """B6/B7: train one WGAN-GP per noise dimension; tables, figures and metrics into ``run``."""
    import matplotlib.pyplot as plt
    floor = sampling_floor(data_dim, seed)
    rows, curves, samples = [], {}, {}
    for noise_dim in noise_dims:
        model, monitor = train_uniform(data_dim, noise_dim, steps, seed)
        last = monitor.records[-1]
        reached = monitor.reached
        flops = model.flops_per_step(BATCH_SIZE)
        rows.append({"noise_dim": noise_dim, "steps": last["steps"], "train_s": last["train_s"],
                     "final_error": last["error"], "final_marginal_error": last["marginal_error"],
                     "final_joint_error": last["joint_error"],
                     "best_error": min(r["error"] for r in monitor.records),
                     "steps_to_target": reached["steps"] if reached else None,
                     "seconds_to_target": reached["train_s"] if reached else None,
                     "flops_to_target": reached["steps"] * flops if reached else None,
                     "flops_per_step": flops,
                     "parameters": model.generator.count_params() + model.critic.count_params()})
        curves[noise_dim] = monitor.records
        samples[noise_dim] = model.sample(4000, seed=seed + 7)
        print(f"d={data_dim} noise={noise_dim}: final ε {last['error']:.4f}; "
              f"ε<{TARGET} {'at step ' + str(reached['steps']) if reached else 'not reached'}")
    run.save_table("noise_dims", rows)
    run.save_table("curves", [{"noise_dim": k, **r} for k, recs in curves.items() for r in recs])

    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    for noise_dim, recs in curves.items():
        ax.semilogy([r["steps"] for r in recs], [r["error"] for r in recs], "o-", ms=3, label=f"noise dim {noise_dim}")
    ax.axhline(TARGET, color="k", ls="--", lw=1, label=f"target ε = {TARGET}")
    ax.axhline(floor, color="grey", ls=":", lw=1, label=f"sampling floor {floor:.3f}")
    ax.set_xlabel("generator step")
    ax.set_ylabel("ε (normalised sliced W1)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    run.save_figure(fig, "error_curves")

    # Marginals of the first coordinates and the joint law of coordinates 1-2, per noise dimension.
    show = min(data_dim, 3)
    fig, axes = plt.subplots(len(noise_dims), show + 1, figsize=(2.6 * (show + 1), 2.3 * len(noise_dims)), squeeze=False)
    for i, noise_dim in enumerate(noise_dims):
        s = samples[noise_dim]
        for j in range(show):
            axes[i, j].hist(s[:, j], bins=40, range=(-1.3, 1.3), density=True, color="C0")
            axes[i, j].axhline(0.5, color="k", lw=1)
            axes[i, j].set_title(f"noise {noise_dim}: x{j + 1}", fontsize=8)
        axes[i, show].plot(s[:1500, 0], s[:1500, 1], ".", ms=1.5)
        axes[i, show].set(xlim=(-1.3, 1.3), ylim=(-1.3, 1.3), aspect="equal")
        axes[i, show].set_title(f"noise {noise_dim}: (x1, x2)", fontsize=8)
    fig.tight_layout()
    run.save_figure(fig, "samples")

    best = min(rows, key=lambda r: r["final_error"])
    run.log(data_dim=data_dim, noise_dims=noise_dims, steps=steps, target=TARGET, sampling_floor=floor,
            widths=WIDTHS, batch_size=BATCH_SIZE, n_critic=N_CRITIC, gp_weight=GP_WEIGHT,
            learning_rate=LEARNING_RATE, eval_every=EVAL_EVERY, reference_samples=REFERENCE_SAMPLES,
            random_directions=RANDOM_DIRECTIONS, best_noise_dim=best["noise_dim"], best_final_error=best["final_error"],
            reached_target={str(r["noise_dim"]): r["steps_to_target"] is not None for r in rows})
