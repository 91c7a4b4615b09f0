"""Typesetting for the reports: values as words a reader expects, formulas as mathematics.

A template never prints a Python repr: ``words`` turns booleans, lists and identifiers into prose
(``[2, 4, 8]`` → "2, 4 and 8", ``True`` → "yes", ``train_accuracy`` → "train accuracy"); ``math``
renders a TeX formula (matplotlib's mathtext subset) as an SVG image, displayed or inline, since
WeasyPrint renders no MathML (Kozea/WeasyPrint#59). The SVG is a ``data:`` URL: nothing is fetched.
"""
from __future__ import annotations

import base64
import functools
import html
import io
import re
from typing import Iterable

import markupsafe

MATH_FONT_PT = 10.5   # a shade above the 9.5 pt body text: mathtext's glyphs read small beside DejaVu Sans


def words(value, conjunction: str = "and") -> str:
    """``value`` as a reader writes it: yes/no, "a, b and c", "learning rate" for ``learning_rate``.

    Numbers keep their short form (``0.1``, not ``0.1000``); ``None`` is "none"; a mapping is
    "key value" pairs joined like a list. Strings that are not identifiers are left as they are.
    """
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value.replace("_", " ") if re.fullmatch(r"[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)+", value) else value
    if isinstance(value, dict):
        return words([f"{words(k)} {words(v)}" for k, v in value.items()], conjunction)
    if isinstance(value, Iterable):
        items = [words(v, conjunction) for v in value]
        if len(items) <= 1:
            return "".join(items) or "none"
        return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"
    return str(value)


@functools.lru_cache(maxsize=1024)
def _math_svg(tex: str, size_pt: float) -> tuple[str, float, float]:
    """``tex`` drawn by mathtext: (SVG text, its height in pt, its depth below the baseline in pt)."""
    from matplotlib import mathtext
    from matplotlib.font_manager import FontProperties
    parser = mathtext.MathTextParser("path")
    prop = FontProperties(size=size_pt)
    width, height, depth, _, _ = parser.parse(f"${tex}$", dpi=72, prop=prop)
    buffer = io.BytesIO()
    mathtext.math_to_image(f"${tex}$", buffer, prop=prop, dpi=72, format="svg")
    return buffer.getvalue().decode(), float(height), float(depth)


def math(tex: str, display: bool = True, size_pt: float = MATH_FONT_PT) -> markupsafe.Markup:
    """``tex`` as an ``<img>`` of its SVG: a centred displayed equation, or inline on the text's baseline.

    Raises ValueError for a formula mathtext cannot parse (a template's bug, caught by the tests).
    """
    svg, height, depth = _math_svg(str(tex), float(size_pt))
    url = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")
    alt = html.escape(str(tex), quote=True)
    if display:
        return markupsafe.Markup(f'<div class="math"><img src="{url}" alt="{alt}" style="height: {height:.2f}pt">'
                                 f'</div>')
    return markupsafe.Markup(f'<img class="imath" src="{url}" alt="{alt}" '
                             f'style="height: {height:.2f}pt; vertical-align: -{depth:.2f}pt">')
