"""Offline dataset loaders: MNIST (IDX .gz, mnist.npz, CSV) and CIFAR-10 (python batches, tar.gz).

Search order for a dataset: the ``--data-dir`` flag, then ``$HWKIT_DATA_DIR``, then
``~/.keras/datasets``; each directory is tried as given and with a ``mnist/`` or
``cifar-10-batches-py/`` sub-folder. Keras' own download is the last resort unless
``HWKIT_OFFLINE=1``. Every file is validated (magic numbers, shapes, counts, label and pixel
ranges); anything wrong raises one ``DataError`` naming the path, what was expected and what
was found.

Images are returned as uint8 arrays (MNIST ``(N, 28, 28)``, CIFAR-10 ``(N, 32, 32, 3)``) and
labels as int64 ``(N,)``; scaling to floats is the caller's choice.

Command line: ``python -m hwkit.data export-csv --out DIR`` writes ``mnist_train.csv`` and
``mnist_test.csv`` (label then 784 pixels, with a header) for the assignments that ask for CSV.
"""
from __future__ import annotations

import gzip
import os
import pickle
import sys
import tarfile
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from hwkit import HwkitError

MNIST_COUNTS = {"train": 60000, "test": 10000}
CIFAR10_COUNTS = {"train": 50000, "test": 10000}
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
                   "dog", "frog", "horse", "ship", "truck")
MNIST_FORMATS = ("idx", "npz", "csv")
CIFAR10_FORMATS = ("batches", "tar")

Split = tuple[np.ndarray, np.ndarray]


class DataError(HwkitError):
    """A dataset file is missing, truncated or not what it claims to be."""

    def __init__(self, path: os.PathLike | str, expected: str, found: str):
        self.path, self.expected, self.found = str(path), expected, found
        super().__init__(f"{path}: expected {expected}, found {found}")


# ----------------------------------------------------------------------------- search

def search_dirs(data_dir: os.PathLike | str | None = None) -> list[Path]:
    """Directories to look in, in order: flag, $HWKIT_DATA_DIR, ~/.keras/datasets."""
    dirs = [data_dir, os.environ.get("HWKIT_DATA_DIR"), Path.home() / ".keras" / "datasets"]
    return [Path(d).expanduser() for d in dirs if d]


def _candidates(data_dir, subfolders: Sequence[str]) -> Iterable[Path]:
    for d in search_dirs(data_dir):
        yield d
        for sub in subfolders:
            yield d / sub


def _offline() -> bool:
    return os.environ.get("HWKIT_OFFLINE", "") not in ("", "0")


def _not_found(name: str, data_dir, formats: Sequence[str], what: str) -> DataError:
    looked = ", ".join(str(d) for d in search_dirs(data_dir)) or "(no directory given)"
    hint = ("; create them with 'python -m hwkit.data export-csv --out DIR'" if tuple(formats) == ("csv",)
            else "; set --data-dir or HWKIT_DATA_DIR")
    return DataError(looked, f"{name} as {what}{hint}", "no such files")


# ----------------------------------------------------------------------------- MNIST

def load_mnist(data_dir=None, formats: Sequence[str] = MNIST_FORMATS) -> tuple[Split, Split]:
    """((x_train, y_train), (x_test, y_test)) with x uint8 (N, 28, 28), y int64 in 0..9."""
    for fmt in formats:
        if fmt not in MNIST_FORMATS:
            raise HwkitError(f"unknown MNIST format {fmt!r}; choose from {', '.join(MNIST_FORMATS)}")
    for d in _candidates(data_dir, ("mnist",)):
        for fmt in formats:
            found = _MNIST_FINDERS[fmt](d)
            if found:
                return _MNIST_READERS[fmt](*found)
    if "npz" in formats and not _offline() and data_dir is None:
        return _keras_download("mnist")
    raise _not_found("MNIST", data_dir, formats,
                     "train/t10k IDX .gz files, mnist.npz or mnist_train.csv + mnist_test.csv")


def _find_idx(d: Path):
    names = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
             "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
    paths = []
    for n in names:
        p = next((d / (n + ext) for ext in (".gz", "") if (d / (n + ext)).is_file()), None)
        if p is None:
            return None
        paths.append(p)
    return (paths,)


def _find_npz(d: Path):
    p = d / "mnist.npz"
    return (p,) if p.is_file() else None


def _find_csv(d: Path):
    tr, te = d / "mnist_train.csv", d / "mnist_test.csv"
    return (tr, te) if tr.is_file() and te.is_file() else None


