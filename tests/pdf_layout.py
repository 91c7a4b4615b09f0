"""Layout of a PDF as a reader sees it: every page rendered by a real PDF renderer (PDFium).

``layout_problems(pdf)`` renders each page to pixels and reports, per page, ink inside the
left/right page margins (a table or figure running past the text block) and blank pages.
The page footer sits in the bottom margin, so only the side margins are checked.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

MM_PER_POINT = 25.4 / 72


def page_images(pdf_path: Path | str, dpi: int = 50):
    """Yield each page as a (H, W) uint8 grey image and its width in mm."""
    import pypdfium2 as pdfium
    pdf = pdfium.PdfDocument(str(pdf_path))
    try:
        for page in pdf:
            width_mm = page.get_width() * MM_PER_POINT
            bitmap = page.render(scale=dpi / 72, grayscale=True)
            image = np.asarray(bitmap.to_numpy()).copy()
            yield image.reshape(image.shape[0], image.shape[1], -1)[..., 0], width_mm
            page.close()
    finally:
        pdf.close()


def layout_problems(pdf_path: Path | str, side_margin_mm: float = 14.0, tolerance_mm: float = 1.0,
                    dpi: int = 50) -> list[str]:
    """One line per problem: 'page N: ink Xmm into the right margin' or 'page N: blank'."""
    problems = []
    for n, (image, width_mm) in enumerate(page_images(pdf_path, dpi), start=1):
        ink = image < 200                          # anything visibly darker than the white paper
        if not ink.any():
            problems.append(f"page {n}: blank")
            continue
        px_per_mm = image.shape[1] / width_mm
        columns = np.flatnonzero(ink.any(axis=0))
        limit = (side_margin_mm - tolerance_mm) * px_per_mm
        left, right = columns[0], image.shape[1] - 1 - columns[-1]
        if right < limit:
            problems.append(f"page {n}: ink {(side_margin_mm - right / px_per_mm):.1f} mm into the right margin")
        if left < limit:
            problems.append(f"page {n}: ink {(side_margin_mm - left / px_per_mm):.1f} mm into the left margin")
    return problems


def path_objects_per_page(pdf_path: Path | str) -> list[int]:
    """Vector path objects on each page (inside form XObjects too): an SVG figure adds hundreds."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw
    pdf = pdfium.PdfDocument(str(pdf_path))
    try:
        return [sum(obj.type == raw.FPDF_PAGEOBJ_PATH for obj in page.get_objects(max_depth=8)) for page in pdf]
    finally:
        pdf.close()


def report_figures(assignment: str, include_quick: bool = True) -> int:
    """How many figures the assignment's report embeds (SVG: vector drawings, so not counted as PDF images)."""
    from hwkit import cli, report
    html = report.render_html(assignment, cli.assignments()[assignment], cli.discover_tasks(assignment),
                              include_quick=include_quick, facts=cli.report_facts(assignment))
    return html.count("<figure><img")
