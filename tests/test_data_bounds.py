"""hwkit.data reads no more than a file's header or format promises, and refuses values it cannot hold.

Each case is one ``DataError`` naming the file (and the array or line), so the command line prints one
``error:`` line (exit 2); bounded reads are checked with ``tracemalloc``: a refused file costs memory
in proportion to what its format allows, not to what it expands to.
"""
from __future__ import annotations

import errno
import gzip
import io
import pickle
import tarfile
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from hwkit import data
from hwkit.data import DataError

MB = 1 << 20
COUNTS = {"train": 20, "test": 10}


@pytest.fixture
def small_counts(monkeypatch):
    """Loaders expect 20 train / 10 test images: every check is the same whatever the count."""
    for split, n in COUNTS.items():
        monkeypatch.setitem(data.MNIST_COUNTS, split, n)
        monkeypatch.setitem(data.CIFAR10_COUNTS, split, 5 * n if split == "train" else n)


def idx_bytes(shape, body: bytes | None = None) -> bytes:
    """An IDX header for unsigned bytes of ``shape``, then ``body`` (zeros of that shape by default)."""
    header = bytes([0, 0, 0x08, len(shape)]) + b"".join(int(d).to_bytes(4, "big") for d in shape)
    return header + (bytes(int(np.prod(shape, dtype=object))) if body is None else body)


