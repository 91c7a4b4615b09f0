"""README's two commands stay true: .ci/run runs the test command verbatim; documented commands exist."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands():
    return re.findall(r"```bash\n(pip install[^\n]+)\n```", (ROOT / "README.md").read_text())


def test_two_commands_and_ci_runs_the_test_command():
    main_job, tests = readme_commands()
    assert "hwkit.report B --run" in main_job and "pytest" in tests
    assert tests in (ROOT / ".ci" / "run").read_text().splitlines()


def test_every_task_module_is_documented_in_readme():
    readme = (ROOT / "README.md").read_text()
    names = sorted(p.stem for p in (ROOT / "tasks").glob("[a-e]*.py"))
    assert names, "no task modules found"
    missing = [n for n in names if f"tasks.{n}" not in readme]
    assert not missing, f"tasks not mentioned in README.md: {missing}"
