"""List every task with a one-line description (``python -m tasks``)."""
import sys

from hwkit.cli import tasks_main

if __name__ == "__main__":
    sys.exit(tasks_main())
