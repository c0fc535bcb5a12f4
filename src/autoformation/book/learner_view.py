"""The page a notebook becomes in the book: the learner version, solutions folded, no hidden tests.

Input: the *executed solution* notebook (papermill's output). nbgrader's own preprocessors make the
learner version (ClearSolutions, ClearHiddenTests) so the book shows exactly what learners get; they
rewrite cells in place, so cell i of the learner version matches cell i of the solution version.
"""

from __future__ import annotations

import copy
import re

import nbformat
from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions

from ..courses.nbgrader_setup import CODE_STUB, TEXT_STUB
from ..notebooks import BEGIN_SOLUTION, END_SOLUTION, is_solution

HIDDEN_MARKERS = ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
SHOW_SOLUTION = "Afficher la solution"
HIDE_SOLUTION = "Masquer la solution"


class LearnerViewError(ValueError):
    """The notebook's nbgrader markup is inconsistent; the message names the notebook."""


def _clean_metadata(cell) -> None:
    for key in ("nbgrader", "papermill", "execution", "deletable", "editable", "trusted"):
        cell.metadata.pop(key, None)


def _new_id(cell) -> None:
    """The learner stub sits next to its solution: it needs its own cell id."""
    if "id" in cell:
        cell["id"] = f"{cell['id'][:55]}-apprenant"


def _fence(text: str) -> str:
    """A backtick fence longer than any run of backticks in `text` (so it cannot close early)."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def _solution_dropdown(text: str) -> str:
    fence = _fence(text)
    return f"{fence}{{admonition}} Solution\n:class: dropdown\n\n{text.strip()}\n{fence}"


def launch_cell(url: str, home_path: str):
    """A visible button that opens this notebook in the learner's own environment on the platform."""
    return nbformat.v4.new_markdown_cell(
        f"```{{button-link}} {url}\n:color: primary\n:class: launch-notebook\n\n"
        "Ouvrir ce notebook sur la plateforme\n```\n\n"
        f"Dans votre environnement, ce notebook se trouve dans `{home_path}`. "
        "Le bouton l'ouvre directement (connectez-vous d'abord si besoin)."
    )


def learner_page(executed, name: str, launch_url: str, home_path: str):
    """Build the book page for one executed solution notebook. `name` is used in error messages."""
    learner = copy.deepcopy(executed)
    resources = {}
    try:
        ClearHiddenTests().preprocess(learner, resources)
        # The same French stubs as the released notebooks learners get.
        ClearSolutions(code_stub={"python": CODE_STUB}, text_stub=TEXT_STUB).preprocess(learner, resources)
    except RuntimeError as err:  # nbgrader's own message: missing END marker, marker in a wrong cell...
        raise LearnerViewError(f"{name}: {err}") from None
    # Hidden tests are gone from the learner version; the solution version still has them.
    hidden_free = copy.deepcopy(executed)
    ClearHiddenTests().preprocess(hidden_free, {})

    cells = []
    for solution_cell, learner_cell in zip(hidden_free.cells, learner.cells, strict=True):
        if "injected-parameters" in solution_cell.metadata.get("tags", []):
            continue  # papermill's cell: build machinery, not course content
        if is_solution(solution_cell) and solution_cell.cell_type == "code":
            stub = copy.deepcopy(learner_cell)
            stub.outputs, stub.execution_count = [], None
            _clean_metadata(stub)
            _new_id(stub)
            answer = copy.deepcopy(solution_cell)
            _clean_metadata(answer)
            answer.metadata["tags"] = sorted(set(answer.metadata.get("tags", [])) | {"hide-input"})
            answer.metadata["mystnb"] = {"code_prompt_show": SHOW_SOLUTION, "code_prompt_hide": HIDE_SOLUTION}
            cells += [stub, answer]
        elif is_solution(solution_cell) and solution_cell.cell_type == "markdown":
            stub = copy.deepcopy(learner_cell)
            _clean_metadata(stub)
            _new_id(stub)
            answer = nbformat.v4.new_markdown_cell(_solution_dropdown(_strip_solution_markers(solution_cell.source)))
            cells += [stub, answer]
        else:
            cell = copy.deepcopy(solution_cell)
            _clean_metadata(cell)
            cells.append(cell)

    # The button goes right under the title when the notebook starts with one.
    at = 1 if cells and cells[0].cell_type == "markdown" and cells[0].source.lstrip().startswith("# ") else 0
    cells.insert(at, launch_cell(launch_url, home_path))

    page = nbformat.v4.new_notebook(cells=cells)
    page.metadata = {k: v for k, v in executed.metadata.items() if k in ("kernelspec", "language_info")}
    for cell in page.cells:
        text = cell.source + "".join(str(o) for o in cell.get("outputs", []))
        if any(marker in text for marker in HIDDEN_MARKERS):
            raise LearnerViewError(f"{name}: a hidden test marker is left outside a graded test cell")
    return page


def _strip_solution_markers(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if line.strip() not in (BEGIN_SOLUTION, END_SOLUTION))
