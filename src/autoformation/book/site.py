"""Write the book's sources (hand-written pages + one part per course) and build them with Jupyter Book 1.

Generated sources go to a build folder, never into the committed book/. The table of contents follows
the catalogue: the committed `book/_toc.yml` has a `- generated: courses` entry, replaced by one part per
course in `catalogue.load_catalogue` order.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
import yaml

from ..catalogue import Course
from .execute import Job
from .launch import launch_url
from .learner_view import learner_page

ASSET_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"}
GENERATED_MARKER = {"generated": "courses"}


class BookError(RuntimeError):
    """The book's sources or its Sphinx build are wrong; the message says where."""


@dataclass
class NotebookPage:
    course: Course
    assignment_id: str
    notebook: Path  # nbgrader source notebook

    @property
    def label(self) -> str:
        return f"{self.course.id}/{self.assignment_id}/{self.notebook.name}"

    @property
    def home_path(self) -> str:
        """Where the learner finds it in their home (the release layout)."""
        return self.label

    @property
    def docname(self) -> str:
        return f"cours/{self.course.id}/{self.assignment_id}/{self.notebook.stem}"


def notebook_pages(courses: list[Course]) -> list[NotebookPage]:
    return [
        NotebookPage(course, assignment.id, nb)
        for course in courses
        for assignment in course.assignments
        for nb in assignment.notebooks
    ]


def jobs(pages: list[NotebookPage]) -> list[Job]:
    return [Job(page.label, page.notebook) for page in pages]


