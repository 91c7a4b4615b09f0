"""PDF layout as a reader sees it: pages rendered by PDFium; nothing runs into the side margins, no blank page."""
import pdf_layout
import pytest

from hwkit import cli

PAGE = "<style>@page { size: A4; margin: 16mm 14mm 18mm 14mm; } body { font-family: 'DejaVu Sans'; }</style>"


def _pdf(tmp_path, body):
    import weasyprint
    path = tmp_path / "t.pdf"
    weasyprint.HTML(string=PAGE + body).write_pdf(path)
    return path


def test_checker_passes_a_clean_page_and_catches_overflow_and_blank_pages(tmp_path):
    assert pdf_layout.layout_problems(_pdf(tmp_path, "<p>hello</p><table><tr><td>1</td></tr></table>")) == []
    wide = "<table border=1><tr>" + "".join(f"<td>column_{i}_wide_cell</td>" for i in range(14)) + "</tr></table>"
    problems = pdf_layout.layout_problems(_pdf(tmp_path, wide))
    assert problems and "right margin" in problems[0]
    blank = "<p>one</p><div style='break-before: page'></div><p style='break-before: page'>three</p>"
    assert "page 2: blank" in pdf_layout.layout_problems(_pdf(tmp_path, blank))


@pytest.mark.slow
@pytest.mark.parametrize("assignment, tasks", [("D", ("d1", "d2", "d3", "d4")), ("E", ("e1", "e6"))])
def test_quick_report_pages_stay_inside_the_margins(assignment, tasks, run_task, tmp_path):
    for t in tasks:
        run_task(t, "--quick")
    pdf = cli.render_report(assignment, include_quick=True, out_dir=tmp_path)
    assert pdf_layout.layout_problems(pdf) == []
    assert max(pdf_layout.path_objects_per_page(pdf)) > 100   # the figures are vector drawings


HTML_PAGE = "<style>@page { size: A4; margin: 16mm 14mm 18mm 14mm; } h3 { break-after: auto; }</style>"
FIGURE = "<div style='height: 150mm; background: #eee; break-inside: avoid'>figure</div>"


@pytest.mark.parametrize("body, problem", [
    ("<h2>A</h2><p>short</p><h3 style='break-before: page'>B</h3><p>x</p>", "page 1: near-empty"),
    ("<p>x</p>" * 20 + "<h3>Heading here</h3>" + FIGURE, 'page 1: heading "Heading here" at the foot'),
    ("<p>x</p>" * 20 + "<p class='lead'>The table below:</p>" + FIGURE,
     'page 1: lead-in "The table below:" at the foot'),
    ("<table border=1><tr><td>label</td><td>" + "word " * 3000 + "</td></tr></table>", "table row \"label"),
])
def test_layout_checker_catches_each_fault(body, problem):
    found = pdf_layout.html_layout_problems(HTML_PAGE + body)
    assert any(problem in p for p in found), found


def test_layout_checker_passes_a_well_kept_page_and_a_section_end_before_a_new_section():
    kept = ("<style>@page { size: A4; margin: 16mm 14mm 18mm 14mm; } h3, p.lead { break-after: avoid; }"
            " tr { break-inside: avoid; }</style>")
    body = ("<p>x</p>" * 20 + "<h3>Heading here</h3><p class='lead'>The table below:</p>" + FIGURE
            + "<table><thead><tr><th>header</th><th>cell</th></tr></thead>"
            + "".join(f"<tr><td>row {i}</td><td>{'text ' * 30}</td></tr>" for i in range(30)) + "</table>"
            + "<h2 style='break-before: page'>Appendix</h2><p>end</p>")
    # The table runs on to the next page: its <thead> row repeats there, which is not a split row.
    assert len(pdf_layout._page_boxes(kept + body)) >= 3
    assert pdf_layout.html_layout_problems(kept + body) == []


def test_duplicate_headings_are_found_within_a_section_only():
    html = "<h2>D5</h2><h3>(e)</h3><h3>(e)</h3><h2>D6</h2><h3>(e)</h3><h3>(f)</h3>"
    assert pdf_layout.duplicate_headings(html) == ['"(e)" twice under "D5"']


@pytest.mark.parametrize("assignment", ["A", "B", "C", "D", "E"])
def test_report_from_the_fixture_runs_keeps_headings_with_text_and_pages_filled(assignment, monkeypatch):
    from hwkit import report
    monkeypatch.setenv("HWKIT_RUNS_DIR", "tests/fixtures/runs")
    html = report.render_html(assignment, cli.assignments()[assignment], cli.discover_tasks(assignment), True,
                              facts=cli.report_facts(assignment), benchmarks=cli.report_benchmarks())
    assert pdf_layout.duplicate_headings(html) == []
    assert pdf_layout.html_layout_problems(html) == []
