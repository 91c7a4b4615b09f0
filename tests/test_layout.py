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
