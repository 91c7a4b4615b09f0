"""Pure rendering: the latest runs of an assignment's tasks + a Jinja2 template -> one PDF (WeasyPrint).

``render`` is handed the tasks of one assignment (``TaskInfo``: name, description, the tasks it
reads); each task's latest *complete full* run goes to ``templates/<X>.html`` as ``runs[name]``
(a ``hwkit.runs.RunRecord`` or None, shown as "not run"). An assignment without a template of
its own is laid out by ``templates/generic.html``: per task its key metrics, tables and figures.
``include_quick`` lets quick runs stand in for missing full runs, each marked as a smoke result.
``facts`` are the settings a template states that no run records (library constants such as an
optimizer's momentum), computed in Python by the assignment's science module; ``hwkit.cli.report_facts``
collects them from the task package's ``REPORT_FACTS``. A template only formats them.
``benchmarks`` maps a task to the benchmark scripts its section shows, which write run directories
(``runs/<name>/``, e.g. a table of ablations); for the tasks a PDF shows, their latest complete runs go
to the template as ``benchmarks[name]`` and into the appendix (a PDF without the task lists none).
Nothing here starts a training or imports a task: ``hwkit.task`` discovers tasks, ``hwkit.cli`` runs them.
Run directories are untrusted input: the PDF fetches only files inside the runs it shows and the
templates, never the network (``write_pdf``). ``render(..., html=True)`` writes the same templates as one
self-contained page for a browser, its figures embedded under the same rule (``write_html``).
The command line is ``python -m hwkit.report X [--html]`` (see ``hwkit.cli.report_main``).
"""
from __future__ import annotations

import base64
import datetime as _dt
import html as _html
import json
import mimetypes
import os
import re
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Mapping, Sequence

import jinja2
import markupsafe

from hwkit import HwkitError, runs, typeset
from hwkit.files import atomic_file
from hwkit.task import TaskInfo

ROOT = Path(__file__).resolve().parent.parent
# The templates live in the checkout's top-level templates/; an installed wheel carries them as package data
# (setup.py maps them to hwkit/templates), so rendering works wherever the package is installed.
_PACKAGED_TEMPLATES = Path(__file__).resolve().parent / "templates"
TEMPLATES = _PACKAGED_TEMPLATES if _PACKAGED_TEMPLATES.is_dir() else ROOT / "templates"
GENERIC_TEMPLATE = "generic.html"


def _git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, timeout=10).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _scientific(v, always: bool = False) -> markupsafe.Markup:
    """A number as HTML in powers of ten: 1e-06 -> 10<sup>−6</sup>, 2.5e-05 -> 2.5·10<sup>−5</sup>.

    Numbers that print short without an exponent stay plain (0.001), unless ``always``: 5e-4 -> 5·10<sup>−4</sup>.
    """
    if v is None:
        return markupsafe.Markup("n/a")
    text = f"{float(v):.3g}"
    if always and "e" not in text and float(v) != 0:
        mantissa, _, exponent = f"{float(v):.2e}".partition("e")
        text = f"{float(mantissa):g}e{exponent}"
    mantissa, _, exponent = text.partition("e")
    if not exponent:
        return markupsafe.Markup(mantissa)
    power = f"10<sup>{int(exponent)}</sup>".replace("-", "−")
    return markupsafe.Markup(power if mantissa == "1" else f"{mantissa}·{power}")


def _environment(uri=None) -> jinja2.Environment:
    """The templates' environment. ``uri`` turns a figure's path into the URL its ``<img>`` shows (the HTML
    report embeds it as a ``data:`` URL); by default a ``file:`` URL, fetched by ``write_pdf``."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                             autoescape=jinja2.select_autoescape(["html"]), undefined=jinja2.StrictUndefined)
    env.filters["pct"] = lambda v, digits=2: "n/a" if v is None else f"{100 * float(v):.{digits}f}%"
    env.filters["num"] = lambda v, digits=4: "n/a" if v is None else (
        f"{v:.{digits}g}" if isinstance(v, float) else str(v))
    env.filters["sci"] = _scientific
    env.filters["uri"] = uri or _file_uri
    env.filters["tojson"] = lambda v: json.dumps(v)
    env.filters["file_list"] = runs.file_list
    env.filters["words"] = typeset.words
    env.filters["math"] = typeset.math                                  # a displayed equation
    env.filters["imath"] = lambda tex: typeset.math(tex, display=False)  # inline, on the baseline
    return env


def _file_uri(path) -> str:
    # lexical, not resolved: a figure that is a link out of its run must reach the fetcher as a run's file
    return Path(os.path.abspath(path)).as_uri()


def template_name(assignment: str) -> str:
    """``X.html`` when the assignment has a template of its own, else the generic layout."""
    return f"{assignment}.html" if (TEMPLATES / f"{assignment}.html").is_file() else GENERIC_TEMPLATE


def context(assignment: str, title: str, tasks: Sequence[TaskInfo], include_quick: bool = False,
            facts: Mapping | None = None, benchmarks: Mapping | None = None) -> dict:
    """What a template sees. ``runs`` has a key for each task of ``tasks`` only: a template laid out for
    every task of the assignment renders just those sections (how per-problem PDFs are made).
    ``appendix`` is ``hwkit.runs.appendix`` of the runs shown: the PDF's reproducibility appendix.
    ``facts``: the assignment's fixed settings that runs do not record (see the module docstring)."""
    latest = {t.name: runs.latest_run(t.name, include_quick=include_quick) for t in tasks}
    measured = {name: runs.latest_run(name, include_quick=include_quick)
                for t in tasks for name in (benchmarks or {}).get(t.name, ())}
    return {
        "assignment": assignment,
        "title": title,
        "tasks": list(tasks),
        "runs": latest,
        "benchmarks": measured,
        "appendix": runs.appendix([r for r in [*latest.values(), *measured.values()] if r is not None]),
        # sum of the shown runs' own wall times, for a "runs behind this report" table
        "total_wall_time_s": sum(r.metrics.get("wall_time_s", 0.0) for r in latest.values() if r),
        "include_quick": include_quick,
        "facts": dict(facts or {}),
        "generated": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": _git_commit(),
    }


