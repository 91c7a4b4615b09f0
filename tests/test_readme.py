"""README's two commands stay true (.ci/run runs the test command verbatim); the docs name every task."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def readme_commands():
    return re.findall(r"```bash\n(pip install[^\n]+)\n```", README.read_text())


def test_two_commands_and_ci_runs_the_test_command():
    main_job, tests = readme_commands()
    assert "hwkit.report B --run" in main_job and "pytest" in tests
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert tests in ci and ci[-1] == tests, "the last line of .ci/run must be README's test command"


def test_readme_is_short_and_its_links_exist():
    text = README.read_text()
    assert len(text.splitlines()) <= 150, "README.md is the front door: the manual belongs in docs/"
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text)
    assert links and all((ROOT / link).is_file() for link in links), [x for x in links if not (ROOT / x).is_file()]


def test_every_task_is_documented_on_its_assignment_page():
    names = sorted(p.stem for p in (ROOT / "tasks").glob("[a-e]*.py"))
    assert names, "no task modules found"
    missing = [n for n in names
               if f"tasks.{n}" not in (ROOT / "docs" / "assignments" / f"{n[0]}.md").read_text()]
    assert not missing, f"tasks not named (as tasks.<name>) on their docs/assignments/<letter>.md page: {missing}"
