"""hwkit.data: every accepted format, the search order, and clear errors on bad files."""
from __future__ import annotations

import gzip
import pickle
import shutil
import tarfile

import numpy as np
import pytest

from hwkit import data
from hwkit.data import DataError


@pytest.fixture(scope="module")
def mnist(data_dir):
    return data.load_mnist(data_dir, formats=("idx",))


TINY = {"train": 120, "test": 30}   # dataset sizes a test sets with the ``tiny_counts`` fixture


@pytest.fixture
def tiny_counts(monkeypatch):
    """Loaders expect TINY-sized MNIST and CIFAR-10 splits: tests of mechanics need no 70 000-image files."""
    for split, n in TINY.items():
        monkeypatch.setitem(data.MNIST_COUNTS, split, n)
        monkeypatch.setitem(data.CIFAR10_COUNTS, split, 5 * 10 if split == "train" else 10)


def small_mnist(n_train=TINY["train"], n_test=TINY["test"], seed=0):
    rng = np.random.default_rng(seed)
    return ((rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8), rng.integers(0, 10, n_train)),
            (rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8), rng.integers(0, 10, n_test)))


def write_idx(path, array, magic_type=0x08):
    header = bytes([0, 0, magic_type, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def write_idx_set(folder, splits):
    (xtr, ytr), (xte, yte) = splits
    write_idx(folder / "train-images-idx3-ubyte.gz", xtr)
    write_idx(folder / "train-labels-idx1-ubyte.gz", ytr)
    write_idx(folder / "t10k-images-idx3-ubyte.gz", xte)
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", yte)


# ----------------------------------------------------------------------------- real data

def test_real_mnist_idx_shapes_and_checksums(mnist):
    (xtr, ytr), (xte, yte) = mnist
    assert xtr.shape == (60000, 28, 28) and xte.shape == (10000, 28, 28)
    assert xtr.dtype == np.uint8 and ytr.dtype == np.int64
    assert np.bincount(ytr).tolist()[:3] == [5923, 6742, 5958]  # published class counts
    assert ytr[:5].tolist() == [5, 0, 4, 1, 9] and yte[:5].tolist() == [7, 2, 1, 0, 4]


def test_real_cifar10_batches(data_dir):
    (xtr, ytr), (xte, yte) = data.load_cifar10(data_dir)
    assert xtr.shape == (50000, 32, 32, 3) and xte.shape == (10000, 32, 32, 3)
    assert np.bincount(ytr).tolist() == [5000] * 10 and np.bincount(yte).tolist() == [1000] * 10
    # Published per-channel train mean: checks the channel-planar -> NHWC reshape.
    np.testing.assert_allclose(xtr[:5000].mean(axis=(0, 1, 2)) / 255, [0.4914, 0.4822, 0.4465], atol=0.01)


def test_search_order_env_then_flag(data_dir, tmp_path, monkeypatch, mnist, request):
    monkeypatch.setenv("HWKIT_DATA_DIR", str(data_dir))
    (xtr, _), _ = data.load_mnist(formats=("idx",))  # found through the environment, mnist/ sub-folder
    assert np.array_equal(xtr[:10], mnist[0][0][:10])
    request.getfixturevalue("tiny_counts")
    fake = small_mnist(seed=3)
    write_idx_set(tmp_path, fake)
    (xtr2, _), _ = data.load_mnist(tmp_path, formats=("idx",))  # the flag wins over the environment
    assert np.array_equal(xtr2, fake[0][0])


def test_offline_missing_everywhere_names_the_places(tmp_path, monkeypatch):
    monkeypatch.setenv("HWKIT_OFFLINE", "1")
    monkeypatch.setenv("HWKIT_DATA_DIR", str(tmp_path / "nothing"))
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(DataError, match="nothing.*expected MNIST"):
        data.load_mnist()
    with pytest.raises(DataError, match="CIFAR-10"):
        data.load_cifar10()


# ----------------------------------------------------------------------------- npz and CSV

def test_npz_round_trip(tmp_path, mnist):
    (xtr, ytr), (xte, yte) = mnist
    np.savez(tmp_path / "mnist.npz", x_train=xtr, y_train=ytr, x_test=xte, y_test=yte)
    (a, b), (c, d) = data.load_mnist(tmp_path, formats=("npz",))
    assert np.array_equal(a, xtr) and np.array_equal(d, yte)


def test_npz_missing_array_and_garbage(tmp_path):
    np.savez(tmp_path / "mnist.npz", x_train=np.zeros((60000, 28, 28), np.uint8))
    with pytest.raises(DataError, match="Keras layout"):
        data.load_mnist(tmp_path, formats=("npz",))
    (tmp_path / "mnist.npz").write_bytes(b"not a zip")
    with pytest.raises(DataError, match="npz"):
        data.load_mnist(tmp_path, formats=("npz",))


def test_csv_export_command_and_read_back(tmp_path, tiny_counts, capsys):
    from hwkit import cli
    fake = small_mnist(seed=5)
    write_idx_set(tmp_path, fake)
    assert cli.data_main(["export-csv", "--out", str(tmp_path / "csv"), "--data-dir", str(tmp_path)]) == 0
    assert f"({TINY['train']} rows)" in capsys.readouterr().out
    (xtr, ytr), (xte, yte) = data.load_mnist(tmp_path / "csv", formats=("csv",))
    assert np.array_equal(xtr, fake[0][0]) and np.array_equal(ytr, fake[0][1])
    assert np.array_equal(xte, fake[1][0]) and np.array_equal(yte, fake[1][1])
    assert (tmp_path / "csv" / "mnist_train.csv").read_text()[:12] == "label,1x1,1x"


@pytest.mark.slow
def test_csv_export_and_read_back_real_mnist(mnist_csv_dir, mnist):
    (xtr, ytr), (xte, yte) = data.load_mnist(mnist_csv_dir, formats=("csv",))
    assert np.array_equal(xtr, mnist[0][0]) and np.array_equal(ytr, mnist[0][1])
    assert np.array_equal(xte, mnist[1][0]) and np.array_equal(yte, mnist[1][1])
    assert (mnist_csv_dir / "mnist_train.csv").read_text()[:12] == "label,1x1,1x"


def test_csv_without_header(tmp_path):
    x = np.arange(784 * 3).reshape(3, 28, 28) % 256
    rows = "\n".join(",".join(map(str, [i, *x[i].ravel()])) for i in range(3))
    (tmp_path / "m.csv").write_text(rows + "\n")
    xs, ys = data.read_mnist_csv(tmp_path / "m.csv")
    assert ys.tolist() == [0, 1, 2] and np.array_equal(xs, x.astype(np.uint8))


GOOD_ROW = "5," + ",".join(["0"] * 784)


@pytest.mark.parametrize("row, match", [
    ("5," + ",".join(["0"] * 783), "785 comma-separated"),
    ("5," + ",".join(["0"] * 783) + ",300", "0..255"),
    ("12," + ",".join(["0"] * 784), "labels in 0..9"),
    ("5," + ",".join(["x"] * 784), "integer"),
], ids=["short-row", "pixel-range", "label-range", "not-numbers"])
def test_csv_bad_rows(tmp_path, row, match):
    (tmp_path / "bad.csv").write_text(GOOD_ROW + "\n" + row + "\n")
    with pytest.raises(DataError, match=match):
        data.read_mnist_csv(tmp_path / "bad.csv")


def test_csv_wrong_count(tmp_path):
    (tmp_path / "mnist_train.csv").write_text("5," + ",".join(["0"] * 784) + "\n")
    (tmp_path / "mnist_test.csv").write_text("5," + ",".join(["0"] * 784) + "\n")
    with pytest.raises(DataError, match="60000 labels"):
        data.load_mnist(tmp_path, formats=("csv",))


def test_load_mnist_csv_converts_once_into_cache(tmp_path, monkeypatch, tiny_counts, capsys):
    monkeypatch.chdir(tmp_path)
    source = tmp_path / "idx"
    source.mkdir()
    fake = small_mnist(seed=6)
    write_idx_set(source, fake)
    (xtr, ytr), (xte, _) = data.load_mnist_csv(source)
    assert "writing mnist_train.csv" in capsys.readouterr().out
    assert (tmp_path / "data" / "mnist-csv" / "mnist_train.csv").is_file()
    assert np.array_equal(xtr, fake[0][0]) and np.array_equal(ytr, fake[0][1]) and np.array_equal(xte, fake[1][0])
    (again, _), _ = data.load_mnist_csv(source)           # the cache is read, not written again
    assert "writing" not in capsys.readouterr().out and np.array_equal(again, xtr)
    other = small_mnist(seed=7)                           # other source files: the cache is not theirs
    write_idx_set(source, other)
    (xtr2, _), _ = data.load_mnist_csv(source)
    assert "writing" in capsys.readouterr().out and np.array_equal(xtr2, other[0][0])


# ----------------------------------------------------------------------------- corrupt IDX

@pytest.fixture
def idx_copy(tmp_path, tiny_counts):
    """A valid (tiny) IDX set to corrupt: the checks are the same whatever the image count."""
    write_idx_set(tmp_path, small_mnist(seed=4))
    data.load_mnist(tmp_path, formats=("idx",))        # valid before the test corrupts it
    return tmp_path


def test_idx_truncated(idx_copy):
    raw = gzip.decompress((idx_copy / "t10k-images-idx3-ubyte.gz").read_bytes())
    (idx_copy / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(raw[:-100]))
    with pytest.raises(DataError, match="t10k-images.*truncated"):
        data.load_mnist(idx_copy, formats=("idx",))


def test_idx_bad_magic(idx_copy):
    raw = bytearray(gzip.decompress((idx_copy / "train-labels-idx1-ubyte.gz").read_bytes()))
    raw[2] = 0x0D  # float data type instead of unsigned bytes
    (idx_copy / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(DataError, match="train-labels.*magic"):
        data.load_mnist(idx_copy, formats=("idx",))


def test_idx_not_gzip(idx_copy):
    (idx_copy / "train-images-idx3-ubyte.gz").write_bytes(b"hello, not gzip")
    with pytest.raises(DataError, match="train-images.*unreadable"):
        data.load_mnist(idx_copy, formats=("idx",))


def test_idx_mis_shaped_and_wrong_count(tmp_path):
    (xtr, ytr), (xte, yte) = small_mnist(n_train=100, n_test=10)
    write_idx_set(tmp_path, ((xtr, ytr), (xte, yte)))
    with pytest.raises(DataError, match="60000 images.*found 100"):
        data.load_mnist(tmp_path, formats=("idx",))
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", np.zeros((60000, 32, 32), np.uint8))
    with pytest.raises(DataError, match=r"shape \(N, 28, 28\)"):
        data.load_mnist(tmp_path, formats=("idx",))


def test_idx_labels_out_of_range(tmp_path, tiny_counts):
    (xtr, ytr), test = small_mnist()
    ytr = ytr.copy()
    ytr[7] = 11
    write_idx_set(tmp_path, ((xtr, ytr), test))
    with pytest.raises(DataError, match="labels in 0..9.*0..11"):
        data.load_mnist(tmp_path, formats=("idx",))


# ----------------------------------------------------------------------------- CIFAR-10 tar + corrupt

# Channel-planar row: value at plane c, pixel p is 80*c + p % 7, so pixel (0, 1) is (1, 81, 161).
PLANAR_ROW = np.array([80 * (i // 1024) + (i % 1024) % 7 for i in range(3072)], dtype=np.uint8)


def fake_cifar_folder(folder, n=10000, n_test=10000):
    """Full-size batches whose pixels encode position (cheap to gzip), labels cycling 0..9."""
    folder.mkdir(exist_ok=True)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        count = n_test if name == "test_batch" else n
        batch = {b"data": np.broadcast_to(PLANAR_ROW, (count, 3072)).copy(),
                 b"labels": [i % 10 for i in range(count)]}
        (folder / name).write_bytes(pickle.dumps(batch))


def test_cifar_tar_gz(tmp_path, tiny_counts):
    train, test = data.CIFAR10_COUNTS["train"], data.CIFAR10_COUNTS["test"]
    src = tmp_path / "cifar-10-batches-py"
    fake_cifar_folder(src, n=2 * train // 5, n_test=test)
    with tarfile.open(tmp_path / "cifar-10-python.tar.gz", "w:gz") as tar:
        tar.add(src, arcname="cifar-10-batches-py")
    shutil.rmtree(src)
    with pytest.raises(DataError, match=f"{train} train images.*{2 * train}"):  # right format, wrong size
        data.load_cifar10(tmp_path, formats=("tar",))
    fake_cifar_folder(src, n=train // 5, n_test=test)
    with tarfile.open(tmp_path / "cifar-10-python.tar.gz", "w:gz") as tar:
        tar.add(src, arcname="cifar-10-batches-py")
    shutil.rmtree(src)
    (xtr, ytr), (xte, yte) = data.load_cifar10(tmp_path, formats=("tar",))
    assert xtr.shape == (train, 32, 32, 3) and yte.shape == (test,)
    assert ytr[:12].tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]
    assert xtr[0, 0, 1].tolist() == [1, 81, 161]  # planar -> HWC


def test_cifar_corrupt_batch(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    fake_cifar_folder(folder, n=10, n_test=10)
    (folder / "data_batch_3").write_bytes(b"\x80\x04garbage")
    with pytest.raises(DataError, match="data_batch_3.*unreadable"):
        data.load_cifar10(tmp_path)
    (folder / "data_batch_3").write_bytes(pickle.dumps({b"data": np.zeros((10, 3000), np.uint8), b"labels": [0] * 10}))
    with pytest.raises(DataError, match=r"data_batch_3.*\(N, 3072\)"):
        data.load_cifar10(tmp_path)


def test_validation_split_is_disjoint_and_seeded():
    x = np.arange(1000)
    (a, _), (b, _) = data.validation_split(x, x, 0.1, seed=1)
    (a2, _), (b2, _) = data.validation_split(x, x, 0.1, seed=1)
    assert len(b) == 100 and not set(a) & set(b) and np.array_equal(b, b2)
    assert sorted([*a, *b]) == list(range(1000))                         # nothing lost, nothing repeated
    (_, _), (b3, _) = data.validation_split(x, x, 0.1, seed=2)
    assert not np.array_equal(b, b3)                                     # the seed chooses the split


def test_subset_is_seeded_aligned_and_all_when_n_is_none():
    x, y = np.arange(500) * 10, np.arange(500)
    xs, ys = data.subset(x, y, 50, seed=3)
    assert len(xs) == 50 == len(set(xs)) and np.array_equal(xs, ys * 10)      # x[i] still belongs to y[i]
    assert np.array_equal(xs, data.subset(x, y, 50, seed=3)[0])
    assert not np.array_equal(xs, data.subset(x, y, 50, seed=4)[0])
    assert not np.array_equal(ys, np.arange(50))                              # random rows, not the first ones
    assert data.subset(x, y, None)[0] is x and data.subset(x, y, 10_000)[0] is x