def _read_idx_mnist(paths: list[Path]) -> tuple[Split, Split]:
    out = []
    for split, (images, labels) in (("train", paths[:2]), ("test", paths[2:])):
        x, y = read_idx(images), read_idx(labels)
        _check_images(x, images, (28, 28), MNIST_COUNTS[split])
        _check_labels(y, labels, MNIST_COUNTS[split], 10)
        out.append((x, y.astype(np.int64)))
    return out[0], out[1]


def read_idx(path: Path) -> np.ndarray:
    """Read one IDX file (optionally gzipped) with its magic number and dimensions checked."""
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as e:
        raise DataError(path, "a readable (gzip) IDX file", f"unreadable data ({e})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DataError(path, "IDX magic 0x0000 08 0D (unsigned bytes)",
                        f"header bytes {raw[:4].hex() or 'none'}")
    ndim = raw[3]
    if ndim not in (1, 3) or len(raw) < 4 + 4 * ndim:
        raise DataError(path, "an IDX file of 1 (labels) or 3 (images) dimensions", f"{ndim} dimensions")
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    size = int(np.prod(shape))
    body = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != size:
        raise DataError(path, f"{size} data bytes for shape {shape}", f"{body.size} bytes (truncated?)")
    return body.reshape(shape)


def _read_npz_mnist(path: Path) -> tuple[Split, Split]:
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in ("x_train", "y_train", "x_test", "y_test")}
    except KeyError as e:
        raise DataError(path, "arrays x_train, y_train, x_test, y_test (Keras layout)", f"no {e}") from None
    except Exception as e:  # zipfile.BadZipFile, ValueError, OSError ...
        raise DataError(path, "a NumPy .npz archive", f"unreadable data ({e})") from None
    out = []
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        _check_images(x, path, (28, 28), MNIST_COUNTS[split], name=f"x_{split}")
        _check_labels(y, path, MNIST_COUNTS[split], 10, name=f"y_{split}")
        out.append((x.astype(np.uint8), y.astype(np.int64)))
    return out[0], out[1]


CSV_CACHE = Path("data") / "mnist-csv"


def load_mnist_csv(data_dir=None) -> tuple[Split, Split]:
    """MNIST from ``mnist_train.csv`` / ``mnist_test.csv``, as the assignments ask.

    Looks in the search order, then in the cache ``data/mnist-csv``; when only another format
    exists (IDX, npz), the CSV files are written there once by the converter, so the task still
    reads the CSV files it is specified to read.
    """
    for d in list(search_dirs(data_dir)) + [CSV_CACHE]:
        for candidate in (d, d / "mnist"):
            found = _find_csv(candidate)
            if found:
                return _read_csv_mnist(*found)
    try:
        (xtr, ytr), (xte, yte) = load_mnist(data_dir, formats=("idx", "npz"))
    except DataError as e:
        raise DataError(e.path, "mnist_train.csv + mnist_test.csv, or MNIST IDX/npz files to write them from "
                        "('python -m hwkit.data export-csv --out DIR' converts any MNIST format)", e.found) from None
    CSV_CACHE.mkdir(parents=True, exist_ok=True)
    print(f"no mnist_train.csv / mnist_test.csv found: writing them to {CSV_CACHE}/ from the MNIST files")
    write_mnist_csv(CSV_CACHE / "mnist_train.csv", xtr, ytr)
    write_mnist_csv(CSV_CACHE / "mnist_test.csv", xte, yte)
    return _read_csv_mnist(CSV_CACHE / "mnist_train.csv", CSV_CACHE / "mnist_test.csv")


