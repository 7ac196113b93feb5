"""The worked example of docs/workflows.md, "Changing a deployed workflow", run as written (issue 11 point 5):
its code blocks in order, their printed output compared with the text block that follows them."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "workflows.md"


def _section(title: str) -> str:
    text = DOC.read_text()
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end >= 0 else None]


def test_changing_a_deployed_workflow_example_runs_as_documented() -> None:
    section = _section("Changing a deployed workflow")
    blocks = re.findall(r"```(python|text)\n(.*?)```", section, flags=re.S)
    code = [body for kind, body in blocks if kind == "python"]
    expected = "".join(body for kind, body in blocks if kind == "text")
    assert len(code) == 2 and expected
    namespace: dict[str, object] = {"__name__": "__docs__"}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for body in code:
            exec(compile(body, f"{DOC}:changing-a-deployed-workflow", "exec"), namespace)
    assert out.getvalue() == expected


def test_a_deploy_that_changes_the_correlation_keys_example_runs_as_documented() -> None:
    section = _section("A deploy that changes the correlation keys")
    blocks = re.findall(r"```(python|text)\n(.*?)```", section, flags=re.S)
    (code,) = [body for kind, body in blocks if kind == "python"]
    expected = "".join(body for kind, body in blocks if kind == "text")
    namespace: dict[str, object] = {"__name__": "__docs__"}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, f"{DOC}:a-deploy-that-changes-the-correlation-keys", "exec"), namespace)
    shown = re.sub(r"execution [0-9a-f-]{36},", "execution EXECUTION,", out.getvalue())
    assert shown == expected
