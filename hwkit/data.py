"""Offline dataset loaders: MNIST (IDX .gz, mnist.npz, CSV) and CIFAR-10 (python batches, tar.gz).

Search order for a dataset: the ``--data-dir`` flag, then ``$HWKIT_DATA_DIR``, then
``~/.keras/datasets``; each directory is tried as given and with a ``mnist/`` or
``cifar-10-batches-py/`` sub-folder. Keras' own download is the last resort unless
``HWKIT_OFFLINE=1``. Every file is validated (magic numbers, shapes, counts, label and pixel
ranges; numeric dtypes, finite whole numbers); anything wrong raises one ``DataError`` naming the
path, what was expected and what was found. Reads are bounded by what a file's header or format
promises: IDX dimensions are multiplied exactly and checked against the file before anything is
allocated, no more than the declared bytes are decompressed, ``.npz`` and tar members are checked
from their headers before they are read, and CSV files are streamed a block of rows at a time.

Images are returned as uint8 arrays (MNIST ``(N, 28, 28)``, CIFAR-10 ``(N, 32, 32, 3)``) and
labels as int64 ``(N,)``; scaling to floats is the caller's choice.

Loading never executes code from a data file: CIFAR-10 pickles go through a restricted
unpickler (dicts, lists, bytes/str, ints and NumPy array reconstruction only), ``.npz`` files are
read with ``allow_pickle=False``. Every file read is recorded with its SHA-256 (``files_read()``),
and the run directory records that list as ``data_files``.

Command line: ``python -m hwkit.data export-csv --out DIR`` writes ``mnist_train.csv`` and
``mnist_test.csv`` (label then 784 pixels, with a header) for the assignments that ask for CSV.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import itertools
import json
import math
import os
import pickle
import sys
import tarfile
import zipfile
import zlib
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from hwkit import HwkitError
from hwkit.files import atomic_file

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


# ----------------------------------------------------------------------------- provenance

_FILES_READ: dict[str, str] = {}                 # resolved path -> SHA-256, in the order read
_HASH_CACHE: dict[tuple, str] = {}               # (path, size, mtime_ns) -> SHA-256


def _sha256(path: Path) -> str:
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _HASH_CACHE:
        h = hashlib.sha256()
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        _HASH_CACHE[key] = h.hexdigest()
    return _HASH_CACHE[key]


def _record(path: os.PathLike | str) -> None:
    path = Path(path).resolve()
    try:
        _FILES_READ[str(path)] = _sha256(path)
    except OSError:  # pragma: no cover - the reader has just read it
        pass


def files_read() -> list[dict]:
    """Every data file read since the last ``reset_files_read()``: ``[{"path", "sha256"}, ...]``."""
    return [{"path": p, "sha256": h} for p, h in _FILES_READ.items()]


def reset_files_read() -> None:
    """Start a new record (each run directory records the files its own task read)."""
    _FILES_READ.clear()


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
        count = MNIST_COUNTS[split]
        # The header's shape is checked before its body is read: a header is a promise, not a size to allocate.
        x = read_idx(images, lambda shape: _check_shape(shape, images, (28, 28), count, "images"))
        y = read_idx(labels, lambda shape: _check_shape(shape, labels, (), count, "labels"))
        _check_images(x, images, (28, 28), count)
        _check_labels(y, labels, count, 10)
        out.append((x, y.astype(np.int64)))
    return out[0], out[1]


GZIP_MAX_RATIO = 1032   # deflate expands at most ~1032:1, so a gzip of n bytes holds at most 1032 n


def read_idx(path: Path, check_shape: Callable[[tuple], None] | None = None) -> np.ndarray:
    """Read one IDX file (optionally gzipped) with its magic number and dimensions checked.

    The read is bounded by the header: the dimensions are multiplied exactly (no int64 overflow),
    ``check_shape(shape)`` may refuse them, a size no file of this length can hold is refused before
    anything is allocated, and no more than the declared bytes are decompressed (a gzip bomb behind
    a valid header stops there).
    """
    path = Path(path)
    compressed = path.suffix == ".gz"
    expected = "an IDX file"
    try:
        with (gzip.open if compressed else open)(path, "rb") as f:
            head = f.read(4)
            if len(head) < 4 or head[:3] != b"\x00\x00\x08":
                raise DataError(path, "IDX magic 0x0000 08 0D (unsigned bytes)", f"header bytes {head.hex() or 'none'}")
            ndim = head[3]
            dims = f.read(4 * ndim)
            if ndim not in (1, 3) or len(dims) < 4 * ndim:
                raise DataError(path, "an IDX file of 1 (labels) or 3 (images) dimensions", f"{ndim} dimensions")
            shape = tuple(int.from_bytes(dims[i:i + 4], "big") for i in range(0, 4 * ndim, 4))
            size = math.prod(shape)                 # Python ints: exact, whatever the header says
            expected = f"{size} data bytes for shape {shape}"
            if check_shape:
                check_shape(shape)
            _check_idx_size(path, size, expected, 4 + 4 * ndim, compressed)
            body = np.empty(size, dtype=np.uint8)
            got = f.readinto(memoryview(body))
            if got < size:
                raise DataError(path, expected, f"{got} bytes after the header (truncated?)")
            if f.read(1):
                raise DataError(path, expected, f"more than the {size} data bytes the header declares")
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(path, "a readable (gzip) IDX file", f"unreadable data ({type(e).__name__}: {e})") from None
    except MemoryError:
        raise DataError(path, expected, "more than this machine can allocate") from None
    _record(path)
    return body.reshape(shape)


def _check_idx_size(path: Path, size: int, expected: str, header: int, compressed: bool) -> None:
    """Refuse a declared size the file cannot hold, before allocating it."""
    on_disk = path.stat().st_size
    if not compressed and on_disk - header != size:
        more = " (more than declared)" if on_disk - header > size else " (truncated?)"
        raise DataError(path, expected, f"{on_disk - header} bytes after the header{more}")
    if compressed and size > GZIP_MAX_RATIO * on_disk:
        raise DataError(path, expected, f"more than a gzip file of {on_disk} bytes can hold "
                                        f"(at most {GZIP_MAX_RATIO * on_disk} bytes)")
    memory = _physical_memory()
    if memory and size > memory:
        raise DataError(path, expected, f"more than this machine's {memory} bytes of memory")


def _physical_memory() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not POSIX: allocation failures are still caught
        return None


NPZ_ARRAYS = ("x_train", "y_train", "x_test", "y_test")


def _read_npz_mnist(path: Path) -> tuple[Split, Split]:
    """mnist.npz (Keras layout), each array's header (dtype, shape) checked before its data is read."""
    expect = {f"{xy}_{split}": ((28, 28) if xy == "x" else (), MNIST_COUNTS[split])
              for split in ("train", "test") for xy in ("x", "y")}
    arrays = {}
    try:
        with zipfile.ZipFile(path) as archive:
            members = {name.removesuffix(".npy"): name for name in archive.namelist()}
            missing = [k for k in NPZ_ARRAYS if k not in members]
            if missing:
                raise DataError(path, "arrays x_train, y_train, x_test, y_test (Keras layout)", f"no {missing[0]!r}")
            for key in NPZ_ARRAYS:
                with archive.open(members[key]) as f:
                    _check_npy_header(f, path, key, *expect[key])
                with archive.open(members[key]) as f:
                    arrays[key] = np.lib.format.read_array(f, allow_pickle=False)
    except DataError:
        raise
    except Exception as e:  # zipfile.BadZipFile, ValueError (pickled objects refused), OSError, zlib.error ...
        raise DataError(path, "a NumPy .npz archive of plain arrays", f"unreadable data ({e})") from None
    _record(path)
    out = []
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        _check_images(x, path, (28, 28), MNIST_COUNTS[split], name=f"x_{split}")
        _check_labels(y, path, MNIST_COUNTS[split], 10, name=f"y_{split}")
        out.append((x.astype(np.uint8), y.astype(np.int64)))
    return out[0], out[1]


