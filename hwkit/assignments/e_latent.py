"""Latent-space geometry: how tightly each class clusters and how far apart the classes are.

Used by E3 to compare the autoencoder's and the classifier's embeddings. Two encoders place
their codes at arbitrary scales, so every distance is also reported *normalised* by the total
spread of the codes (root-mean-square distance to the global mean); the silhouette and the
Fisher ratio are scale-free already. Distances are Euclidean.
"""
from __future__ import annotations

import numpy as np

from hwkit import findings, pca


def total_spread(z: np.ndarray) -> float:
    """Root-mean-square distance of the codes to their global mean (the unit for normalising)."""
    return float(np.sqrt(np.mean(np.sum((z - z.mean(0)) ** 2, axis=1))))


def centroids(z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(classes, centroid per class) in class order."""
    classes = np.unique(y)
    return classes, np.stack([z[y == c].mean(0) for c in classes])


def within_class_distances(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per class: mean distance of its members to the class centroid (in-class variability)."""
    classes, cents = centroids(z, y)
    return np.array([np.linalg.norm(z[y == c] - cents[i], axis=1).mean() for i, c in enumerate(classes)])


def distance_to_own_centroid(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per example: its distance to its class centroid (the per-example score behind in-class variability)."""
    z = np.asarray(z, dtype=np.float64)
    classes, cents = centroids(z, y)
    return np.linalg.norm(z - cents[np.searchsorted(classes, y)], axis=1)


def centroid_distance_matrix(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(k, k) Euclidean distances between class centroids (between-class separation)."""
    _, cents = centroids(z, y)
    return np.linalg.norm(cents[:, None, :] - cents[None, :, :], axis=-1)


def silhouette(z: np.ndarray, y: np.ndarray) -> float:
    """Mean silhouette coefficient over all points (``silhouette_values``)."""
    return float(silhouette_values(z, y).mean())


def silhouette_values(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Silhouette coefficient (b - a) / max(a, b) of every point.

    a = mean distance to the other members of the own class, b = smallest mean distance to the
    members of another class. +1: tight, well separated classes; 0: overlapping; <0: mixed up.
    O(n^2) memory: pass a few thousand points.
    """
    d = np.sqrt(np.maximum(np.sum(z ** 2, 1)[:, None] + np.sum(z ** 2, 1)[None, :] - 2 * z @ z.T, 0.0))
    classes = np.unique(y)
    member = np.stack([y == c for c in classes], axis=1).astype(np.float64)   # (n, k)
    counts = member.sum(0)
    mean_to = d @ member / counts                                              # (n, k) mean distance to each class
    own = np.searchsorted(classes, y)
    n_own = counts[own]
    a = mean_to[np.arange(len(y)), own] * n_own / np.maximum(n_own - 1, 1)      # exclude the point itself
    mean_to[np.arange(len(y)), own] = np.inf
    b = mean_to.min(1)
    s = (b - a) / np.maximum(np.maximum(a, b), 1e-12)
    s[n_own <= 1] = 0.0
    return s


def fisher_ratio(z: np.ndarray, y: np.ndarray) -> float:
    """trace(between-class scatter) / trace(within-class scatter): large = classes far apart for their spread."""
    classes, cents = centroids(z, y)
    mu = z.mean(0)
    between = sum(np.sum(y == c) * np.sum((cents[i] - mu) ** 2) for i, c in enumerate(classes))
    within = sum(np.sum((z[y == c] - cents[i]) ** 2) for i, c in enumerate(classes))
    return float(between / within)


def class_geometry(z: np.ndarray, y: np.ndarray, silhouette_points: int = 2000, seed: int = 0) -> dict:
    """All the numbers E3 compares, for one latent space.

    Returns raw and spread-normalised in-class distances (per class and mean), centroid
    distances (mean and smallest pair), their ratio, the Fisher ratio and the silhouette
    (on a seeded sample of ``silhouette_points`` codes).
    """
    z = np.asarray(z, dtype=np.float64)
    spread = total_spread(z)
    within = within_class_distances(z, y)
    dist = centroid_distance_matrix(z, y)
    off = dist[~np.eye(len(dist), dtype=bool)]
    idx = np.random.default_rng(seed).permutation(len(z))[:silhouette_points]
    return {
        "total_spread": spread,
        "within_per_class": within.tolist(),
        "within_mean": float(within.mean()),
        "within_mean_normalised": float(within.mean() / spread),
        "centroid_distance_mean": float(off.mean()),
        "centroid_distance_mean_normalised": float(off.mean() / spread),
        "centroid_distance_min": float(off.min()),
        "centroid_distance_min_normalised": float(off.min() / spread),
        "separation_ratio": float(off.mean() / within.mean()),
        "fisher_ratio": fisher_ratio(z, y),
        "silhouette": silhouette(z[idx], y[idx]),
        "silhouette_points": int(len(idx)),
    }


def pca_2d(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Projection of the codes on their two leading principal axes, and the variance fraction each explains."""
    fitted = pca.fit_pca(z)
    power = fitted.singular_values ** 2
    return (np.asarray(z, dtype=np.float64) - fitted.mean) @ fitted.components[:2].T, power[:2] / power.sum()


def compare_encoders(autoencoder_codes: np.ndarray, classifier_codes: np.ndarray, y: np.ndarray,
                     silhouette_points: int, both_fitted: bool, seed: int = 0) -> dict[str, findings.Finding]:
    """E3's answers (b) and (c) as findings, each a 95% paired bootstrap over the same test images.

    * ``in_class_variability``: A = autoencoder, B = classifier; per image its distance to its class
      centroid divided by the total spread of its space (centroids and spread fixed at their full-set
      values). "better" = the autoencoder's codes vary more within a class.
    * ``separation``: A = classifier, B = autoencoder; per image its silhouette (on the same seeded
      ``silhouette_points`` images in both spaces). "better" = the classifier separates the classes more.
    ``both_fitted`` false (an encoder failed its fit check): both are "not comparable".
    """
    ae, clf = (np.asarray(z, dtype=np.float64) for z in (autoencoder_codes, classifier_codes))
    idx = np.random.default_rng(seed).permutation(len(y))[:silhouette_points]
    pairs = {"in_class_variability": (distance_to_own_centroid(ae, y) / total_spread(ae),
                                      distance_to_own_centroid(clf, y) / total_spread(clf)),
             "separation": (silhouette_values(clf[idx], y[idx]), silhouette_values(ae[idx], y[idx]))}
    if not both_fitted:
        return {k: findings.Finding(findings.NOT_COMPARABLE, {"a": float(a.mean()), "b": float(b.mean())},
                                    criterion="an encoder that failed its fit check is not compared")
                for k, (a, b) in pairs.items()}
    return {k: findings.compare_paired(a, b, higher_is_better=True) for k, (a, b) in pairs.items()}


def reconstruction_spread(images: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per image: L2 distance to the mean image of its class (how much one digit's images still differ)."""
    flat = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
    return distance_to_own_centroid(flat, y)
