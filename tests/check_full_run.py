"""Check the five PDFs of a full regeneration (``python -m hwkit.report all --run``) before a closing note.

    HWKIT_RUNS_DIR=<clone>/runs python tests/check_full_run.py <clone> [--png-dir DIR]

Per PDF: pages, where the appendix starts and how long it is, SMOKE labels, "not run" sections, missing
figures, ink in the margins (PDFium, ``pdf_layout.layout_problems``), near-empty pages / headings at a page
foot / split rows (WeasyPrint's page boxes, ``pdf_layout.html_layout_problems``, on the HTML rendered again
from the same runs) and duplicate headings. ``--png-dir`` also writes every page as PNG, to look at.
Exits 1 when any check finds a problem.
"""
import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import pdf_layout  # noqa: E402
import pypdf  # noqa: E402

APPENDIX = "Appendix — evidence and reproducibility"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clone", type=Path, help="the clone the full run was made in (its reports/ folder is read)")
    parser.add_argument("--png-dir", type=Path, help="write every page here as <assignment><page>.png")
    args = parser.parse_args()
    from hwkit import cli, report
    os.chdir(args.clone)
    failed = False
    for a in "ABCDE":
        pdf = Path("reports") / f"{a}.pdf"
        texts = [page.extract_text() or "" for page in pypdf.PdfReader(pdf).pages]
        start = next((i + 1 for i, t in enumerate(texts) if APPENDIX in t), None)
        html = report.render_html(a, cli.assignments()[a], cli.discover_tasks(a), False,
                                  facts=cli.report_facts(a), benchmarks=cli.report_benchmarks())
        problems = (pdf_layout.layout_problems(pdf) + pdf_layout.html_layout_problems(html)
                    + pdf_layout.duplicate_headings(html)
                    + [f"{n} pages say {word!r}" for word in ("SMOKE", "not run", "missing from")
                       if (n := sum(word in t for t in texts))])
        appendix = f"appendix pages {start}-{len(texts)} ({len(texts) - start + 1})" if start else "no appendix"
        print(f"{a}: {len(texts)} pages, {appendix}; " + ("; ".join(problems) or "no problems"))
        failed |= bool(problems) or start is None
        if args.png_dir:
            import pypdfium2
            args.png_dir.mkdir(parents=True, exist_ok=True)
            document = pypdfium2.PdfDocument(str(pdf))
            for i in range(len(document)):
                document[i].render(scale=0.8).to_pil().save(args.png_dir / f"{a}{i + 1}.png")
    return int(failed)


if __name__ == "__main__":
    raise SystemExit(main())
