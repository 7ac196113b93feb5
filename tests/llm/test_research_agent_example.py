"""Reference example E-12 (examples/research_agent.py) runs and prints its story, unlike the reference's, which
failed at class definition (L-50)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_research_agent_example_runs_E12_L50():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OLLAMA_", "RESEARCH_"))}
    done = subprocess.run([sys.executable, "examples/research_agent.py"], cwd=ROOT, env={**env, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "==> Starting research...",
        "waiting? True for ['search_completed']",
        "planned queries: ['durable workflow engines', 'LLM tool calling', 'event sourcing audit']",
        "",
        "==> Delivering search results...",
        "succeeded? True",
        "summary: Durable engines persist each step so long waits survive restarts, and tool calls can be such waits. "
        "The results come from 3 sources.",
        "llm calls: 3, tokens: 322 in / 64 out",
    ]
