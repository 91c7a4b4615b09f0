"""``python -m hwkit <command> ...``: the ``hwkit`` command (``hwkit.cli.main``) without installing its script."""
import sys

from hwkit.cli import main

if __name__ == "__main__":
    sys.exit(main(prog="python -m hwkit"))
