"""Writes the site's reference.md from the command line's own parsers (the mkdocs-gen-files plugin runs it).

The text is ``hwkit.cli.command_reference()``: every command's ``--help``, never typed by hand, so the
reference cannot drift from the program.
"""
import sys
from pathlib import Path

import mkdocs_gen_files

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # hwkit and tasks from this checkout, installed or not
from hwkit.cli import command_reference  # noqa: E402

with mkdocs_gen_files.open("reference.md", "w") as f:
    f.write(command_reference())
