"""Run directories are untrusted input for the PDF and the hand-in: rendering fetches nothing outside the
runs it shows (no other file, no network), a bundle copies files and never follows links, and ``submit``
refuses a bad ``--out-dir`` in one line and sweeps the folders a killed build left behind."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pypdf
import pytest
from conftest import PNG, SVG, install_task_package, toy_run, warnings_of

from hwkit import cli, report, runs


def svg_text(text: str) -> str:
    return SVG.format(f'<text x="5" y="50" font-size="20">{text}</text>')


def svg_image(href: str) -> str:
    return SVG.format(f'<text x="5" y="20" font-size="12">FIGURE-DRAWN</text>'
                      f'<image href="{href}" x="0" y="30" width="100" height="60"/>')






def render_toy(tmp_path: Path) -> str:
    """Z.pdf from the generic template (every figure of z1's run); its text."""
    pdf = report.render("Z", "Toy", [report.TaskInfo("z1", "toy task")], out_dir=tmp_path / "reports")
    return "\n".join(p.extract_text() for p in pypdf.PdfReader(pdf).pages)


def pdf_images(path: Path) -> int:
    return sum(len(p.images) for p in pypdf.PdfReader(path).pages)


@pytest.fixture
def listener():
    """A local TCP server on a free port that records (and drops) every connection it gets."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.1)
    connections: list = []
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, address = server.accept()
            except (socket.timeout, OSError):
                continue
            connections.append(address)
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], connections
    stop.set()
    thread.join()
    server.close()


# ----------------------------------------------------------------------------- rendering fetches nothing


def test_figure_may_use_files_of_its_own_run(tmp_path, capsys):
    toy_run({"figures/plot.svg": svg_image("inner.svg"), "figures/inner.svg": svg_text("INSIDE-OK"),
             "figures/photo.svg": svg_image("pixels/dot.png"), "figures/pixels/dot.png": PNG})
    text = render_toy(tmp_path)
    assert "INSIDE-OK" in text and "FIGURE-DRAWN" in text
    assert pdf_images(tmp_path / "reports" / "Z.pdf") > 0, "the run's own PNG is embedded"
    assert not warnings_of(capsys.readouterr().err)


def test_matplotlib_figure_with_an_inline_raster_renders_without_warning(tmp_path, capsys):
    from hwkit import plots  # headless (Agg)
    with runs.start_run("z1", {}) as run:
        fig, ((a, b),) = plots.figure(1, 2, width="full")
        a.plot([0, 1], [1, 0], label="MPL-LINE")
        a.set(xlabel="x", ylabel="y")
        a.legend()
        plots.heatmap(b, [[0, 1], [1, 0]], label="value")   # an SVG <image> with a data: URL
        run.save_figure(fig, "mixed")
    assert "data:image/png" in run.file("figures", "mixed.svg").read_text()
    render_toy(tmp_path)
    assert pdf_images(tmp_path / "reports" / "Z.pdf") > 0
    assert not warnings_of(capsys.readouterr().err)


@pytest.mark.parametrize("how", ["file-url", "relative", "link-in-run", "figure-is-link", "png"])
def test_figure_cannot_pull_in_a_file_outside_the_runs(how, tmp_path, secret, capsys):
    files = {"figures/plot.svg": {"file-url": svg_image((secret / "secret.svg").as_uri()),
                                  "relative": svg_image("../" * 12 + str(secret / "secret.svg").lstrip("/")),
                                  "link-in-run": svg_image("parts/leak.svg"),
                                  "figure-is-link": None,
                                  "png": svg_image((secret / "secret.png").as_uri())}[how]}
    record = toy_run({k: v for k, v in files.items() if v is not None})
    if how == "link-in-run":
        (record.path / "figures" / "parts").mkdir()
        (record.path / "figures" / "parts" / "leak.svg").symlink_to(secret / "secret.svg")
    if how == "figure-is-link":
        (record.path / "figures").mkdir()
        (record.path / "figures" / "plot.svg").symlink_to(secret / "secret.svg")
    text = render_toy(tmp_path)
    assert "SECRET-MARKER-26" not in text
    assert pdf_images(tmp_path / "reports" / "Z.pdf") == 0 and PNG[-40:] not in (
        tmp_path / "reports" / "Z.pdf").read_bytes()
    if how != "figure-is-link":
        assert "FIGURE-DRAWN" in text, "the rest of the figure is still drawn"
    warned = warnings_of(capsys.readouterr().err)
    assert len(warned) == 1, warned
    assert runs.relative_path(record.path) in warned[0] and "plot.svg" in warned[0] and "secret" in warned[0]


@pytest.mark.parametrize("scheme", ["http", "https", "ftp"])
def test_figure_makes_no_network_request(scheme, tmp_path, listener, monkeypatch, capsys):
    monkeypatch.delenv("HWKIT_OFFLINE", raising=False)
    port, connections = listener
    url = f"{scheme}://127.0.0.1:{port}/pixel.png"
    record = toy_run({"figures/plot.svg": svg_image(url)})
    text = render_toy(tmp_path)
    assert "FIGURE-DRAWN" in text and connections == []
    warned = warnings_of(capsys.readouterr().err)
    assert len(warned) == 1 and runs.relative_path(record.path) in warned[0] and url in warned[0], warned


def test_inline_svg_and_html_links_go_through_the_same_fetcher(tmp_path, listener, secret, monkeypatch, capsys):
    monkeypatch.delenv("HWKIT_OFFLINE", raising=False)
    port, connections = listener
    record = toy_run({"figures/a.svg": svg_text("A")})
    html = (f'<html><body><p>INLINE</p><svg width="50" height="50"><image href="http://127.0.0.1:{port}/x.png" '
            f'width="50" height="50"/></svg><img src="{(secret / "secret.svg").as_uri()}">'
            f'<link rel="stylesheet" href="http://127.0.0.1:{port}/style.css"></body></html>')
    out = tmp_path / "inline.pdf"
    report.write_pdf(html, [record.path], out)
    assert connections == [] and "SECRET-MARKER-26" not in pypdf.PdfReader(out).pages[0].extract_text()
    assert len(warnings_of(capsys.readouterr().err)) == 3


# ----------------------------------------------------------------------------- bundles


@pytest.fixture
def toy_package(tmp_path, monkeypatch) -> Path:
    """A task package with one task z1 whose code submit can ship; its runs are made outside any git checkout
    (so never from a dirty tree, which submit would refuse)."""
    package = install_task_package(tmp_path, monkeypatch, "bundletasks", {"Z": "Toy"},
                                   {"z1": '"""Toy task."""\ndef run(args, run):\n    pass\n'})
    monkeypatch.chdir(tmp_path)
    return package


def test_bundle_skips_links_to_files_and_folders(toy_package, tmp_path, secret, capsys):
    (secret / "notes").mkdir()
    (secret / "notes" / "private.txt").write_text("SECRET-MARKER-26")
    record = toy_run({"figures/plot.svg": svg_text("PLOT"), "figures/plot.csv": "x,y\n1,2\n",
                      "tables/t.json": "[]"})
    links = {"figures/leak.csv": secret / "secret.svg", "figures/notes": secret / "notes",
             "history.csv": secret / "secret.svg", "tables/more": secret / "notes"}
    for name, target in links.items():
        (record.path / name).symlink_to(target)
    out = tmp_path / "submissions"
    assert cli.submit_main(["Z", "--out-dir", str(out)]) == 0
    shipped = out / "Z" / "results" / "z1"
    assert (shipped / "figures" / "plot.svg").is_file() and (shipped / "tables" / "t.json").is_file()
    for name in links:
        assert not os.path.lexists(shipped / name), name
    assert not any(p.is_symlink() for p in (out / "Z").rglob("*"))
    assert not any(b"SECRET-MARKER-26" in p.read_bytes() for p in (out / "Z").rglob("*") if p.is_file())
    warned = warnings_of(capsys.readouterr().err)
    assert len(warned) == len(links), warned
    for name in links:
        assert sum(f"{runs.relative_path(record.path)}/{name}" in w for w in warned) == 1, (name, warned)


def test_bundle_refuses_a_model_that_is_a_link(toy_package, tmp_path, secret, capsys):
    toy_package.joinpath("__init__.py").write_text(
        'ASSIGNMENTS = {"Z": "Toy"}\nfrom hwkit.submit import Bundle\n'
        'SUBMISSIONS = {"Z": Bundle(reports={"Z.pdf": ("", None)}, models={"model.keras": ("z1", "z1.keras")})}\n')
    record = toy_run({})
    (record.path / "z1.keras").symlink_to(secret / "secret.png")
    with pytest.raises(SystemExit) as e:
        cli.submit_main(["Z", "--out-dir", str(tmp_path / "submissions")])
    err = capsys.readouterr().err.strip()
    assert e.value.code == 2 and err.startswith("error:") and len(err.splitlines()) == 1, err
    assert "z1.keras" in err and "link" in err and not (tmp_path / "submissions" / "Z").exists()


@pytest.mark.parametrize("where", ["a file", "below a file", "in /proc", "too long"])
def test_out_dir_that_cannot_be_a_folder_is_one_error_line(where, toy_package, tmp_path, capsys):
    toy_run({"figures/plot.svg": svg_text("PLOT")})
    (tmp_path / "file").write_text("keep me")
    out = {"a file": tmp_path / "file", "below a file": tmp_path / "file" / "sub",
           "in /proc": Path("/proc/hwkit-no-such/sub"), "too long": tmp_path / ("x" * 300)}[where]
    with pytest.raises(SystemExit) as e:
        cli.submit_main(["Z", "--out-dir", str(out)])
    err = capsys.readouterr().err.strip()
    assert e.value.code == 2 and len(err.splitlines()) == 1 and err.startswith("error:"), err
    assert "--out-dir" in err and str(out)[:60] in err
    assert (tmp_path / "file").read_text() == "keep me"


def test_folders_left_by_a_killed_submit_are_swept(toy_package, tmp_path):
    toy_run({"figures/plot.svg": svg_text("PLOT")})
    out = tmp_path / "submissions"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        stale = [out / f".Z.building-{dead.pid}" / "content", out / f".Z.old-{dead.pid}",
                 out / f".Y.building-{dead.pid}"]
        busy = out / f".Z.building-{alive.pid}"
        for folder in [*stale, busy]:
            folder.mkdir(parents=True)
            (folder / "half.pdf.part").write_bytes(b"%PDF")
        assert cli.submit_main(["Z", "--out-dir", str(out)]) == 0
        assert (out / "Z" / "Z.pdf").is_file()
        assert not any(os.path.lexists(p) for p in stale) and not (out / f".Z.building-{dead.pid}").exists()
        assert busy.is_dir(), "a build of another running submit is left alone"
    finally:
        alive.kill()
        alive.wait()
