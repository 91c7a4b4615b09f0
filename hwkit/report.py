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
templates, never the network (``write_pdf``).
The command line is ``python -m hwkit.report X`` (see ``hwkit.cli.report_main``).
"""
from __future__ import annotations

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

from hwkit import HwkitError, runs
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


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                             autoescape=jinja2.select_autoescape(["html"]), undefined=jinja2.StrictUndefined)
    env.filters["pct"] = lambda v, digits=2: "n/a" if v is None else f"{100 * float(v):.{digits}f}%"
    env.filters["num"] = lambda v, digits=4: "n/a" if v is None else (
        f"{v:.{digits}g}" if isinstance(v, float) else str(v))
    env.filters["sci"] = _scientific
    # lexical, not resolved: a figure that is a link out of its run must reach the fetcher as a run's file
    env.filters["uri"] = lambda p: Path(os.path.abspath(p)).as_uri()
    env.filters["tojson"] = lambda v: json.dumps(v)
    env.filters["file_list"] = runs.file_list
    return env


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
           benchmarks: Mapping | None = None) -> Path:
    """Render ``<out_dir>/<filename or assignment>.pdf`` atomically and return its path.

    ``tasks`` may be a subset of the assignment's tasks (e.g. one problem of it): only their
    sections, runs and appendix entries appear. The PDF reads no file outside the runs it shows
    (see ``write_pdf``).
    """
    values = context(assignment, title, tasks, include_quick, facts, benchmarks)
    html = _environment().get_template(template_name(assignment)).render(**values)
    shown = [r.path for r in [*values["runs"].values(), *values["benchmarks"].values()] if r is not None]
    out_dir = Path(out_dir)
    out = out_dir / (filename or f"{assignment}.pdf")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with atomic_file(out, out.with_suffix(".pdf.part")) as tmp:
            write_pdf(html, shown, tmp)
    except OSError as e:
        raise HwkitError(f"cannot write {out}: {e.strerror or e}; choose a writable --out-dir") from None
    return out


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


def _run_files_fetcher(run_dirs: Sequence[Path]):
    """A WeasyPrint URL fetcher that serves only what ``write_pdf`` allows and warns once per refused URL."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    allowed = [Path(d).resolve() for d in run_dirs] + [TEMPLATES.resolve()]
    lexical = {Path(os.path.abspath(d)): Path(d) for d in run_dirs}   # to name the run a refused file lies in
    referenced: dict[str, tuple[Path, str]] = {}   # URL -> (run, its figure that refers to it), for the warning
    refused: set[str] = set()

    def remember_references(real: Path, url: str, svg: bytes) -> None:
        run = next((d for d in allowed[:-1] if real.is_relative_to(d)), None)
        if run is None:
            return
        for match in _REFERENCE.finditer(svg.decode(errors="replace")):
            href = _html.unescape(next(g for g in match.groups() if g is not None)).strip()
            if not href.startswith(("#", "data:")):   # matplotlib's own: clip paths, glyphs, inline rasters
                target = urllib.parse.unquote(urllib.parse.urljoin(url, href))
                referenced.setdefault(target, (run, real.relative_to(run).as_posix()))

    def warn(url: str, path: Path | None, real: Path | None) -> None:
        if url in refused:
            return
        refused.add(url)
        link = f" (a link to {real})" if path is not None and real != Path(os.path.abspath(path)) else ""
        run, figure = referenced.get(urllib.parse.unquote(url), (None, None))
        if figure is not None:
            subject = f"{runs.relative_path(run)}: figure {figure} refers to {url}{link}"
        else:
            inside = next(((d, r) for d, r in lexical.items() if path is not None and path.is_relative_to(d)), None)
            subject = (f"{runs.relative_path(inside[1])}: {path.relative_to(inside[0]).as_posix()}{link}" if inside
                       else f"a figure refers to {url}{link}")
        print(f"warning: {subject}: not fetched, outside the runs this report shows (shown as missing)",
              file=sys.stderr)

    class RunFilesFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            if url.lower().startswith("data:"):
                return super().fetch(url, headers)
            path = _local_path(url)
            real = path.resolve() if path is not None else None
            if real is None or not any(real.is_relative_to(d) for d in allowed):
                warn(url, path, real)
                raise ValueError(f"{url} is outside the runs this report shows: not fetched")
            if not real.is_file():   # missing, a folder, a FIFO (which would block the read)
                raise FileNotFoundError(f"{url} is not a file")
            body = real.read_bytes()
            if real.suffix.lower() == ".svg":
                remember_references(real, url, body)
            kind = mimetypes.guess_type(real.name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, body, {"Content-Type": kind})

    return RunFilesFetcher()


if __name__ == "__main__":  # python -m hwkit.report X: the command line lives with every other entry point
    from hwkit.cli import report_main
    sys.exit(report_main())