def render_html(assignment: str, title: str, tasks: Sequence[TaskInfo], include_quick: bool = False,
                facts: Mapping | None = None, benchmarks: Mapping | None = None) -> str:
    return _environment().get_template(template_name(assignment)).render(
        **context(assignment, title, tasks, include_quick, facts, benchmarks))


def render(assignment: str, title: str, tasks: Sequence[TaskInfo], include_quick: bool = False,
           out_dir: Path | str = "reports", filename: str | None = None, facts: Mapping | None = None,
           benchmarks: Mapping | None = None, html: bool = False) -> Path:
    """Render ``<out_dir>/<filename or assignment>.pdf`` atomically and return its path; with ``html``,
    ``<assignment>.html`` instead: the same templates as one page for a browser, figures embedded (``write_html``).

    ``tasks`` may be a subset of the assignment's tasks (e.g. one problem of it): only their
    sections, runs and appendix entries appear. Neither form reads a file outside the runs it shows
    (see ``write_pdf``, ``write_html``).
    """
    values = context(assignment, title, tasks, include_quick, facts, benchmarks)
    shown = [r.path for r in [*values["runs"].values(), *values["benchmarks"].values()] if r is not None]
    out_dir = Path(out_dir)
    out = out_dir / (filename or f"{assignment}.{'html' if html else 'pdf'}")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with atomic_file(out) as tmp:
            if html:
                write_html(template_name(assignment), values, shown, tmp)
            else:
                write_pdf(_environment().get_template(template_name(assignment)).render(**values), shown, tmp)
    except OSError as e:
        raise HwkitError(f"cannot write {out}: {e.strerror or e}; choose a writable --out-dir") from None
    return out


# A browser reads the HTML report: nothing may run or load from anywhere (inline CSS and data: images only),
# and the page keeps a readable width on a wide screen.
_SCREEN_HEAD = ('<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src data:; '
                'style-src \'unsafe-inline\'">\n'
                '<style>@media screen { body { max-width: 182mm; margin: 8mm auto; padding: 0 4mm; } }</style>\n')


def write_html(template: str, values: Mapping, run_dirs: Sequence[Path], path: Path) -> None:
    """``template`` rendered as one self-contained HTML page at ``path``, for reading in a browser.

    Each figure is embedded as a ``data:`` URL, read under ``write_pdf``'s rule (only files whose real path lies in
    ``run_dirs`` or the templates folder; anything else gets one warning line and is shown as missing). An SVG is
    shown by ``<img>``, where a browser runs none of its scripts and fetches nothing it refers to; what it refers to
    inside its run is embedded in it the same way, so it draws as in the PDF.
    """
    files = _RunFiles(run_dirs)
    page = _environment(uri=lambda p: files.data_url(_file_uri(p))).get_template(template).render(**values)
    head = page.find("<head>")
    if head >= 0:   # right after <head>: the policy covers everything the page holds
        page = page[:head + len("<head>")] + "\n" + _SCREEN_HEAD + page[head + len("<head>"):]
    path.write_text(page, encoding="utf-8")


def write_pdf(html: str, run_dirs: Sequence[Path], path: Path) -> None:
    """``html`` as a PDF at ``path``. Run directories travel between people, so whatever the page or a figure
    refers to (``<img>``, an SVG's ``<image>``, CSS ``url()``, inline ``<svg>``) is fetched only when it is a
    ``data:`` URL or a file whose real path lies in ``run_dirs`` or the templates folder; anything else (another
    file, a link out of a run, any network URL) gets one warning line and is left out of the PDF."""
    import weasyprint
    weasyprint.HTML(string=html, base_url=TEMPLATES, url_fetcher=_run_files_fetcher(run_dirs)).write_pdf(path)


# href="...", xlink:href="...", url(...), @import "...": what an SVG may make the renderer fetch
_REFERENCE = re.compile(r"""href\s*=\s*["']([^"']*)["']|url\(\s*["']?([^"')]*)["']?\s*\)|@import\s+["']([^"']*)["']""")