def _check_npy_header(f, path: Path, name: str, item_shape: tuple, count: int) -> None:
    """What an .npy member promises (dtype, shape), checked before its data is allocated and read."""
    version = np.lib.format.read_magic(f)
    read_header = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    if version not in read_header:
        raise DataError(path, f"{name} as an .npy array of format 1.0 or 2.0", f"format {version}")
    shape, _, dtype = read_header[version](f)
    if dtype.hasobject:
        raise DataError(path, "a NumPy .npz archive of plain arrays",
                        f"{name} of dtype {dtype} (pickled Python objects are refused: loading data never runs code)")
    _check_shape(shape, path, item_shape, count, name)
    what = "pixel values" if item_shape else "labels"
    _check_values(np.empty(0, dtype), path, name, what, 255 if item_shape else 9)    # the dtype alone


CSV_CACHE = Path("data") / "mnist-csv"
CACHE_MANIFEST = "manifest.json"


def _manifest(paths: Sequence[Path]) -> list[dict]:
    """What a cache was made from: path, size and modification time of each source file."""
    out = []
    for p in paths:
        st = Path(p).stat()
        out.append({"path": str(Path(p).resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns})
    return out


def load_mnist_csv(data_dir=None) -> tuple[Split, Split]:
    """MNIST from ``mnist_train.csv`` / ``mnist_test.csv``, as the assignments ask.

    Directories are tried in the search order; in each, the CSV files are used if present, else
    the first other MNIST format found there (IDX, npz) is converted once into the cache
    ``data/mnist-csv``. The cache is used only for the very files it was made from (its
    ``manifest.json`` lists their paths, sizes and modification times), so ``--data-dir`` always
    decides what is read.
    """
    for d in search_dirs(data_dir):
        for candidate in (d, d / "mnist"):
            found = _find_csv(candidate)
            if found:
                return _read_csv_mnist(*found)
            for fmt in ("idx", "npz"):
                source = _MNIST_FINDERS[fmt](candidate)
                if source:
                    files = source[0] if fmt == "idx" else [source[0]]
                    return _cached_csv(fmt, source, files)
    if not _offline() and data_dir is None:
        return _cached_csv("download", (), [])
    looked = ", ".join(str(d) for d in search_dirs(data_dir)) or "(no directory given)"
    raise DataError(looked, "mnist_train.csv + mnist_test.csv, or MNIST IDX/npz files to write them from "
                    "('python -m hwkit.data export-csv --out DIR' converts any MNIST format)", "no such files")


def _cached_csv(fmt: str, source: tuple, files: Sequence[Path]) -> tuple[Split, Split]:
    manifest = _manifest(files) if files else [{"path": "keras.datasets.mnist (download)"}]
    train, test, made_from = CSV_CACHE / "mnist_train.csv", CSV_CACHE / "mnist_test.csv", CSV_CACHE / CACHE_MANIFEST
    try:
        cached = json.loads(made_from.read_text()) if train.is_file() and test.is_file() else None
    except (OSError, ValueError):
        cached = None
    if cached == manifest:
        return _read_csv_mnist(train, test)
    (xtr, ytr), (xte, yte) = _MNIST_READERS[fmt](*source) if files else _keras_download("mnist")
    print(f"writing mnist_train.csv / mnist_test.csv to {CSV_CACHE}/ from {manifest[0]['path']}")
    try:
        CSV_CACHE.mkdir(parents=True, exist_ok=True)
        made_from.unlink(missing_ok=True)          # a half-rewritten cache is never taken as valid
        write_mnist_csv(train, xtr, ytr)
        write_mnist_csv(test, xte, yte)
        with atomic_file(made_from) as tmp:
            tmp.write_text(json.dumps(manifest, indent=1))
    except OSError as e:
        raise DataError(CSV_CACHE, "a writable cache folder for the CSV files", f"{e.strerror or e}") from None
    return _read_csv_mnist(train, test)


def _is_int(cell: bytes) -> bool:
    cell = cell.strip()
    return (cell[1:] if cell[:1] in (b"+", b"-") else cell).isdigit()


CSV_WIDTH = 785                  # label + 28 x 28 pixels
CSV_CELL_BYTES = 5              # at most 3 digits, a sign or a space, and the comma
CSV_LINE_BYTES = 64 * 1024      # the longest line read: a header of 785 names, or a row with some spacing
CSV_BLOCK_ROWS = 256            # rows parsed at a time: memory stays ~ the uint8 result, not ~10x the text


def read_mnist_csv(path: Path, expected_count: int | None = None) -> Split:
    """One MNIST CSV file: label then 784 pixel values per row, optional header row.

    Every row is checked for its width and every value for being an integer in range. The first
    line is a header only when none of its cells is a number, so a first data row with one bad
    cell is reported, not skipped.

    The file is streamed a block of rows at a time. With ``expected_count``, a file larger than that
    many rows can take is refused before it is read, and reading stops at the first extra row.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        f = path.open("rb")
    except OSError as e:
        raise DataError(path, "a readable CSV file", str(e)) from None
    if expected_count is not None and size > CSV_LINE_BYTES + expected_count * CSV_WIDTH * CSV_CELL_BYTES:
        raise DataError(path, f"at most {CSV_LINE_BYTES + expected_count * CSV_WIDTH * CSV_CELL_BYTES} bytes for "
                        f"{expected_count} rows of label + 784 values of at most 3 digits", f"{size} bytes")
    xs, ys, block = [], [], []
    bad_width, bad_rows, rows = None, 0, 0
    with f:
        for number, line in _csv_lines(f, path):
            if not line.strip():
                continue
            if number == 1 and not any(_is_int(c) for c in line.split(b",")):
                continue                                        # header row
            rows += 1
            if expected_count is not None and rows > expected_count:
                raise DataError(path, f"{expected_count} labels",
                                f"more than {expected_count} rows (line {number}); stopped reading there")
            width = line.count(b",") + 1
            if width != CSV_WIDTH:
                bad_rows += 1
                bad_width = bad_width or (number, width)
            elif bad_width is None:                             # after a bad row, only the widths are counted
                block.append((number, line))
                if len(block) == CSV_BLOCK_ROWS:
                    _parse_csv_block(block, path, xs, ys)
                    block = []
    if bad_width:
        raise DataError(path, "785 comma-separated values per row (label + 28x28 pixels)",
                        f"{bad_width[1]} values on line {bad_width[0]} ({bad_rows} bad rows)")
    _parse_csv_block(block, path, xs, ys)
    if not rows:
        raise DataError(path, "rows of label + 784 pixels", "no data rows")
    y = np.concatenate(ys)
    _check_labels(y, path, expected_count, 10)
    _record(path)
    return np.concatenate(xs).reshape(-1, 28, 28), y


def _csv_lines(f, path: Path) -> Iterable[tuple[int, bytes]]:
    """(line number, line without its line break), each line read with a bounded length."""
    for number in itertools.count(1):
        line = f.readline(CSV_LINE_BYTES + 1)
        if not line:
            return
        if len(line) > CSV_LINE_BYTES:
            raise DataError(path, f"lines of at most {CSV_LINE_BYTES} bytes (label + 784 values)",
                            f"line {number} longer than that")
        yield number, line.replace(b"\r", b"").rstrip(b"\n")


def _parse_csv_block(block: list[tuple[int, bytes]], path: Path, xs: list, ys: list) -> None:
    """Rows of 785 cells -> uint8 pixels appended to xs, int64 labels to ys; the first bad cell is named."""
    if not block:
        return
    try:   # NumPy's C parser: strict integers (no floats, no '1_000'), an int64 overflow is a ValueError
        table = np.loadtxt([r for _, r in block], delimiter=",", dtype=np.int64, comments=None, ndmin=2)
    except ValueError:
        for number, row in block:
            for col, cell in enumerate(row.split(b",")):
                problem = ("not an integer" if not _is_int(cell) else
                           "too large for an integer" if _beyond_int64(cell) else "")
                if problem:
                    raise DataError(path, "integer values",
                                    f"{cell[:30]!r} on line {number}, column {col + 1} ({problem})") from None
        raise DataError(path, "integer values", f"non-numeric data on lines {block[0][0]}..{block[-1][0]}") from None
    x = table[:, 1:]
    out_of_range = (x < 0) | (x > 255)
    if out_of_range.any():
        row, col = (int(i[0]) for i in np.nonzero(out_of_range))
        raise DataError(path, "pixel values in 0..255", f"{x[row, col]} on line {block[row][0]}, column {col + 2}")
    xs.append(x.astype(np.uint8))
    ys.append(table[:, 0].copy())          # a copy: a view would keep the whole int64 table alive


def _beyond_int64(cell: bytes) -> bool:
    """An integer cell int64 cannot hold (its digits are counted first: int() of 5000 digits is refused)."""
    digits = cell.strip().lstrip(b"+-").lstrip(b"0")
    return len(digits) > 19 or (len(digits) == 19 and int(digits) >= 2**63)


def _read_csv_mnist(train: Path, test: Path) -> tuple[Split, Split]:
    return (read_mnist_csv(train, MNIST_COUNTS["train"]), read_mnist_csv(test, MNIST_COUNTS["test"]))


def write_mnist_csv(path: Path, x: np.ndarray, y: np.ndarray) -> None:
    """Write label + 784 pixels per row with a header, atomically (no half-written file)."""
    table = np.concatenate([y.reshape(-1, 1), x.reshape(len(x), -1)], axis=1).astype(np.int64)
    header = "label," + ",".join(f"{r}x{c}" for r in range(1, 29) for c in range(1, 29))
    try:
        with atomic_file(path, path.with_suffix(".csv.part")) as tmp:   # a full disk leaves no half-written .part
            np.savetxt(tmp, table, fmt="%d", delimiter=",", header=header, comments="")
    except OSError as e:
        # A failed write() names no file: say which one could not be written.
        raise OSError(e.errno, e.strerror or str(e), str(path)) from None


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


def _cifar_batch_limit() -> int:
    """The most bytes a CIFAR-10 batch pickle can take: every training image in one batch (3072 bytes each)
    with room for its label and file name, plus the pickle's own framing. The real batches are ~31 MB."""
    return CIFAR10_COUNTS["train"] * (3072 + 256) + (1 << 20)


def _read_cifar_tar(tar_path: Path) -> tuple[Split, Split]:
    limit = _cifar_batch_limit()
    blobs = {}
    try:
        with tarfile.open(tar_path, "r:gz") as tar:
            for member in tar:          # one pass; each member's size is its tar header's promise, checked first
                name = Path(member.name).name
                if not member.isfile() or name not in _CIFAR_FILES or name in blobs:
                    continue
                if member.size > limit:
                    raise DataError(tar_path / name, f"a CIFAR-10 batch of at most {limit} bytes",
                                    f"{member.size} bytes (refused before decompressing)")
                blobs[name] = tar.extractfile(member).read()
                if len(blobs) == len(_CIFAR_FILES):
                    break
    except (tarfile.TarError, OSError, EOFError, zlib.error) as e:
        raise DataError(tar_path, "a gzip tar archive", f"unreadable data ({e})") from None
    missing = [n for n in _CIFAR_FILES if n not in blobs]
    if missing:
        raise DataError(tar_path, f"members {', '.join(_CIFAR_FILES)}", f"missing {', '.join(missing)}")
    result = _read_cifar_batches(blobs, opener=lambda blob: blob, origin=tar_path)
    _record(tar_path)
    return result


class _CifarUnpickler(pickle.Unpickler):
    """Unpickles what a CIFAR-10 batch holds and nothing else: never imports or calls arbitrary code.

    Dicts, lists, tuples, bytes, str and ints are pickle opcodes that need no lookup; the only
    globals allowed are NumPy's array reconstruction functions, ``ndarray`` and ``dtype``.
    """

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
               ("numpy", "ndarray"), ("numpy", "dtype")}

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise _Refused(f"{module}.{name}")
        return super().find_class(module, name)


