"""Writes the site's reference.md from the command line's own parsers (the mkdocs-gen-files plugin runs it).

The text is ``hwkit.cli.command_reference()``: every command's ``--help``, never typed by hand, so the
reference cannot drift from the program.
"""
import mkdocs_gen_files

from hwkit.cli import command_reference

with mkdocs_gen_files.open("reference.md", "w") as f:
    f.write(command_reference())