def gzip_file(path: Path, head: bytes, zeros: int = 0) -> Path:
    """``head`` then ``zeros`` zero bytes, gzipped in pieces (a bomb costs its compressed size to make)."""
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(head)
        for _ in range(zeros // MB):
            f.write(bytes(MB))
    return path


def idx_set(folder: Path, counts=COUNTS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", counts["train"]), ("t10k", counts["test"])):
        gzip_file(folder / f"{prefix}-images-idx3-ubyte.gz", idx_bytes((n, 28, 28)))
        labels = (np.arange(n) % 10).astype(np.uint8).tobytes()
        gzip_file(folder / f"{prefix}-labels-idx1-ubyte.gz", idx_bytes((n,), labels))
    return folder


def peak_memory(call) -> tuple[int, str]:
    """Bytes allocated at the peak of ``call()`` (which must raise DataError), and the error."""
    tracemalloc.start()
    try:
        with pytest.raises(DataError) as e:
            call()
        return tracemalloc.get_traced_memory()[1], str(e.value)
    finally:
        tracemalloc.stop()


def one_error_line(capsys, argv) -> str:
    """``python -m hwkit.data argv``: exit 2 and exactly one ``error:`` line, no traceback."""
    from hwkit import cli
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:
        cli.data_main(argv)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert e.value.code == 2 and len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


# ----------------------------------------------------------------------------- IDX headers

def test_idx_dimensions_whose_product_overflows_int64(tmp_path, capsys, small_counts):
    """2**21 * 2**21 * 2**22 = 2**64 wraps to 0 in int64: an empty body looked like the right size."""
    folder = idx_set(tmp_path / "mnist")
    gzip_file(folder / "train-images-idx3-ubyte.gz", idx_bytes((2**21, 2**21, 2**22), b""))
    with pytest.raises(DataError, match=r"train-images.*18446744073709551616 data bytes"):
        data.read_idx(folder / "train-images-idx3-ubyte.gz")
    line = one_error_line(capsys, ["export-csv", "--out", str(tmp_path / "csv"), "--data-dir", str(folder)])
    assert "train-images-idx3-ubyte.gz" in line


def test_idx_uncompressed_size_is_checked_before_reading(tmp_path):
    """A raw IDX file whose length is not header + declared bytes is refused from its size alone."""
    path = tmp_path / "train-labels-idx1-ubyte"
    path.write_bytes(idx_bytes((10,)) + bytes(16 * MB))
    peak, message = peak_memory(lambda: data.read_idx(path))
    assert "train-labels-idx1-ubyte" in message and "16777226 bytes after the header" in message, message
    assert peak < MB, peak
    path.write_bytes(idx_bytes((10,))[:-3])
    with pytest.raises(DataError, match="7 bytes after the header.*truncated"):
        data.read_idx(path)


def test_gzip_bomb_after_a_valid_header_stops_at_the_declared_size(tmp_path):
    """10 labels declared, 32 MB of zeros behind them (32 kB gzipped): the read stops after 11 bytes."""
    path = gzip_file(tmp_path / "t10k-labels-idx1-ubyte.gz", idx_bytes((10,)), zeros=32 * MB)
    assert path.stat().st_size < MB
    peak, message = peak_memory(lambda: data.read_idx(path))
    assert "t10k-labels-idx1-ubyte.gz" in message and "more than the 10 data bytes" in message, message
    assert peak < 2 * MB, peak


def test_gzip_header_that_declares_more_than_the_file_can_hold(tmp_path, capsys, small_counts):
    """A header declaring 2**31 images (1.7 TB) is refused before its body is read: deflate expands
    at most ~1032x, and the loader knows how many images MNIST has."""
    path = gzip_file(tmp_path / "train-images-idx3-ubyte.gz", idx_bytes((2**31 - 1, 28, 28), b""), zeros=32 * MB)
    peak, message = peak_memory(lambda: data.read_idx(path))
    assert "train-images-idx3-ubyte.gz" in message and "more than a gzip file" in message, message
    assert peak < 2 * MB, peak
    folder = idx_set(tmp_path / "mnist")
    path.replace(folder / path.name)
    peak, message = peak_memory(lambda: data.load_mnist(folder, formats=("idx",)))
    assert "20 images" in message and str(2**31 - 1) in message, message
    assert peak < 2 * MB, peak
    assert "train-images" in one_error_line(capsys, ["export-csv", "--out", str(tmp_path / "c"), "--data-dir",
                                                     str(folder)])


def test_real_idx_files_load_as_before(data_dir):
    x = data.read_idx(data_dir / "mnist" / "t10k-images-idx3-ubyte.gz")
    raw = gzip.decompress((data_dir / "mnist" / "t10k-images-idx3-ubyte.gz").read_bytes())
    assert x.shape == (10000, 28, 28) and x.dtype == np.uint8 and x.tobytes() == raw[16:]


# ----------------------------------------------------------------------------- mnist.npz

def save_npz(folder: Path, compressed=False, **arrays) -> Path:
    rng = np.random.default_rng(0)
    layout = {"x_train": rng.integers(0, 256, (COUNTS["train"], 28, 28), dtype=np.uint8),
              "y_train": np.arange(COUNTS["train"]) % 10,
              "x_test": rng.integers(0, 256, (COUNTS["test"], 28, 28), dtype=np.uint8),
              "y_test": np.arange(COUNTS["test"]) % 10}
    layout.update(arrays)
    (np.savez_compressed if compressed else np.savez)(folder / "mnist.npz", **layout)
    return folder


def labels(*values, n=COUNTS["train"], dtype=np.float64):
    y = (np.arange(n) % 10).astype(dtype)
    y[3:3 + len(values)] = values
    return y


def pixels(value, dtype=np.float64, n=COUNTS["train"]):
    x = np.zeros((n, 28, 28), dtype)
    x[1, 2, 3] = value
    return x


@pytest.mark.parametrize("name, array, match", [
    ("y_train", labels(np.nan), r"y_train.*integer labels in 0\.\.9.*NaN at index 3"),
    ("y_train", labels(2.5), r"y_train.*integer labels.*2\.5"),
    ("y_train", np.array([b"1"] * COUNTS["train"]), r"y_train.*numeric.*dtype \|S1"),
    ("y_test", np.array(["1"] * COUNTS["test"]), r"y_test.*numeric.*dtype <U1"),
    ("y_train", labels(dtype=np.complex128), r"y_train.*numeric.*complex128"),
    ("y_train", labels(-1, dtype=np.int64), r"y_train.*labels in 0\.\.9.*-1"),
    ("x_train", pixels(np.nan), r"x_train.*integer pixel values.*NaN at index \(1, 2, 3\)"),
    ("x_train", pixels(np.inf, np.float32), r"x_train.*integer pixel values.*inf"),
    ("x_train", pixels(0.5), r"x_train.*integer pixel values.*0\.5"),
    ("x_test", pixels(1j, np.complex64, n=COUNTS["test"]), r"x_test.*numeric.*complex64"),
    ("x_train", pixels(300, np.int64), r"x_train.*pixel values in 0\.\.255.*300"),
], ids=["nan-label", "fractional-label", "bytes-labels", "str-labels", "complex-labels", "negative-label",
        "nan-pixel", "inf-pixel", "fractional-pixel", "complex-pixels", "pixel-300"])
def test_npz_arrays_of_the_wrong_kind_are_refused(tmp_path, small_counts, name, array, match):
    save_npz(tmp_path, **{name: array})
    with pytest.raises(DataError, match=r"mnist\.npz.*" + match):
        data.load_mnist(tmp_path, formats=("npz",))


def test_npz_integral_float_labels_and_pixels_are_accepted(tmp_path, small_counts):
    y = labels(dtype=np.float32)
    x = pixels(255.0, np.float32)
    save_npz(tmp_path, x_train=x, y_train=y)
    (xtr, ytr), _ = data.load_mnist(tmp_path, formats=("npz",))
    assert xtr.dtype == np.uint8 and xtr[1, 2, 3] == 255 and ytr.dtype == np.int64
    assert ytr.tolist() == (np.arange(COUNTS["train"]) % 10).tolist()


def test_npz_one_error_line(tmp_path, capsys, small_counts):
    save_npz(tmp_path, y_train=labels(np.nan))
    line = one_error_line(capsys, ["export-csv", "--out", str(tmp_path / "csv"), "--data-dir", str(tmp_path)])
    assert "mnist.npz" in line and "y_train" in line and "NaN" in line, line
    assert not (tmp_path / "csv" / "mnist_train.csv").exists()


def test_npz_declared_shape_is_checked_before_the_array_is_read(tmp_path, small_counts):
    """A compressed member declaring 40 000 images (31 MB of zeros, 30 kB stored) when 20 are expected."""
    save_npz(tmp_path, compressed=True, x_train=np.zeros((40000, 28, 28), np.uint8))
    assert (tmp_path / "mnist.npz").stat().st_size < MB
    peak, message = peak_memory(lambda: data.load_mnist(tmp_path, formats=("npz",)))
    assert "mnist.npz" in message and "20 x_train" in message and "40000" in message, message
    assert peak < 2 * MB, peak


# ----------------------------------------------------------------------------- CSV

ROW = "5," + ",".join(["0"] * 784)


def test_csv_cell_too_large_for_an_integer(tmp_path, capsys):
    for cell in ("99999999999999999999999", str(2**63), "9" * 5000):    # 5000 digits: beyond int()'s own limit
        bad = "5,0," + cell + ",0" * 782
        (tmp_path / "m.csv").write_text(ROW + "\n" + bad + "\n")
        with pytest.raises(DataError, match=rf"m\.csv.*{cell[:30]}.* on line 2, column 3 \(too large for an integer"):
            data.read_mnist_csv(tmp_path / "m.csv")
    (tmp_path / "m.csv").write_text(ROW.replace(",0", "," + str(2**63 - 1), 1) + "\n")
    with pytest.raises(DataError, match=r"pixel values in 0\.\.255.*9223372036854775807 on line 1, column 2"):
        data.read_mnist_csv(tmp_path / "m.csv")                       # fits int64: a pixel out of range
    bad = "5,0," + "99999999999999999999999" + ",0" * 782
    for name in ("mnist_train.csv", "mnist_test.csv"):
        (tmp_path / name).write_text(ROW + "\n" + bad + "\n")
    line = one_error_line(capsys, ["export-csv", "--out", str(tmp_path / "out"), "--data-dir", str(tmp_path)])
    assert "mnist_train.csv" in line and "line 2" in line, line


def test_csv_read_is_bounded_in_memory(tmp_path):
    """4000 rows (6.3 MB): the values are parsed a block of rows at a time, never all at once."""
    path = tmp_path / "m.csv"
    path.write_text((ROW + "\n") * 4000)
    tracemalloc.start()
    try:
        x, y = data.read_mnist_csv(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert x.shape == (4000, 28, 28) and y.tolist() == [5] * 4000
    assert peak < 2 * path.stat().st_size, (peak, path.stat().st_size)


def test_csv_larger_than_its_row_count_allows_is_refused_before_reading(tmp_path, small_counts):
    """20 rows of 785 values of at most 3 digits cannot take 16 MB."""
    for name in ("mnist_train.csv", "mnist_test.csv"):
        (tmp_path / name).write_text((ROW + "\n") * COUNTS["test"])
    (tmp_path / "mnist_train.csv").write_text((ROW + "\n") * 10000)
    peak, message = peak_memory(lambda: data.load_mnist(tmp_path, formats=("csv",)))
    assert "mnist_train.csv" in message and "20 rows" in message, message
    assert peak < MB, peak


def test_csv_with_more_rows_than_expected_stops_reading(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text((ROW + "\n") * 100)              # within the size 30 rows may take (with spacing)
    with pytest.raises(DataError, match=r"m\.csv.*30 labels.*more than 30 rows \(line 31\)"):
        data.read_mnist_csv(path, expected_count=30)


def test_csv_line_longer_than_a_row_can_be(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text(ROW + "\n" + "5," + "0" * (8 * MB) + "\n")
    peak, message = peak_memory(lambda: data.read_mnist_csv(path))
    assert "m.csv" in message and "line 2" in message and "longer than" in message, message
    assert peak < 2 * MB, peak


# ----------------------------------------------------------------------------- CIFAR-10

def test_cifar_tar_member_larger_than_a_batch_is_refused_before_reading(tmp_path, small_counts):
    """A 32 MB member (30 kB gzipped) where a batch of 100 images takes ~0.3 MB."""
    with tarfile.open(tmp_path / "cifar-10-python.tar.gz", "w:gz", compresslevel=1) as tar:
        info = tarfile.TarInfo("cifar-10-batches-py/data_batch_1")
        info.size = 32 * MB
        tar.addfile(info, io.BytesIO(bytes(info.size)))
    peak, message = peak_memory(lambda: data.load_cifar10(tmp_path, formats=("tar",)))
    assert "data_batch_1" in message and "33554432 bytes" in message, message
    assert peak < 2 * MB, peak


def test_cifar_fractional_labels_are_not_truncated(tmp_path, small_counts):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        n = data.CIFAR10_COUNTS["train"] // 5 if name != "test_batch" else data.CIFAR10_COUNTS["test"]
        batch = {b"data": np.zeros((n, 3072), np.uint8), b"labels": [i % 10 for i in range(n)]}
        (folder / name).write_bytes(pickle.dumps(batch))
    batch[b"labels"][4] = 2.5
    (folder / "test_batch").write_bytes(pickle.dumps(batch))
    with pytest.raises(DataError, match=r"test_batch.*integer labels.*2\.5"):
        data.load_cifar10(tmp_path)


# ----------------------------------------------------------------------------- export-csv, disk full

def test_export_csv_onto_a_full_disk_leaves_no_part_and_names_the_path(tmp_path, capsys, small_counts, monkeypatch):
    folder = idx_set(tmp_path / "mnist")
    real_savetxt = np.savetxt

    def savetxt(fname, *a, **k):
        Path(fname).write_bytes(b"label,1x1")                   # half a file, as a full disk leaves
        raise OSError(errno.ENOSPC, "No space left on device")  # a failed write() names no file
    monkeypatch.setattr(np, "savetxt", savetxt)
    out = tmp_path / "csv"
    line = one_error_line(capsys, ["export-csv", "--out", str(out), "--data-dir", str(folder)])
    assert str(out / "mnist_train.csv") in line and "No space left on device" in line, line
    assert list(out.iterdir()) == []
    monkeypatch.setattr(np, "savetxt", real_savetxt)
    from hwkit import cli
    assert cli.data_main(["export-csv", "--out", str(out), "--data-dir", str(folder)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["mnist_test.csv", "mnist_train.csv"]
