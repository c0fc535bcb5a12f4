"""Feedback HTML for a graded notebook, in which hidden tests appear nowhere."""

from __future__ import annotations

import copy
import html
import re
import threading

from nbformat.v4 import new_markdown_cell

from .. import notebooks
from ..web import PAGES
from .store import Submission

HIDDEN_FAILURE = "Un test caché a échoué : votre réponse ne convient pas dans tous les cas."
HIDDEN_HINT = "Un test caché a échoué : {hint}"
HIDDEN_BLOCK = re.compile(f"{re.escape(notebooks.BEGIN_HIDDEN_TESTS)}(.*?){re.escape(notebooks.END_HIDDEN_TESTS)}",
                          re.S)


def hidden_lines(url: str, course_id: str, assignment_id: str, notebook: str) -> tuple[set[str], set[str]]:
    """(non-trivial lines of every hidden-test block, the hints of their asserts) of the notebook's source
    cells in the gradebook. Hints are the plain-string messages trainers write for learners (`courses
    check` refuses computed ones, which could reveal an answer)."""
    from nbgrader.api import Gradebook

    lines, hints = set(), set()
    with Gradebook(url, course_id=course_id) as gb:
        for cell in gb.find_notebook(notebook, assignment_id).source_cells:
            for block in HIDDEN_BLOCK.findall(cell.source or ""):
                lines.update(s.strip() for s in block.splitlines() if len(s.strip()) >= 6)
            hints |= notebooks.hidden_hints(cell.source or "")
    return lines, hints


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def leaks(text: str, secrets: set[str]) -> set[str]:
    return {line for line in secrets if line in text}


def hint_of(message: str) -> str:
    """A hidden test's hint, as the runner reports it (after the French prefix) or raw."""
    return message.removeprefix(HIDDEN_HINT.format(hint=""))


def explain_failures(nb, secrets: set[str], hints: frozenset[str] | set[str] = frozenset()) -> None:
    """Failed test cells show their visible assertion message, a hidden test's hint, or a generic message."""
    for cell in nb.cells:
        if cell.cell_type != "code" or not notebooks.is_grade(cell):
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") != "error":
                continue
            message = str(out.get("evalue", ""))
            visible = out.get("ename") == "AssertionError" and message and message in cell.source
            if visible:
                text = f"AssertionError: {message}"
            elif (out.get("ename") == "AssertionError" and hint_of(message) in hints
                  and not leaks(message, secrets)):
                text = HIDDEN_HINT.format(hint=hint_of(message))
            elif out.get("ename") in ("AssertionError",) or leaks(message, secrets):
                text = HIDDEN_FAILURE
            else:
                text = f"{out.get('ename')}: {message}"[:500]
            out["traceback"] = [text]
            out["evalue"] = text if text.startswith("Un test caché") else message


def scrub_cells(nb, secrets: set[str]) -> None:
    for cell in nb.cells:
        if leaks(cell.source, secrets):
            cell.source = "\n".join("# (test caché)" if leaks(line, secrets) else line
                                    for line in cell.source.splitlines())
        for out in cell.get("outputs", []):
            if leaks(json_text(out), secrets):
                out.clear()
                out.update({"output_type": "stream", "name": "stdout", "text": HIDDEN_FAILURE + "\n"})


def json_text(out) -> str:
    import json

    return json.dumps(out, ensure_ascii=False)


_local = threading.local()


def render(nb) -> str:
    # One exporter per worker thread: building one compiles its templates (most of a render's time).
    exporter = getattr(_local, "exporter", None)
    if exporter is None:
        from nbconvert import HTMLExporter

        # Learner outputs are untrusted HTML: sanitised (no scripts, no event handlers), and served under a CSP.
        exporter = _local.exporter = HTMLExporter(template_name="lab", embed_images=True, sanitize_html=True)
    body, _ = exporter.from_notebook_node(nb)
    return body


def summary_cell(resources) -> object:
    info = resources["nbgrader"]
    return new_markdown_cell(f"# Correction\n\nNote : **{info.get('score', 0):g} / {info.get('max_score', 0):g}**")


def feedback_html(nb, resources, course, assignment_id: str, notebook: str, student: str, url: str) -> str:
    from nbgrader.preprocessors import ClearHiddenTests, GetGrades

    nb = copy.deepcopy(nb)
    resources = copy.deepcopy(resources)
    nb, resources = GetGrades().preprocess(nb, resources)
    nb, resources = ClearHiddenTests().preprocess(nb, resources)
    secrets, hints = hidden_lines(url, course.id, assignment_id, notebook)
    explain_failures(nb, secrets, hints)
    scrub_cells(nb, secrets)
    nb.cells.insert(0, summary_cell(resources))
    page = render(nb)
    if leaks(text_of(page), secrets) or leaks(page, secrets):
        # Last resort: scores only, never a hidden test.
        info = resources["nbgrader"]
        return PAGES.get_template("feedback_scores_only.html").render(
            score=info.get("score", 0), max_score=info.get("max_score", 0))
    return page


# Learner outputs are untrusted HTML: no scripts, no requests, an origin of its own.
FEEDBACK_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline' data:; img-src data:; font-src data:"


def with_trainer_grades(sub: Submission) -> str:
    """The feedback HTML, with the trainers' grades and comments on free-text answers on top."""
    manual = [e for e in sub.exercises if e.manual]
    if not manual:
        return sub.feedback_html
    section = PAGES.get_template("trainer_grades.html").render(manual=manual, sub=sub)
    body = re.search(r"<body[^>]*>", sub.feedback_html)
    at = body.end() if body else 0
    return sub.feedback_html[:at] + section + sub.feedback_html[at:]
