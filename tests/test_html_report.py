"""``report X --html``: the same templates as one self-contained page for a browser. Its figures are embedded as
``data:`` URLs under the PDF's rule (only files inside the runs shown), an SVG goes in an ``<img>`` (where a
browser runs nothing and fetches nothing), and the page itself may load nothing at all."""
from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from conftest import PNG, SVG, install_task_package, toy_run, warnings_of

from hwkit import cli, report, runs

ROOT = Path(__file__).resolve().parents[1]




def decoded(url: str) -> bytes:
    head, _, data = url.partition(",")
    assert head.endswith(";base64"), url[:60]
    return base64.b64decode(data)


def image_sources(page: str) -> list[str]:
    return re.findall(r'<img src="([^"]*)"', page)


# ----------------------------------------------------------------------------- embedding, unit by unit

def test_a_run_file_becomes_a_data_url_of_its_bytes_and_type(tmp_path, capsys):
    record = toy_run({"figures/dot.png": PNG})
    url = report._RunFiles([record.path]).data_url((record.path / "figures" / "dot.png").as_uri())
    assert url.startswith("data:image/png;base64,") and decoded(url) == PNG
    assert not warnings_of(capsys.readouterr().err)


def test_an_svg_carries_the_files_of_its_run_it_refers_to(tmp_path, capsys):
    """As in the PDF, where the fetcher serves them: a browser's <img> would fetch nothing, so they go inside."""
    record = toy_run({"figures/plot.svg": SVG.format('<image href="pixels/dot.png"/><image href="#clip"/>'
                                                     '<image xlink:href="data:image/png;base64,AAAA"/>'),
                      "figures/pixels/dot.png": PNG})
    url = report._RunFiles([record.path]).data_url((record.path / "figures" / "plot.svg").as_uri())
    svg = decoded(url).decode()
    assert url.startswith("data:image/svg+xml;base64,")
    [inner] = re.findall(r'<image href="(data:image/png;base64,[^"]+)"', svg)
    assert decoded(inner) == PNG
    assert '<image href="#clip"/>' in svg and 'xlink:href="data:image/png;base64,AAAA"' in svg   # left as they were
    assert not warnings_of(capsys.readouterr().err)


@pytest.mark.parametrize("how", ["figure-is-link", "svg-refers-out", "svg-link-in-run", "network"])
def test_nothing_outside_the_runs_is_embedded(how, tmp_path, secret, capsys):
    outside = (secret / "secret.svg").as_uri()
    figure = {"figure-is-link": None, "svg-refers-out": SVG.format(f'<image href="{outside}"/>'),
              "svg-link-in-run": SVG.format('<image href="leak.svg"/>'),
              "network": SVG.format('<image href="http://127.0.0.1:9/x.png"/>')}[how]
    record = toy_run({"figures/plot.svg": figure} if figure else {"figures/other.txt": "x"})
    if how == "figure-is-link":
        (record.path / "figures" / "plot.svg").symlink_to(secret / "secret.svg")
    if how == "svg-link-in-run":
        (record.path / "figures" / "leak.svg").symlink_to(secret / "secret.svg")
    url = report._RunFiles([record.path]).data_url((record.path / "figures" / "plot.svg").as_uri())
    everything = url if url == "data:," else decoded(url).decode()
    assert "SECRET-MARKER-26" not in everything
    if how != "figure-is-link":
        assert 'href="data:,"' in everything   # the refused reference is cut, not left for a viewer to follow
    else:
        assert url == "data:,"
    warned = warnings_of(capsys.readouterr().err)
    assert len(warned) == 1 and runs.relative_path(record.path) in warned[0] and "not fetched" in warned[0], warned


def test_nesting_stops_at_a_depth(tmp_path):
    """An SVG that refers to itself is embedded a bounded number of times, not forever."""
    record = toy_run({"figures/loop.svg": SVG.format('<image href="loop.svg"/>')})
    url = report._RunFiles([record.path]).data_url((record.path / "figures" / "loop.svg").as_uri())
    depth = 0
    while url != "data:,":
        url = re.search(r'href="([^"]+)"', decoded(url).decode())[1]
        depth += 1
    assert depth == 5


# ----------------------------------------------------------------------------- the page

def test_html_report_is_one_page_that_loads_nothing(tmp_path, secret, capsys):
    script = SVG.format('<script>alert(1)</script><text x="5" y="50">PLOT-TEXT</text>')
    record = toy_run({"figures/plot.svg": script, "figures/dot.png": PNG})
    (record.path / "figures" / "leak.svg").symlink_to(secret / "secret.svg")
    out = report.render("Z", "Toy", [report.TaskInfo("z1", "toy task")], out_dir=tmp_path / "reports", html=True)
    assert out == tmp_path / "reports" / "Z.html" and sorted(p.name for p in out.parent.iterdir()) == ["Z.html"]
    page = out.read_text()
    sources = image_sources(page)
    assert len(sources) == 3 and all(s.startswith("data:") for s in sources)
    assert "file:" not in page and "<script" not in page and "SECRET-MARKER-26" not in page
    embedded = {decoded(s) for s in sources if s != "data:,"}
    assert PNG in embedded and script.encode() in embedded   # the SVG as it is, inside an <img> only
    assert "default-src 'none'; img-src data:; style-src 'unsafe-inline'" in page
    assert page.index("Content-Security-Policy") < page.index("<style>")   # before anything it governs
    assert len(warnings_of(capsys.readouterr().err)) == 1   # leak.svg, as in the PDF


def test_html_write_failure_leaves_nothing(tmp_path, monkeypatch):
    toy_run({"figures/dot.png": PNG})

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(Path, "write_text", broken)
    with pytest.raises(report.HwkitError, match="cannot write .*Z.html"):
        report.render("Z", "Toy", [report.TaskInfo("z1", "toy task")], out_dir=tmp_path / "reports", html=True)
    assert list((tmp_path / "reports").iterdir()) == []


def test_report_html_flag_writes_the_page_beside_the_pdf(tmp_path, monkeypatch, capsys):
    install_task_package(tmp_path, monkeypatch, "htmltasks", {"Z": "Toy"},
                         {"z1": '"""Toy task."""\ndef run(args, run):\n    pass\n'})
    toy_run({"figures/dot.png": PNG})
    out = tmp_path / "reports"
    assert cli.main(["report", "Z", "--html", "--out-dir", str(out)]) == 0
    assert capsys.readouterr().out.split() == [str(out / "Z.pdf"), str(out / "Z.html")]
    assert (out / "Z.pdf").read_bytes().startswith(b"%PDF") and "Toy" in (out / "Z.html").read_text()


@pytest.mark.parametrize("assignment", list("ABCDE"))
def test_every_assignment_renders_as_html_from_the_fixture_runs(assignment, tmp_path, monkeypatch):
    """The same templates, the same context: every section the PDF shows renders in the page too."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("HWKIT_RUNS_DIR", "tests/fixtures/runs")
    page = cli.render_report(assignment, include_quick=True, out_dir=tmp_path, html=True).read_text()
    assert f"<h1>Assignment {assignment} — {cli.assignments()[assignment]}</h1>" in page
    assert "file:" not in page and all(s.startswith("data:") for s in image_sources(page))
    for task in cli.discover_tasks(assignment):
        assert "tests/fixtures/runs/" + task.name in page, f"{task.name}: its run is not shown"