class _Refused(Exception):
    """A pickle asked for a global outside the CIFAR-10 format."""


def safe_unpickle(blob: bytes):
    """Load a CIFAR-style pickle (Python 2 byte strings kept as bytes) with the restricted unpickler."""
    return _CifarUnpickler(io.BytesIO(blob), encoding="bytes").load()


def _read_cifar_batches(sources: dict, opener, origin: Path | None = None) -> tuple[Split, Split]:
    def load(name):
        where = origin / name if origin else sources[name]
        try:
            if opener is None and (size := sources[name].stat().st_size) > _cifar_batch_limit():
                raise DataError(where, f"a CIFAR-10 batch of at most {_cifar_batch_limit()} bytes", f"{size} bytes")
            blob = sources[name].read_bytes() if opener is None else opener(sources[name])
        except OSError as e:
            raise DataError(where, "a readable file", f"{e.strerror or e}") from None
        try:
            batch = safe_unpickle(blob)
            data, labels = batch[b"data"], batch[b"labels"]
            data, labels = np.asarray(data), np.asarray(labels)  # integer labels are checked, not cast
        except _Refused as e:
            raise DataError(where, "a CIFAR-10 python batch (dicts, lists, bytes, ints, NumPy arrays only)",
                            f"a pickle that asks for {e} (refused: loading data never runs code)") from None
        except Exception as e:  # random bytes: UnpicklingError, EOFError, OverflowError, MemoryError, KeyError ...
            raise DataError(where, "a CIFAR-10 python batch (dict with data and labels)",
                            f"unreadable data ({type(e).__name__}: {str(e)[:120]})") from None
        if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
            raise DataError(where, "uint8 data of shape (N, 3072)", f"{data.dtype} {data.shape}")
        _check_labels(labels, where, data.shape[0], 10)
        if opener is None:
            _record(where)
        # Channel-planar rows (R plane, G plane, B plane) -> NHWC images.
        return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels.astype(np.int64)

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

