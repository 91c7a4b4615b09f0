"""Principal component analysis with numpy's SVD, and the reconstruction error ε = ||x − x̃||₂².

PCA keeps the ``l`` leading right-singular vectors of the centred training matrix; among all
rank-``l`` affine maps it gives the smallest mean squared reconstruction error on the data it
was fitted to (Eckart–Young), which makes it the linear baseline for an autoencoder.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class PCA:
    mean: np.ndarray          # (features,)
    components: np.ndarray    # (rank, features), orthonormal rows, by decreasing singular value
    singular_values: np.ndarray

    def reconstruct(self, x: np.ndarray, latent_dim: int) -> np.ndarray:
        """x̃: project onto the first ``latent_dim`` components and map back."""
        v = self.components[:latent_dim]
        return (x - self.mean) @ v.T @ v + self.mean

    def explained_variance(self, latent_dim: int) -> float:
        """Fraction of the training variance kept by the first ``latent_dim`` components."""
        power = self.singular_values ** 2
        return float(power[:latent_dim].sum() / power.sum())


def fit_pca(x: np.ndarray) -> PCA:
    """PCA of the rows of ``x`` (samples × features) by the thin SVD of the centred matrix."""
    x = np.asarray(x, dtype=np.float64)
    mean = x.mean(axis=0)
    _, s, vt = np.linalg.svd(x - mean, full_matrices=False)
    return PCA(mean=mean, components=vt, singular_values=s)


def reconstruction_error(x: np.ndarray, x_tilde: np.ndarray) -> float:
    """Mean over samples of ε = ||x − x̃||₂² (the sum of squared errors over the features of one sample)."""
    diff = (np.asarray(x, dtype=np.float64).reshape(len(x), -1)
            - np.asarray(x_tilde, dtype=np.float64).reshape(len(x), -1))
    return float(np.mean(np.sum(diff ** 2, axis=1)))
