"""The code a run is made of: its files, their SHA-256 (the run's fingerprint) and a copy of each.

A task's code is its module plus every *project* module it imports, transitively — read from the
``import`` statements (anywhere in a file, also inside functions), never by importing anything — with
the ``__init__.py`` of each package on the way. Project modules are those of ``hwkit`` and of the
task's own package (``tasks`` or ``$HWKIT_TASKS``). Each file is named by its path below the folder
that holds its top-level package (``hwkit/runs.py``, ``tasks/<task>.py``): in this checkout, the path
relative to the project root. ``hwkit.submit`` ships the same files in a hand-in bundle;
``hwkit.runs.start_run`` records the hashes of those that make a run (``fingerprint_files``: all but the
modules that only read finished runs, ``READ_RUNS_ONLY``) in ``config.json`` (``code.files``) and keeps each
file once, under its hash, in ``<runs root>/_sources/`` (``keep``), so the code that made a run can
be read back (``read``) even when it was never committed; ``changed`` names the files that differ now.
Imports made by name at run time (``importlib.import_module("x")``) are not seen.
"""
from __future__ import annotations

import ast
import hashlib
import importlib.util
import os
import re
from pathlib import Path, PurePosixPath
from typing import Mapping, Sequence

from hwkit import HwkitError
from hwkit.files import atomic_file

CORE_PACKAGE = "hwkit"
SOURCES_DIR = "_sources"        # in the runs root: one file per distinct content, named by its SHA-256
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def package_root(top: str) -> Path | None:
    """The folder holding the top-level package (or module) ``top`` on ``sys.path``; None if there is none."""
    try:
        spec = importlib.util.find_spec(top)   # for a top-level name this imports nothing
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return Path(os.path.abspath(list(spec.submodule_search_locations)[0])).parent
    return Path(os.path.abspath(spec.origin)).parent if spec.origin and os.path.isfile(spec.origin) else None


def module_file(module: str) -> Path | None:
    """The source file of ``module`` (``pkg.x`` -> pkg/x.py or pkg/x/__init__.py), found without importing its
    packages (a package's ``__init__`` may import TensorFlow); None if there is none."""
    return _Project({module.split(".")[0]}).file(module)


class _Project:
    """Where the modules of a few top-level packages live (looked up once per package)."""

    def __init__(self, packages: set[str]):
        self.roots = {p: package_root(p) for p in packages}

    def file(self, module: str) -> Path | None:
        """The source file of a project module (``pkg.x`` -> pkg/x.py or pkg/x/__init__.py), None if not one."""
        root = self.roots.get(module.split(".")[0])
        if root is None:
            return None
        base = root.joinpath(*module.split("."))
        for p in (base.with_suffix(".py"), base / "__init__.py"):
            if p.is_file():
                return p
        return None

    def name(self, module: str, path: Path) -> str:
        return path.relative_to(self.roots[module.split(".")[0]]).as_posix()

    def imports(self, path: Path, module: str) -> set[str]:
        """Every project module this file imports, anywhere in it (also inside functions)."""
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_bytes(), str(path))):
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
                found.add(base)
                found.update(f"{base}.{a.name}" for a in node.names)
        return {m for m in found if self.file(m)}


# A module another one uses without importing it: hwkit.task.main starts the command line by name.
FOUND_BY_NAME = {"hwkit.task": ("hwkit.cli",)}

# Modules that only read finished runs — render them (report), bundle them (submit), schedule tasks
# (regenerate) — and take no part while a run is made: a run's fingerprint leaves them out (and what only
# they import), so editing a PDF's layout code does not mark every run "made by older code". A hand-in
# bundle still ships them (``module_files`` without ``skip``): its command line imports them.
READ_RUNS_ONLY = ("hwkit.report", "hwkit.submit", "hwkit.regenerate", "hwkit.typeset")