def _check_shape(shape: tuple, path, item_shape: tuple, count: int | None, name: str) -> None:
    if len(shape) != 1 + len(item_shape) or tuple(shape[1:]) != item_shape:
        items = "".join(f", {d}" for d in item_shape) or ","
        raise DataError(path, f"{name} of shape (N{items})", f"shape {tuple(shape)}")
    if count is not None and shape[0] != count:
        raise DataError(path, f"{count} {name}", f"{shape[0]}")


def _check_values(a: np.ndarray, path, name: str, what: str, high: int) -> None:
    """Numeric dtype, and for floats finite whole numbers: what a cast to integers keeps unchanged.

    ``what`` is "pixel values" or "labels"; arrays with their own name (``x_train``) are named in
    the message, so a file holding several arrays says which one is wrong.
    """
    prefix = "" if name in ("images", "labels") else f"{name}: "
    if a.dtype.kind not in "uif":                # bytes, str, objects, complex, bool, dates: refused
        raise DataError(path, f"{prefix}{what} of a numeric dtype (integers or floats)", f"dtype {a.dtype}")
    if a.dtype.kind == "f" and a.size:
        bad = ~np.isfinite(a) | (a != np.floor(a))     # NaN, inf, or 2.5 that a cast would truncate to 2
        if bad.any():
            first, n = int(np.flatnonzero(bad)[0]), int(bad.sum())
            value = a.flat[first]
            where = np.unravel_index(first, a.shape)
            index = int(where[0]) if a.ndim == 1 else tuple(int(i) for i in where)
            more = f" and {n - 1} more" if n > 1 else ""
            raise DataError(path, f"{prefix}integer {what} in 0..{high}",
                            f"{'NaN' if np.isnan(value) else value} at index {index}{more}")
    if a.size and (a.min() < 0 or a.max() > high):
        raise DataError(path, f"{prefix}{what} in 0..{high}", f"range {a.min()}..{a.max()}")


def _check_images(x: np.ndarray, path, shape: tuple, count: int | None, name: str = "images") -> None:
    _check_shape(x.shape, path, shape, count, name)
    _check_values(x, path, name, "pixel values", 255)


def _check_labels(y: np.ndarray, path, count: int | None, num_classes: int, name: str = "labels") -> None:
    _check_shape(y.shape, path, (), count, name)
    _check_values(y, path, name, "labels", num_classes - 1)


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