def _local_path(url: str) -> Path | None:
    """The path a ``file:`` URL names on this machine (None for any other URL)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
        return None
    return Path(urllib.request.url2pathname(parts.path))


class _RunFiles:
    """What a report may read, for the PDF (``write_pdf``) and the HTML page (``write_html``) alike: a file whose
    real path lies in ``run_dirs`` or the templates folder. Any other file, a link out of a run or a network URL
    gets one warning line, naming the run and figure that refers to it, and is refused."""

    def __init__(self, run_dirs: Sequence[Path]):
        self.allowed = [Path(d).resolve() for d in run_dirs] + [TEMPLATES.resolve()]
        self.lexical = {Path(os.path.abspath(d)): Path(d) for d in run_dirs}   # to name the run a refused file is in
        self.referenced: dict[str, tuple[Path, str]] = {}   # URL -> (run, its figure that refers to it)
        self.refused: set[str] = set()

    def read(self, url: str) -> tuple[bytes, str]:
        """The body and media type of ``url``; ValueError when refused (warned), FileNotFoundError when missing."""
        path = _local_path(url)
        real = path.resolve() if path is not None else None
        if real is None or not any(real.is_relative_to(d) for d in self.allowed):
            self._warn(url, path, real)
            raise ValueError(f"{url} is outside the runs this report shows: not fetched")
        if not real.is_file():   # missing, a folder, a FIFO (which would block the read)
            raise FileNotFoundError(f"{url} is not a file")
        body = real.read_bytes()
        if real.suffix.lower() == ".svg":
            self._remember_references(real, url, body)
        return body, mimetypes.guess_type(real.name)[0] or "application/octet-stream"

    def data_url(self, url: str, depth: int = 0) -> str:
        """``url`` as a ``data:`` URL (``data:,`` when refused or missing). In an SVG, each reference to another
        file is replaced the same way, so the SVG needs nothing outside itself (nested at most 4 deep)."""
        if url.lower().startswith("data:"):
            return url
        try:
            body, kind = self.read(url)
        except (ValueError, OSError):
            return "data:,"
        if kind == "image/svg+xml":
            def embed(match: re.Match) -> str:
                group = next(i for i, g in enumerate(match.groups(), 1) if g is not None)
                href = _html.unescape(match.group(group)).strip()
                if href.startswith(("#", "data:")):   # matplotlib's own: clip paths, glyphs, inline rasters
                    return match.group(0)
                target = "data:," if depth >= 4 else self.data_url(urllib.parse.urljoin(url, href), depth + 1)
                start, end = match.start(group) - match.start(0), match.end(group) - match.start(0)
                return match.group(0)[:start] + target + match.group(0)[end:]
            body = _REFERENCE.sub(embed, body.decode(errors="replace")).encode()
        return f"data:{kind};base64,{base64.b64encode(body).decode('ascii')}"

    def _remember_references(self, real: Path, url: str, svg: bytes) -> None:
        run = next((d for d in self.allowed[:-1] if real.is_relative_to(d)), None)
        if run is None:
            return
        for match in _REFERENCE.finditer(svg.decode(errors="replace")):
            href = _html.unescape(next(g for g in match.groups() if g is not None)).strip()
            if not href.startswith(("#", "data:")):   # matplotlib's own: clip paths, glyphs, inline rasters
                target = urllib.parse.unquote(urllib.parse.urljoin(url, href))
                self.referenced.setdefault(target, (run, real.relative_to(run).as_posix()))

    def _warn(self, url: str, path: Path | None, real: Path | None) -> None:
        if url in self.refused:
            return
        self.refused.add(url)
        link = f" (a link to {real})" if path is not None and real != Path(os.path.abspath(path)) else ""
        run, figure = self.referenced.get(urllib.parse.unquote(url), (None, None))
        if figure is not None:
            subject = f"{runs.relative_path(run)}: figure {figure} refers to {url}{link}"
        else:
            inside = next(((d, r) for d, r in self.lexical.items() if path is not None and path.is_relative_to(d)),
                          None)
            subject = (f"{runs.relative_path(inside[1])}: {path.relative_to(inside[0]).as_posix()}{link}" if inside
                       else f"a figure refers to {url}{link}")
        print(f"warning: {subject}: not fetched, outside the runs this report shows (shown as missing)",
              file=sys.stderr)


def _run_files_fetcher(run_dirs: Sequence[Path]):
    """A WeasyPrint URL fetcher that serves ``data:`` URLs and what ``_RunFiles`` allows, nothing else."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    files = _RunFiles(run_dirs)

    class RunFilesFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            if url.lower().startswith("data:"):
                return super().fetch(url, headers)
            body, kind = files.read(url)
            return URLFetcherResponse(url, body, {"Content-Type": kind})

    return RunFilesFetcher()


if __name__ == "__main__":  # python -m hwkit.report X: the command line lives with every other entry point
    from hwkit.cli import report_main
    sys.exit(report_main())