def _duration(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h" + (f" {rest:02d}" if rest else "")


def challenge_page(challenge, hub_url: str) -> str:
    """A Funathon challenge in the book: the subject and the data, never the labels (the book is public)."""
    better = "le plus bas possible" if challenge.minimize else "le plus haut possible"
    phases = ", ".join(f"{p.name} du {p.start:%d/%m/%Y} au {p.end:%d/%m/%Y}" for p in challenge.phases)
    return "\n".join([
        f"# Défi : {challenge.title}", "", challenge.summary, "",
        "| | |", "|---|---|",
        f"| Niveaux | {', '.join(challenge.levels)} |",
        f"| Type | {'régression' if challenge.kind == 'regression' else 'classification'} |",
        f"| Score | `{challenge.metric}`, {better} |",
        f"| Soumissions | {challenge.quota_per_day} par équipe et par jour |",
        f"| Calendrier | {phases} |",
        "",
        "## Les données", "",
        f"Dans votre dossier `defis/{challenge.id}/` sur la plateforme : `train.csv`, des exemples avec la colonne "
        f"à prédire `{challenge.target}` ; `test.csv`, les lignes à prédire (identifiant `{challenge.id_column}`), "
        "sans cette colonne ; et un notebook de départ par niveau.", "",
        "## Soumettre", "",
        f"Un fichier CSV à deux colonnes, `{challenge.id_column}` et `{challenge.target}`, une ligne par ligne de "
        "`test.csv` : depuis un notebook avec `defi.soumettre(predictions)`, depuis un terminal avec "
        "`autoformation defi soumettre predictions.csv`, ou depuis la page du défi. Le classement provisoire "
        f"porte sur une partie du jeu de test ({round(challenge.public_fraction * 100)} %), le classement final "
        "sur l'autre.", "",
        f"[Voir le défi et le classement sur la plateforme]({hub_url}/services/grading/challenges/{challenge.id})",
        "",
    ])


def course_page(course: Course) -> str:
    lines = [f"# {course.title}", "", course.abstract.get("fr", ""), ""]
    lines += [
        "| | |", "|---|---|",
        f"| Niveau | {course.level} |",
        f"| Durée estimée | {_duration(course.time_required)} |",
        f"| Auteurs | {', '.join(course.authors)} |",
        "",
        "## Objectifs", "",
    ]
    lines += [f"- {o}" for o in course.objectives] + [""]
    lines += ["## Prérequis", ""]
    lines += [f"- {p}" for p in course.prerequisites] if course.prerequisites else ["Aucun."]
    lines += ["", "## Notebooks", ""]
    for assignment in course.assignments:
        notebooks = assignment.notebooks
        target = notebooks[0].stem if len(notebooks) == 1 else "index"
        lines.append(f"- {{doc}}`{assignment.title} <{assignment.id}/{target}>`")
    lines += [
        "",
        "Chaque notebook s'ouvre sur la plateforme avec le bouton « Ouvrir ce notebook sur la plateforme » "
        "de sa page ; voir {doc}`/plateforme/commencer`.",
        "",
    ]
    return "\n".join(lines)


def assignment_page(course: Course, assignment) -> str:
    lines = [f"# {assignment.title}", "", f"Notebooks de cette étape du cours « {course.title} » :", ""]
    lines += [f"- {{doc}}`{nb.stem}`" for nb in assignment.notebooks]
    return "\n".join(lines) + "\n"


def _course_part(course: Course) -> dict:
    sections = []
    for assignment in course.assignments:
        notebooks = assignment.notebooks
        base = f"cours/{course.id}/{assignment.id}"
        if len(notebooks) == 1:
            sections.append({"file": f"{base}/{notebooks[0].stem}"})
        else:
            sections.append({"file": f"{base}/index", "sections": [{"file": f"{base}/{nb.stem}"} for nb in notebooks]})
    return {"caption": course.title, "chapters": [{"file": f"cours/{course.id}/index", "sections": sections}]}


def write_sources(book_dir: Path, source_dir: Path, courses: list[Course], executed: dict,
                  hub_url: str, repository: str = "", branch: str = "main", challenges: tuple = ()) -> None:
    """Fill `source_dir` (emptied first) with the hand-written pages, the generated course parts and a part
    for the Funathon challenges."""
    if not (book_dir / "_config.yml").is_file() or not (book_dir / "_toc.yml").is_file():
        raise BookError(f"{book_dir}: the book needs its _config.yml and _toc.yml")
    shutil.rmtree(source_dir, ignore_errors=True)
    shutil.copytree(book_dir, source_dir, ignore=shutil.ignore_patterns("_build", ".*", "__pycache__"))

    launch_pages = {}
    for course in courses:
        course_dir = source_dir / "cours" / course.id
        course_dir.mkdir(parents=True)
        (course_dir / "index.md").write_text(course_page(course), encoding="utf-8")
        for assignment in course.assignments:
            target = course_dir / assignment.id
            target.mkdir()
            for asset in assignment.source_dir.rglob("*"):
                if asset.suffix.lower() in ASSET_SUFFIXES and asset.is_file():
                    dest = target / asset.relative_to(assignment.source_dir)
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(asset, dest)
            if len(assignment.notebooks) > 1:
                (target / "index.md").write_text(assignment_page(course, assignment), encoding="utf-8")
    for page in notebook_pages(courses):
        url = launch_url(hub_url, page.home_path)
        nb = learner_page(executed[page.label], page.label, url, page.home_path)
        nbformat.write(nb, source_dir / f"{page.docname}.ipynb")
        launch_pages[page.docname] = page.home_path

    toc = yaml.safe_load((book_dir / "_toc.yml").read_text(encoding="utf-8"))
    parts = toc.get("parts", [])
    if GENERATED_MARKER not in parts:
        raise BookError(f"{book_dir / '_toc.yml'}: no '- generated: courses' entry marking where the courses go")
    at = parts.index(GENERATED_MARKER)
    generated = [_course_part(c) for c in courses]
    if challenges:
        (source_dir / "defis").mkdir()
        for challenge in challenges:
            page = source_dir / "defis" / f"{challenge.id}.md"
            page.write_text(challenge_page(challenge, hub_url), encoding="utf-8")
        chapters = [{"file": f"defis/{c.id}"} for c in challenges]
        generated.append({"caption": "Défis du Funathon", "chapters": chapters})
    toc["parts"] = parts[:at] + generated + parts[at + 1:]
    (source_dir / "_toc.yml").write_text(yaml.safe_dump(toc, allow_unicode=True, sort_keys=False), encoding="utf-8")

    config = yaml.safe_load((book_dir / "_config.yml").read_text(encoding="utf-8"))
    config.setdefault("execute", {})["execute_notebooks"] = "off"  # papermill already ran them
    config["only_build_toc_files"] = True
    sphinx = config.setdefault("sphinx", {})
    sphinx["extra_extensions"] = list(sphinx.get("extra_extensions") or []) + ["autoformation.book.launch"]
    sphinx.setdefault("config", {})["autoformation_launch"] = {"hub_url": hub_url, "pages": launch_pages}
    if repository:  # nbgitpuller button too, pulling a repository that holds the released material
        config["repository"] = {"url": repository, "path_to_book": "", "branch": branch}
        config.setdefault("launch_buttons", {}).update({"jupyterhub_url": hub_url, "notebook_interface": "jupyterlab"})
    (source_dir / "_config.yml").write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False),
                                            encoding="utf-8")


def jupyter_book_command() -> list[str]:
    script = Path(sys.executable).with_name("jupyter-book")
    return [str(script)] if script.exists() else [sys.executable, "-m", "jupyter_book.cli.main"]


def build_html(source_dir: Path, output_dir: Path, report=print) -> Path:
    """`jupyter-book build` with warnings as errors; returns the HTML folder."""
    cmd = jupyter_book_command() + [
        "build", str(source_dir), "--path-output", str(output_dir), "--builder", "html",
        "--warningiserror", "--keep-going", "--all",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    html = output_dir / "_build" / "html"
    if proc.returncode != 0 or not (html / "index.html").is_file():
        log = (proc.stdout + proc.stderr).strip().splitlines()
        warnings = [line for line in log if "WARNING" in line or "ERROR" in line or "Error" in line]
        raise BookError("jupyter-book build failed:\n" + "\n".join((warnings or log)[-40:]))
    return html