def module_files(modules: Sequence[str], skip: Sequence[str] = ()) -> dict[str, Path]:
    """The files of ``modules`` and of every project module they import, transitively, with the
    ``__init__.py`` of each package on the way (what makes them importable): name -> file, sorted.
    The project is ``hwkit`` plus the top-level packages of ``modules``. A module of ``skip`` is neither
    listed nor followed unless it is one of ``modules``."""
    project = _Project({CORE_PACKAGE, *(m.split(".")[0] for m in modules)})
    todo, files = list(modules), {}
    skipped = set(skip) - set(modules)
    while todo:
        module = todo.pop()
        if module in files or module in skipped:
            continue
        parts = module.split(".")
        todo.extend(".".join(parts[:i]) for i in range(1, len(parts)))   # parent packages
        path = project.file(module)
        if path is None:
            raise HwkitError(f"module {module} has no source file below "
                             f"{project.roots.get(parts[0]) or 'any folder on sys.path'}")
        files[module] = path
        todo.extend(project.imports(path, module))
        todo.extend(FOUND_BY_NAME.get(module, ()))
    return dict(sorted((project.name(m, p), p) for m, p in files.items()))


def code_files(modules: Sequence[str]) -> list[Path]:
    """The files of ``module_files(modules)``."""
    return list(module_files(modules).values())


def fingerprint_files(modules: Sequence[str]) -> dict[str, Path]:
    """The files that make a run of ``modules``: ``module_files`` less ``READ_RUNS_ONLY``."""
    return module_files(modules, skip=READ_RUNS_ONLY)


def keep(modules: Sequence[str], store: Path) -> dict[str, str]:
    """The fingerprint of ``modules`` (``fingerprint_files``: name -> SHA-256), each file kept in ``store`` under
    its hash. The bytes hashed are the bytes kept, so a copy is exactly what its name says even if the file is
    edited meanwhile."""
    fingerprint = {}
    for name, path in fingerprint_files(modules).items():
        content = path.read_bytes()
        digest = hashlib.sha256(content).hexdigest()
        _store(store / digest, content)
        fingerprint[name] = digest
    return fingerprint


def _store(path: Path, content: bytes) -> None:
    """Write ``content`` at ``path`` unless it is there: to a temporary file, then renamed (a reader never sees
    half a file; two processes keeping the same file at once both rename the same bytes into place)."""
    if path.is_file():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path, path.with_name(f".{path.name}.{os.getpid()}.part")) as tmp:
        tmp.write_bytes(content)


def _valid(name: object, digest: object) -> bool:
    """A fingerprint entry as ``keep`` writes it (a run directory is untrusted input: no ``..``, no absolute path)."""
    if not (isinstance(name, str) and isinstance(digest, str) and _SHA256.match(digest)):
        return False
    path = PurePosixPath(name)
    return not path.is_absolute() and ".." not in path.parts and path.suffix == ".py"


def changed(fingerprint: Mapping[str, str]) -> list[str]:
    """The files of ``fingerprint`` that differ now, or are gone; files of a package not found here are left
    out (nothing to compare them with)."""
    roots: dict[str, Path | None] = {}
    differ = []
    for name, digest in fingerprint.items():
        if not _valid(name, digest):
            differ.append(str(name))
            continue
        top = PurePosixPath(name).parts[0].removesuffix(".py")
        root = roots[top] if top in roots else roots.setdefault(top, package_root(top))
        if root is None:
            continue
        try:
            now = hashlib.sha256((root / name).read_bytes()).hexdigest()
        except OSError:
            now = None
        if now != digest:
            differ.append(name)
    return differ


def read(fingerprint: Mapping[str, str], store: Path) -> dict[str, bytes]:
    """The files of ``fingerprint`` as they were (name -> bytes), from the copies in ``store``; one HwkitError
    naming every file whose copy is missing or altered."""
    files, bad = {}, []
    for name, digest in fingerprint.items():
        try:
            content = (store / digest).read_bytes() if _valid(name, digest) else None
        except OSError:
            content = None
        if content is None or hashlib.sha256(content).hexdigest() != digest:
            bad.append(str(name))
        else:
            files[name] = content
    if bad:
        raise HwkitError(f"the kept sources of {', '.join(bad)} are missing or altered in {store}")
    return files