def read_mnist_csv(path: Path, expected_count: int | None = None) -> Split:
    """One MNIST CSV file: label then 784 pixel values per row, optional header row."""
    try:
        text = Path(path).read_bytes()
    except OSError as e:
        raise DataError(path, "a readable CSV file", str(e)) from None
    first_newline = text.find(b"\n")
    first = text[: first_newline if first_newline >= 0 else len(text)]
    if first and not first.strip().replace(b",", b"").isdigit():
        text = text[first_newline + 1:] if first_newline >= 0 else b""  # header row
    rows = [r for r in text.replace(b"\r", b"").split(b"\n") if r.strip()]
    if not rows:
        raise DataError(path, "rows of label + 784 pixels", "no data rows")
    widths = {r.count(b",") + 1 for r in rows[:: max(1, len(rows) // 1000)]} | {rows[-1].count(b",") + 1}
    if widths != {785}:
        raise DataError(path, "785 comma-separated values per row (label + 28x28 pixels)",
                        f"rows of {sorted(widths)} values")
    try:
        values = np.array(b",".join(rows).split(b","), dtype=np.int64)
    except ValueError as e:
        raise DataError(path, "integer values", f"non-numeric data ({e})") from None
    if values.size != len(rows) * 785:
        raise DataError(path, f"{len(rows) * 785} values", f"{values.size} (ragged rows)")
    table = values.reshape(len(rows), 785)
    x, y = table[:, 1:], table[:, 0]
    if x.min() < 0 or x.max() > 255:
        raise DataError(path, "pixel values in 0..255", f"range {x.min()}..{x.max()}")
    _check_labels(y, path, expected_count, 10)
    return x.astype(np.uint8).reshape(-1, 28, 28), y


def _read_csv_mnist(train: Path, test: Path) -> tuple[Split, Split]:
    return (read_mnist_csv(train, MNIST_COUNTS["train"]), read_mnist_csv(test, MNIST_COUNTS["test"]))


def write_mnist_csv(path: Path, x: np.ndarray, y: np.ndarray) -> None:
    """Write label + 784 pixels per row with a header, atomically (no half-written file)."""
    table = np.concatenate([y.reshape(-1, 1), x.reshape(len(x), -1)], axis=1).astype(np.int64)
    header = "label," + ",".join(f"{r}x{c}" for r in range(1, 29) for c in range(1, 29))
    tmp = path.with_suffix(".csv.part")
    np.savetxt(tmp, table, fmt="%d", delimiter=",", header=header, comments="")
    tmp.replace(path)


_MNIST_FINDERS = {"idx": _find_idx, "npz": _find_npz, "csv": _find_csv}
_MNIST_READERS = {"idx": _read_idx_mnist, "npz": _read_npz_mnist, "csv": _read_csv_mnist}


# ----------------------------------------------------------------------------- CIFAR-10

def load_cifar10(data_dir=None, formats: Sequence[str] = CIFAR10_FORMATS) -> tuple[Split, Split]:
    """((x_train, y_train), (x_test, y_test)) with x uint8 (N, 32, 32, 3) HWC, y int64 in 0..9."""
    for d in _candidates(data_dir, ("cifar-10-batches-py",)):
        if "batches" in formats and all((d / n).is_file() for n in _CIFAR_FILES):
            return _read_cifar_batches({n: (d / n) for n in _CIFAR_FILES}, opener=None)
        tar = d / "cifar-10-python.tar.gz"
        if "tar" in formats and tar.is_file():
            return _read_cifar_tar(tar)
    if not _offline() and data_dir is None:
        return _keras_download("cifar10")
    raise _not_found("CIFAR-10", data_dir, formats, "cifar-10-batches-py/ or cifar-10-python.tar.gz")


_CIFAR_FILES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch",)


def _read_cifar_tar(tar_path: Path) -> tuple[Split, Split]:
    try:
        with tarfile.open(tar_path, "r:gz") as tar:
            members = {Path(m.name).name: m for m in tar.getmembers() if m.isfile()}
            missing = [n for n in _CIFAR_FILES if n not in members]
            if missing:
                raise DataError(tar_path, f"members {', '.join(_CIFAR_FILES)}", f"missing {', '.join(missing)}")
            blobs = {n: tar.extractfile(members[n]).read() for n in _CIFAR_FILES}
    except (tarfile.TarError, OSError, EOFError) as e:
        raise DataError(tar_path, "a gzip tar archive", f"unreadable data ({e})") from None
    return _read_cifar_batches(blobs, opener=lambda blob: blob, origin=tar_path)


def _read_cifar_batches(sources: dict, opener, origin: Path | None = None) -> tuple[Split, Split]:
    def load(name):
        where = origin / name if origin else sources[name]
        try:
            blob = sources[name].read_bytes() if opener is None else opener(sources[name])
            batch = pickle.loads(blob, encoding="bytes")
            data, labels = batch[b"data"], batch[b"labels"]
        except (OSError, EOFError, pickle.UnpicklingError, KeyError, TypeError, ValueError) as e:
            raise DataError(where, "a CIFAR-10 python batch (dict with data and labels)",
                            f"unreadable data ({type(e).__name__}: {e})") from None
        data, labels = np.asarray(data), np.asarray(labels, dtype=np.int64)
        if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
            raise DataError(where, "uint8 data of shape (N, 3072)", f"{data.dtype} {data.shape}")
        _check_labels(labels, where, data.shape[0], 10)
        # Channel-planar rows (R plane, G plane, B plane) -> NHWC images.
        return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels

    parts = [load(f"data_batch_{i}") for i in range(1, 6)]
    x_train = np.concatenate([p[0] for p in parts])
    y_train = np.concatenate([p[1] for p in parts])
    x_test, y_test = load("test_batch")
    for split, x in (("train", x_train), ("test", x_test)):
        if len(x) != CIFAR10_COUNTS[split]:
            raise DataError(origin or sources["test_batch"].parent, f"{CIFAR10_COUNTS[split]} {split} images",
                            f"{len(x)}")
    return (np.ascontiguousarray(x_train), y_train), (np.ascontiguousarray(x_test), y_test)


# ----------------------------------------------------------------------------- checks

def _check_images(x: np.ndarray, path, shape: tuple, count: int | None, name: str = "images") -> None:
    if x.ndim != 1 + len(shape) or tuple(x.shape[1:]) != shape:
        raise DataError(path, f"{name} of shape (N, {', '.join(map(str, shape))})", f"shape {x.shape}")
    if count is not None and len(x) != count:
        raise DataError(path, f"{count} {name}", f"{len(x)}")
    if x.size and (x.min() < 0 or x.max() > 255):
        raise DataError(path, "pixel values in 0..255", f"range {x.min()}..{x.max()}")


def _check_labels(y: np.ndarray, path, count: int | None, num_classes: int, name: str = "labels") -> None:
    if y.ndim != 1:
        raise DataError(path, f"{name} of shape (N,)", f"shape {y.shape}")
    if count is not None and len(y) != count:
        raise DataError(path, f"{count} {name}", f"{len(y)}")
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise DataError(path, f"{name} in 0..{num_classes - 1}", f"range {y.min()}..{y.max()}")


def _keras_download(name: str) -> tuple[Split, Split]:
    import keras
    try:
        (xtr, ytr), (xte, yte) = getattr(keras.datasets, name).load_data()
    except Exception as e:  # network errors surface as many exception types
        raise DataError(f"keras.datasets.{name}", "a successful download (or set HWKIT_DATA_DIR / HWKIT_OFFLINE=1)",
                        f"{type(e).__name__}: {e}") from None
    return (xtr, ytr.reshape(-1).astype(np.int64)), (xte, yte.reshape(-1).astype(np.int64))


# ----------------------------------------------------------------------------- splits & scaling

def validation_split(x: np.ndarray, y: np.ndarray, fraction: float = 0.1, seed: int = 0):
    """Random, seeded hold-out split of a *training* set: ((x_fit, y_fit), (x_val, y_val)).

    Hyperparameters are chosen and training is stopped on this split, never on the test set.
    """
    idx = np.random.default_rng(seed).permutation(len(x))
    n_val = int(round(len(x) * fraction))
    val, fit = idx[:n_val], idx[n_val:]
    return (x[fit], y[fit]), (x[val], y[val])


def subset(x: np.ndarray, y: np.ndarray, n: int | None, seed: int = 0) -> Split:
    """A seeded random subset of n examples (all of them when n is None or too large)."""
    if n is None or n >= len(x):
        return x, y
    idx = np.sort(np.random.default_rng(seed).choice(len(x), n, replace=False))
    return x[idx], y[idx]


def to_float(x: np.ndarray, channel_axis: bool = True) -> np.ndarray:
    """uint8 images -> float32 in [0, 1], with a trailing channel axis added for grey images."""
    x = x.astype(np.float32) / 255.0
    return x[..., None] if channel_axis and x.ndim == 3 else x


def load_images(loader: Callable[..., tuple[Split, Split]], data_dir=None, *, train_rows: int | None = None,
                test_rows: int | None = None, seed: int = 0, channel_axis: bool = True) -> tuple[Split, Split]:
    """``loader(data_dir)`` (e.g. ``load_mnist``, ``load_mnist_csv``, ``load_cifar10``), then seeded random
    subsets of ``train_rows`` / ``test_rows`` examples (None: all), pixels as float32 in [0, 1].

    The one way a task gets (possibly shrunk) image data; a validation split of the training part
    is ``validation_split``'s job.
    """
    (x_train, y_train), (x_test, y_test) = loader(data_dir)
    x_train, y_train = subset(x_train, y_train, train_rows, seed=seed)
    x_test, y_test = subset(x_test, y_test, test_rows, seed=seed)
    return ((to_float(x_train, channel_axis), y_train), (to_float(x_test, channel_axis), y_test))


def export_csv(out: os.PathLike | str, data_dir=None) -> list[tuple[Path, int]]:
    """Write mnist_train.csv / mnist_test.csv from any MNIST format; returns (path, rows) of each."""
    (xtr, ytr), (xte, yte) = load_mnist(data_dir)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, x, y in (("mnist_train.csv", xtr, ytr), ("mnist_test.csv", xte, yte)):
        write_mnist_csv(out / name, x, y)
        written.append((out / name, len(x)))
    return written


if __name__ == "__main__":  # python -m hwkit.data export-csv: the command line lives in hwkit.cli
    from hwkit.cli import data_main
    sys.exit(data_main())
