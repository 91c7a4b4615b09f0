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


# ----------------------------------------------------------------------------- page layout from WeasyPrint's boxes
# Where a page breaks is known exactly only to the renderer: these checks lay the report's HTML out with WeasyPrint
# (as write_pdf does) and read its page boxes. The box tree is WeasyPrint's internal API, so it is read here only,
# in the tests, behind one version check.
LAYOUT_TESTED_WITH = ("70.",)
LEAF_BLOCKS = {"h1", "h2", "h3", "h4", "p", "table", "figure", "pre", "ol", "ul", "img"}
HEADINGS = {"h1", "h2", "h3", "h4"}


def _page_boxes(html: str):
    import weasyprint
    if not weasyprint.__version__.startswith(LAYOUT_TESTED_WITH):
        raise RuntimeError(f"pdf_layout reads WeasyPrint {LAYOUT_TESTED_WITH}'s page boxes; "
                           f"this is {weasyprint.__version__}: check _page_boxes still holds")
    from hwkit import report
    document = weasyprint.HTML(string=html, base_url=report.TEMPLATES).render()
    return [page._page_box for page in document.pages]


def _walk(box, depth=0):
    yield box, depth
    for child in getattr(box, "children", None) or []:
        yield from _walk(child, depth + 1)


def _is_block(box) -> bool:
    from weasyprint.formatting_structure import boxes
    return isinstance(box, (boxes.BlockBox, boxes.TableBox, boxes.TableRowBox)) and not isinstance(
        box, (boxes.InlineBlockBox,))


def _classes(box) -> set[str]:
    element = getattr(box, "element", None)
    return set((element.get("class") or "").split()) if element is not None else set()


def _text(box) -> str:
    element = getattr(box, "element", None)
    return " ".join("".join(element.itertext()).split())[:60] if element is not None else ""


def html_layout_problems(html: str, min_fill: float = 1 / 3) -> list[str]:
    """One line per problem in the laid-out pages of ``html``:

    - 'page N: near-empty (F% full)': content ends above ``min_fill`` of the page's height, and the page is neither
      the last nor the end of a section (the next page does not open with a top-level heading);
    - 'page N: heading "…" at the foot' / 'page N: lead-in "…" at the foot': the page's last block is a heading, or
      a paragraph of class "lead" (which introduces what follows);
    - 'pages N–N+1: table row "…" split': a table row laid out on two pages (a <thead> row, which WeasyPrint
      repeats on each page of a table that runs on, is not one).
    """
    pages = _page_boxes(html)
    problems, row_pages = [], {}
    for n, page in enumerate(pages, start=1):
        top = page.content_box_y()
        height = page.height
        blocks = [(b, d) for b, d in _walk(page) if _is_block(b) and getattr(b, "element_tag", None)]
        leaves = [b for b, _ in blocks if b.element_tag in LEAF_BLOCKS or "math" in _classes(b)]
        bottom = max((b.position_y + b.margin_height() for b in leaves), default=top)
        if n < len(pages):
            following = [b for b, _ in ((b, d) for b, d in _walk(pages[n]) if _is_block(b))
                         if getattr(b, "element_tag", None) in LEAF_BLOCKS]
            opens_section = bool(following) and following[0].element_tag in ("h1", "h2")
            fill = (bottom - top) / height
            if fill < min_fill and not opens_section:
                problems.append(f"page {n}: near-empty ({100 * fill:.0f}% full)")
            if leaves:
                last = max(leaves, key=lambda b: (b.position_y + b.margin_height(), b.position_y))
                if last.element_tag in HEADINGS:
                    problems.append(f'page {n}: heading "{_text(last)}" at the foot')
                elif last.element_tag == "p" and "lead" in _classes(last):
                    problems.append(f'page {n}: lead-in "{_text(last)}" at the foot')
        # A header row (in <thead>) is repeated on every page a long table runs on to: not a split.
        header_rows = {id(row.element) for b, _ in _walk(page) if getattr(b, "is_header", False) for row in b.children}
        for b, _ in blocks:
            if b.element_tag == "tr" and id(b.element) not in header_rows:
                row_pages.setdefault(id(b.element), (b, set()))[1].add(n)
    for box, numbers in row_pages.values():
        if len(numbers) > 1:
            problems.append(f'pages {min(numbers)}–{max(numbers)}: table row "{_text(box)}" split')
    return problems


def duplicate_headings(html: str) -> list[str]:
    """Headings that repeat inside one section (the same h3 text twice under one h2): a reader cannot cite them."""
    import re
    seen, duplicates, section = set(), [], ""
    for level, text in re.findall(r"<h([23])[^>]*>(.*?)</h\1>", html, flags=re.S):
        text = " ".join(re.sub(r"<[^>]+>", "", text).split())
        if level == "2":
            section = text
            continue
        if (section, text) in seen:
            duplicates.append(f'"{text}" twice under "{section}"')
        seen.add((section, text))
    return duplicates
