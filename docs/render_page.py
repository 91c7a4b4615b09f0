"""One page of a rendered report as a PNG for the docs: `python docs/render_page.py reports/B.pdf 1 docs/img/B-p1.png`.

The image is made from a PDF that `python -m hwkit.report ... --run` wrote, never drawn by hand; PDFium
(pypdfium2, a test dependency) renders it as a reader's viewer would.
"""
from __future__ import annotations

import argparse
from pathlib import Path


def render_page(pdf: Path, page: int, out: Path, dpi: int = 60) -> Path:
    import pypdfium2 as pdfium
    document = pdfium.PdfDocument(str(pdf))
    try:
        if not 1 <= page <= len(document):
            raise SystemExit(f"error: {pdf} has {len(document)} pages, not a page {page}")
        out.parent.mkdir(parents=True, exist_ok=True)
        document[page - 1].render(scale=dpi / 72).to_pil().save(out)
    finally:
        document.close()
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pdf", type=Path)
    parser.add_argument("page", type=int, help="1-based page number")
    parser.add_argument("out", type=Path)
    parser.add_argument("--dpi", type=int, default=60)
    args = parser.parse_args()
    print(render_page(args.pdf, args.page, args.out, args.dpi))
