"""Bad input, faults and provenance: safe loading, one `error:` line (exit 2) for each case, nothing
left looking complete, and what a run records about the code and data that made it."""
from __future__ import annotations

import errno
import gzip
import json
import os
import pathlib
import pickle
from pathlib import Path

import numpy as np
import pytest
from conftest import install_task_package, one_line_exit_2

from hwkit import HwkitError, data, runs
from hwkit.data import DataError

# ----------------------------------------------------------------------------- safe loading


def cifar_folder(folder: Path, n: int = 10) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {b"data": np.zeros((n, 3072), np.uint8), b"labels": [i % 10 for i in range(n)]}
        (folder / name).write_bytes(pickle.dumps(batch))
    return folder


class Exploit:
    """A pickle that runs a shell command when loaded with plain pickle.loads."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_cifar_pickle_that_runs_code_is_refused(tmp_path):
    folder = cifar_folder(tmp_path / "cifar-10-batches-py")
    marker = tmp_path / "pwned"
    (folder / "data_batch_2").write_bytes(pickle.dumps({b"data": Exploit(marker), b"labels": [0]}))
    with pytest.raises(DataError, match=r"data_batch_2.*posix.system.*refused"):
        data.load_cifar10(tmp_path)
    assert not marker.exists()
    pickle.loads((folder / "data_batch_2").read_bytes())       # the file really is an exploit
    assert marker.exists()


def test_real_cifar_batch_passes_the_restricted_unpickler(data_dir):
    batch = data.safe_unpickle((data_dir / "cifar-10-batches-py" / "test_batch").read_bytes())
    assert batch[b"data"].shape == (10000, 3072) and len(batch[b"labels"]) == 10000


def test_random_byte_cifar_batches_are_one_data_error(tmp_path):
    """Random bytes make pickle raise UnpicklingError, EOFError, OverflowError, MemoryError, ValueError ..."""
    folder = cifar_folder(tmp_path / "cifar-10-batches-py")
    rng = np.random.default_rng(0)
    blobs = [rng.bytes(int(rng.integers(1, 3000))) for _ in range(150)]
    blobs += [b"\x80\x02" + b for b in blobs]
    blobs += [b"\x80\x04\x8e" + (2**62).to_bytes(8, "little"),                 # 4 EiB of bytes: MemoryError
              b"\x80\x04\x95" + (2**63 - 1).to_bytes(8, "little") + b"}"]     # frame length overflow
    for blob in blobs:
        (folder / "test_batch").write_bytes(blob)
        with pytest.raises(DataError, match="test_batch"):
            data.load_cifar10(tmp_path, formats=("batches",))


def test_npz_with_pickled_objects_is_refused(tmp_path):
    np.savez(tmp_path / "mnist.npz", x_train=np.array([{"a": 1}], dtype=object), y_train=np.zeros(1),
             x_test=np.zeros(1), y_test=np.zeros(1))
    with pytest.raises(DataError, match="mnist.npz.*plain arrays"):
        data.load_mnist(tmp_path, formats=("npz",))


def test_gzip_idx_with_corrupt_compressed_data(tmp_path, data_dir):
    for f in (data_dir / "mnist").glob("*.gz"):
        (tmp_path / f.name).write_bytes(f.read_bytes())
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(path.read_bytes())
    raw[20:40] = bytes(20)                              # zeroed deflate stream -> zlib.error
    path.write_bytes(bytes(raw))
    with pytest.raises(DataError, match="t10k-labels.*unreadable data"):
        data.load_mnist(tmp_path, formats=("idx",))


def test_keras_model_from_a_run_is_loaded_safely(runs_dir):
    with runs.start_run("e1", {}) as run:
        run.model_path("e1_encoder.keras").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(HwkitError, match="cannot load the model .*e1_encoder.keras"):
        runs.load_model(runs.require_run("e1", quick=False), "e1_encoder.keras")


# ----------------------------------------------------------------------------- CSV

ROW = "5," + ",".join(["0"] * 784)


def test_every_csv_row_is_checked_for_width(tmp_path):
    rows = [ROW] * 5000
    rows[2345] = "5," + ",".join(["0"] * 785)           # one shifted row in the middle
    (tmp_path / "m.csv").write_text("\n".join(rows) + "\n")
    with pytest.raises(DataError, match="786 values on line 2346"):
        data.read_mnist_csv(tmp_path / "m.csv")


def test_first_data_row_with_a_bad_cell_is_not_a_header(tmp_path):
    (tmp_path / "m.csv").write_text("5,0,x" + ",0" * 782 + "\n" + ROW + "\n")
    with pytest.raises(DataError, match="b'x' on line 1, column 3"):
        data.read_mnist_csv(tmp_path / "m.csv")
    (tmp_path / "h.csv").write_text("label," + ",".join(f"pixel{i}" for i in range(784)) + "\n" + ROW + "\n")
    x, y = data.read_mnist_csv(tmp_path / "h.csv")      # a real header is still skipped
    assert y.tolist() == [5]


def write_idx_mnist(folder: Path, label_shift: int = 0) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", data.MNIST_COUNTS["train"]), ("t10k", data.MNIST_COUNTS["test"])):
        labels = (np.arange(n) % 10 + label_shift).astype(np.uint8)
        with gzip.open(folder / f"{prefix}-labels-idx1-ubyte.gz", "wb") as f:
            f.write(bytes([0, 0, 8, 1]) + n.to_bytes(4, "big") + labels.tobytes())
        with gzip.open(folder / f"{prefix}-images-idx3-ubyte.gz", "wb") as f:
            f.write(bytes([0, 0, 8, 3]) + n.to_bytes(4, "big") + (28).to_bytes(4, "big") * 2 + bytes(n * 784))


def test_csv_cache_is_used_only_for_the_source_it_was_made_from(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HWKIT_DATA_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(data, "MNIST_COUNTS", {"train": 30, "test": 20})     # small files, same checks
    good, bad = tmp_path / "good", tmp_path / "bad"
    write_idx_mnist(good)
    write_idx_mnist(bad, label_shift=1)                  # another source, with a label out of range
    data.reset_files_read()
    (xtr, ytr), _ = data.load_mnist_csv(good)
    assert ytr.tolist()[:3] == [0, 1, 2]
    cache = tmp_path / "data" / "mnist-csv"
    manifest = json.loads((cache / "manifest.json").read_text())
    assert {Path(m["path"]).parent for m in manifest} == {good} and len(manifest) == 4
    read = {Path(f["path"]).name: f["sha256"] for f in data.files_read()}
    assert set(read) >= {"mnist_train.csv", "mnist_test.csv", "train-labels-idx1-ubyte.gz"}
    assert all(len(h) == 64 for h in read.values())

    with pytest.raises(DataError, match=r"bad.*labels in 0..9"):
        data.load_mnist_csv(bad)                         # not the old cache: the folder named is read
    stamp = (cache / "mnist_train.csv").stat().st_mtime_ns
    data.load_mnist_csv(good)                            # the cache of this very source is reused
    assert (cache / "mnist_train.csv").stat().st_mtime_ns == stamp
    os.utime(good / "train-labels-idx1-ubyte.gz", ns=(1, 1))   # the source changed: rebuilt
    data.load_mnist_csv(good)
    assert json.loads((cache / "manifest.json").read_text()) != manifest


# ----------------------------------------------------------------------------- command line: one line, exit 2

T1 = '''
"""T1: a toy task that writes a table and logs a number."""
from hwkit.task import main


def run(args, run):
    run.save_table("rows", [{"a": 1}])
    run.log(answer=42)


if __name__ == "__main__":
    raise SystemExit(main(__spec__.name))
'''


@pytest.fixture
def toy(tmp_path, monkeypatch):
    return install_task_package(tmp_path, monkeypatch, "trusttasks", {"T": "trust"}, {"t1": T1})


@pytest.mark.parametrize("argv, fragment", [
    (["--seed", "-1"], "seed in 0..4294967295"),
    (["--seed", str(2**32)], "seed in 0..4294967295"),
    (["--seed", "abc"], "seed in 0..4294967295"),
    (["--epochs", "1000000000"], "epochs in 1..10000"),
    (["--epochs", "0"], "epochs in 1..10000"),
    (["--quick", "--epochs", "5000"], "--quick runs take seconds"),
], ids=["seed-negative", "seed-2^32", "seed-text", "epochs-giant", "epochs-zero", "quick-giant-epochs"])
def test_flag_bounds(toy, capsys, runs_dir, argv, fragment):
    from hwkit.cli import task_main
    one_line_exit_2(capsys, lambda: task_main("trusttasks.t1", argv), fragment)
    assert not runs_dir.exists()                          # refused before any run directory


def test_unwritable_or_impossible_runs_dir(toy, capsys, tmp_path, monkeypatch):
    from hwkit.cli import task_main
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    for root in (a_file, a_file / "runs"):                 # a file; a folder inside a file
        monkeypatch.setenv("HWKIT_RUNS_DIR", str(root))
        one_line_exit_2(capsys, lambda: task_main("trusttasks.t1", []), "cannot create the run directory",
                        "HWKIT_RUNS_DIR")
    read_only = tmp_path / "ro"
    read_only.mkdir(mode=0o555)
    monkeypatch.setenv("HWKIT_RUNS_DIR", str(read_only))
    if os.access(read_only, os.W_OK):                      # root ignores permissions: simulate EACCES
        real_mkdir = pathlib.Path.mkdir

        def mkdir(self, *a, **k):
            if str(self).startswith(str(read_only)):
                raise PermissionError(errno.EACCES, "Permission denied", str(self))
            return real_mkdir(self, *a, **k)
        monkeypatch.setattr(pathlib.Path, "mkdir", mkdir)
    one_line_exit_2(capsys, lambda: task_main("trusttasks.t1", []), "Permission denied")


def enospc_on(monkeypatch, predicate):
    """Path.write_text raises ENOSPC (after writing nothing) the first time ``predicate(path, text)`` holds."""
    real = pathlib.Path.write_text
    fired = []

    def write_text(self, text, *a, **k):
        if not fired and predicate(self, text):
            fired.append(self)
            real(self, "", *a, **k)                        # a 0-byte file, as a full disk leaves
            raise OSError(errno.ENOSPC, "No space left on device", str(self))
        return real(self, text, *a, **k)
    monkeypatch.setattr(pathlib.Path, "write_text", write_text)
    return fired


@pytest.mark.parametrize("where", ["table", "final-metrics"])
def test_disk_full_marks_the_run_failed_and_leaves_no_part_file(toy, capsys, runs_dir, monkeypatch, where):
    from hwkit.cli import task_main
    if where == "table":
        fired = enospc_on(monkeypatch, lambda p, t: p.name == "rows.json.part")
    else:
        fired = enospc_on(monkeypatch, lambda p, t: p.name == "metrics.json.part" and '"complete"' in t)
    one_line_exit_2(capsys, lambda: task_main("trusttasks.t1", []), "No space left on device", "rerun")
    assert fired
    [path] = list((runs_dir / "t1").iterdir())
    assert json.loads((path / "metrics.json").read_text())["status"] == "failed"
    assert not list(path.rglob("*.part"))
    assert runs.latest_run("t1") is None


def test_unwritable_out_dir_and_full_disk_for_the_pdf(toy, capsys, tmp_path, monkeypatch):
    import weasyprint

    from hwkit.cli import report_main
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    one_line_exit_2(capsys, lambda: report_main(["T", "--out-dir", str(a_file / "reports")]),
                    "cannot write", "--out-dir")

    def write_pdf(self, target, *a, **k):
        Path(target).write_bytes(b"%PDF-1.7 half")
        raise OSError(errno.ENOSPC, "No space left on device", str(target))
    monkeypatch.setattr(weasyprint.HTML, "write_pdf", write_pdf)
    out = tmp_path / "reports"
    one_line_exit_2(capsys, lambda: report_main(["T", "--out-dir", str(out)]), "No space left on device")
    assert list(out.iterdir()) == []


# ----------------------------------------------------------------------------- provenance

def test_run_records_code_command_and_data(toy, runs_dir, data_dir, monkeypatch):
    from hwkit.cli import task_main
    monkeypatch.setattr("sys.argv", ["-m", "--seed", "3"])
    data.reset_files_read()
    real_run = toy.joinpath("t1.py").read_text()
    toy.joinpath("t1.py").write_text(real_run.replace('run.log(answer=42)',
                                                      'data.read_idx(DATA / "t10k-labels-idx1-ubyte.gz")\n'
                                                      '    run.log(answer=42)').replace(
        "from hwkit.task import main", f"from pathlib import Path\nfrom hwkit import data\n"
                                       f"from hwkit.task import main\nDATA = Path({str(data_dir / 'mnist')!r})"))
    assert task_main("trusttasks.t1", ["--seed", "3"]) == 0
    record = runs.latest_run("t1")
    assert record.env["argv"] == ["-m", "--seed", "3"]
    assert set(record.env["git"]) == {"commit", "dirty", "diff_sha256"}   # None here: not in a repository
    [read] = record.metrics["data_files"]
    assert read["path"].endswith("t10k-labels-idx1-ubyte.gz") and len(read["sha256"]) == 64
    assert record.config["data_files"] == record.metrics["data_files"]
    assert record.config["code"]["module"] == "trusttasks.t1" and not record.stale
    toy.joinpath("t1.py").write_text(toy.joinpath("t1.py").read_text() + "\n# changed\n")
    assert runs.latest_run("t1").stale                       # "made by older code"
    from hwkit import cli, report
    html = report.render_html("T", "trust", cli.discover_tasks("T"))
    assert "made by older code" in html and "commit: not recorded" in html


def test_git_state_of_this_repository():
    state = runs.git_state(Path(__file__))
    assert state["commit"] and len(state["commit"]) == 40
    assert state["dirty"] == (state["diff_sha256"] is not None)
