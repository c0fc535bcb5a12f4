"""What every grading sandbox in a course image must do, checked the same way for each backend
(the container executor, the Kubernetes pod): grade the ml course right, and let learner code reach nothing."""

from __future__ import annotations

from pathlib import Path

import nbformat

from autoformation.courses.checking import platform_scores
from autoformation.grading import executor

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "courses" / "ml" / "source" / "01-premiers-modeles" / "01-premiers-modeles.ipynb"
LIMITS = executor.Limits(cell_timeout=60, wall_timeout=300, memory_mb=2048, cpu_seconds=300, max_output_kb=64)


def solution_full_marks_and_wrong_answer_zero(sandbox, between=lambda: None) -> None:
    """`between` runs after the solution's grading (to check what the backend did for it)."""
    source = nbformat.read(SOURCE, as_version=4)
    points = {c.metadata["nbgrader"]["grade_id"]: float(c.metadata["nbgrader"]["points"]) for c in source.cells
              if c.metadata.get("nbgrader", {}).get("grade") and not c.metadata["nbgrader"].get("solution")}
    assert platform_scores(source, SOURCE, 60, sandbox) == points
    between()
    wrong = nbformat.read(SOURCE, as_version=4)
    for cell in wrong.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "ex5-erreur":
            cell.source = "def taux_erreur(y_vrai, y_predit):\n    return 0"
    assert platform_scores(wrong, SOURCE, 60, sandbox)["ex5-erreur-tests"] == 0.0


def learner_code_reaches_nothing(sandbox, exercise: str, **more_probes: str) -> None:
    """Each probe, learner code in a cell, must fail; the cell after them still runs."""
    probes = {
        "network": "import socket\nsocket.create_connection(('10.0.0.1', 80), timeout=2)",
        "image_write": "open('/opt/venv/evil.pth', 'w').write('x')",
        "runner_write": f"open('{executor.RUNNER}/runner.py', 'a').write('x')",
        "exercise_write": f"open('{exercise}/x', 'w').write('x')",
        "root": "import os\nos.setuid(0)",
        **more_probes,
    }
    cells = [{"kind": "code", "source": code} for code in probes.values()] + [{"kind": "code", "source": "1"}]
    reply = executor.run(cells, "", SOURCE.parent, LIMITS, sandbox=sandbox)
    assert reply["outcome"] == "done", reply
    assert {name: reply["status"][str(i)] for i, name in enumerate(probes)} == dict.fromkeys(probes, "error")
    assert reply["status"][str(len(probes))] == "ok"
