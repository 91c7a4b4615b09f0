"""List every task with a one-line description (``python -m tasks``)."""
import sys

from hwkit.report import ASSIGNMENTS, tasks_of


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv:
        print(f"error: 'python -m tasks' takes no arguments; run one task with 'python -m tasks.<name>' "
              f"(got {' '.join(argv)!r})", file=sys.stderr)
        return 2
    for letter, title in ASSIGNMENTS.items():
        infos = tasks_of(letter)
        print(f"{letter} — {title}")
        for t in infos:
            print(f"  {t.name:<6} {t.description}")
        if not infos:
            print("  (no tasks yet)")
    print("\nRun one with: python -m tasks.<name> [--quick] [--seed N] [--data-dir D] [--epochs N] [--report]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
