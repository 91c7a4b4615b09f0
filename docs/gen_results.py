"""mkdocs-gen-files script: every ``<!-- results:NAME -->`` in a page is followed by its generated section.

The sections come from ``benchmarks/results/*.json`` through ``benchmarks/results.py`` (the same code
that writes README's results block), so no measured number is typed into a page by hand.
"""
import sys
from pathlib import Path

import mkdocs_gen_files

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))
import results  # noqa: E402

for page in sorted((ROOT / "docs").rglob("*.md")):
    name = page.relative_to(ROOT / "docs").as_posix()
    text = page.read_text()
    if results.MARKER.search(text):
        with mkdocs_gen_files.open(name, "w") as f:
            f.write(results.fill_markers(text))
