"""mkdocs-gen-files script: reference.md, every command's ``--help`` as its parser prints it.

A minimal stand-in until the command-line helper's generator lands: it runs each command with
``--help`` and writes the output in a code block, so nothing in the reference is typed by hand.
"""
import os
import subprocess
import sys
from pathlib import Path

import mkdocs_gen_files

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = [["tasks"], ["tasks.b1"], ["hwkit.report"], ["hwkit.submit"], ["hwkit.data"]]
env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
           COLUMNS="100")

with mkdocs_gen_files.open("reference.md", "w") as f:
    f.write("# Command reference\n\nGenerated from the argparse parsers at build time (`--help` of each command). "
            "Every task takes the flags of `python -m tasks.b1 --help` shown here (the common flags) plus its own.\n")
    for module in COMMANDS:
        argv = [sys.executable, "-m", *module, "--help"] if module != ["tasks"] else [sys.executable, "-m", "tasks"]
        out = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        f.write(f"\n## `python -m {' '.join(module)}`\n\n```text\n{(out.stdout or out.stderr).rstrip()}\n```\n")
