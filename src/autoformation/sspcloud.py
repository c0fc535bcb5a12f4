"""The catalogue in the SSP Cloud's format, with Onyxia launch links (`autoformation catalogue export`).

The SSP Cloud's training page (www.sspcloud.fr/formation) lists `EducationalResource`s, written as
TypeScript objects in the repository InseeFrLab/www.sspcloud.fr (`catalogData/`): a Collection (name,
abstract, imageUrl, parts) per course and per Funathon challenge, a Resource per notebook (authors, tags,
time, `articleUrl`: its page in this platform's book, `deploymentUrl`: an Onyxia launch link and this
hub's deep link). `SSPCLOUD_SCHEMA` is that type written as a JSON Schema.

The Onyxia link starts SSP Cloud's `jupyter-python` service with this platform's init script
(`images/onyxia/init.sh`, published with the book) and its arguments: the platform's URL, then the
course and chapter (or `defis` and the challenge): the script brings in the released material, the
learner-side package (self-check, `autoformation submit --hub`, `defi.soumettre`) and opens the notebook.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from datetime import date
from pathlib import Path
from urllib.parse import quote, urlencode

from .catalogue import Course, load_catalogue
from .settings import SettingsError, load

DATALAB = "https://datalab.sspcloud.fr"
INIT_SCRIPT = "onyxia/init.sh"  # under the book's URL (book/__init__.py publishes it)
DOWNLOADS = "telechargements"  # the released material, one archive per chapter, under the book's URL
LEVEL_TAGS = {"débutant": ["discover", "learn"], "intermédiaire": ["consolidate"], "expert": ["deepen"]}
TAGS = ("discover", "learn", "consolidate", "deepen", "Notebook", "R", "Python", "Data Science Training",
        "Tutorial", "Best Practices", "Video Game", "Slides", "Exercise")
_LOCALIZED = {"anyOf": [{"type": "string", "minLength": 1},
                        {"type": "object", "minProperties": 1, "additionalProperties": False,
                         "properties": {"fr": {"type": "string", "minLength": 1},
                                        "en": {"type": "string", "minLength": 1}}}]}
_URL = {"type": "string", "pattern": "^https?://"}
SSPCLOUD_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "SSP Cloud EducationalResource (catalogData/-index.ts)",
    "$ref": "#/$defs/resource",
    "$defs": {
        "resource": {"oneOf": [{"$ref": "#/$defs/collection"}, {"$ref": "#/$defs/leaf"}]},
        "collection": {
            "type": "object", "required": ["name", "abstract", "parts"], "additionalProperties": False,
            "properties": {"name": _LOCALIZED, "abstract": _LOCALIZED, "imageUrl": _URL,
                           "parts": {"type": "array", "items": {"$ref": "#/$defs/resource"}}},
        },
        "leaf": {
            "type": "object", "required": ["name", "abstract", "authors", "tags"], "additionalProperties": False,
            "anyOf": [{"required": ["articleUrl"]}, {"required": ["deploymentUrl"]}],
            "properties": {
                "name": _LOCALIZED, "abstract": _LOCALIZED, "imageUrl": _URL,
                "authors": {"type": "array", "minItems": 1, "items": _LOCALIZED},
                "lastUpdated": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
                "tags": {"type": "array", "items": {"enum": list(TAGS)}},
                "timeRequiredInMinutes": {"type": "integer", "minimum": 1},
                "articleUrl": _URL,
                "deploymentUrl": {"anyOf": [_URL, {"type": "object", "minProperties": 1,
                                                   "additionalProperties": _URL}]},
            },
        },
    },
}


def onyxia_link(datalab: str, init_url: str, args: list[str]) -> str:
    """SSP Cloud's launcher for `jupyter-python` with a personal init script (Onyxia's «» string values)."""
    query = urlencode({"autoLaunch": "true", "init.personalInit": f"«{init_url}»",
                       "init.personalInitArgs": f"«{' '.join(args)}»"}, quote_via=quote)
    return f"{datalab.rstrip('/')}/launcher/ide/jupyter-python?{query}"


def _localized(values: dict[str, str], langs: tuple[str, ...]) -> dict[str, str] | str:
    kept = {lang: values[lang] for lang in langs if values.get(lang)}
    return kept or values.get("fr") or next(iter(values.values()))


def _last_updated(path: Path) -> str:
    """The day of the last commit that changed `path` (the file's own date outside a git checkout)."""
    try:
        day = subprocess.run(["git", "log", "-1", "--format=%cs", "--", path.name], cwd=path.parent,
                             capture_output=True, text=True, timeout=30).stdout.strip()
    except OSError:
        day = ""
    return day or date.fromtimestamp(path.stat().st_mtime).isoformat()


def _tags(level: str, tags: list[str]) -> list[str]:
    wanted = LEVEL_TAGS.get(level, []) + [t for t in tags if t in TAGS] + ["Notebook", "Python", "Exercise"]
    return list(dict.fromkeys(wanted))


def course_collection(course: Course, url: str, datalab: str, langs: tuple[str, ...]) -> dict:
    book, init = f"{url}/services/book", f"{url}/services/book/{INIT_SCRIPT}"
    notebooks = [(a, nb) for a in course.assignments for nb in a.notebooks]
    minutes = max(1, course.time_required // max(1, len(notebooks)))
    parts = [{
        "name": {"fr": assignment.title if len(assignment.notebooks) == 1 else f"{assignment.title} ({nb.stem})"},
        "abstract": _localized(course.abstract, langs),
        "imageUrl": f"{url}/hub/logo",
        "authors": list(course.authors),
        "lastUpdated": _last_updated(nb),
        "tags": _tags(course.level, course.tags),
        "timeRequiredInMinutes": minutes,
        "articleUrl": f"{book}/cours/{course.id}/{assignment.id}/{nb.stem}.html",
        "deploymentUrl": {"jupyter-python": onyxia_link(datalab, init, [url, course.id, assignment.id]),
                          "autoformation": f"{url}/services/grading/courses/{course.id}"},
    } for assignment, nb in notebooks]
    return {"name": _localized(course.name, langs), "abstract": _localized(course.abstract, langs),
            "imageUrl": f"{url}/hub/logo", "parts": parts}


def challenge_collection(challenge, url: str, datalab: str) -> dict:
    from .challenges import parcours_notebooks

    init = f"{url}/services/book/{INIT_SCRIPT}"
    parts = [{
        "name": {"fr": f"{challenge.title} : parcours {level}"},
        "abstract": {"fr": challenge.summary},
        "imageUrl": f"{url}/hub/logo",
        "authors": ["Organisateurs du Funathon"],
        "lastUpdated": _last_updated(notebook),
        "tags": _tags(level, []),
        "articleUrl": f"{url}/services/book/defis/{challenge.id}.html",
        "deploymentUrl": {"jupyter-python": onyxia_link(datalab, init, [url, "defis", challenge.id]),
                          "autoformation": f"{url}/services/grading/challenges/{challenge.id}"},
    } for level, notebook in parcours_notebooks(challenge).items()]
    return {"name": {"fr": f"Funathon : {challenge.title}"}, "abstract": {"fr": challenge.summary},
            "imageUrl": f"{url}/hub/logo", "parts": parts}


def export(settings, langs: tuple[str, ...] = ("fr", "en"), datalab: str = DATALAB) -> list[dict]:
    from .challenges import load_challenges

    url = settings.platform.url().rstrip("/")
    resources = [course_collection(c, url, datalab, langs) for c in load_catalogue(settings.courses_dir)]
    return resources + [challenge_collection(c, url, datalab) for c in load_challenges(settings.challenges_dir)]


def typescript(resources: list[dict]) -> str:
    """A module for catalogData/ of InseeFrLab/www.sspcloud.fr (add `...autoformation` to its list)."""
    body = json.dumps(resources, ensure_ascii=False, indent=4)
    return ('import type { EducationalResource } from "./-index";\n\n'
            "// Generated by `autoformation catalogue export --format sspcloud`: edit the courses, not this file.\n"
            f"export const autoformation: EducationalResource[] = {body};\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="autoformation catalogue", description="Export the catalogue.")
    sub = parser.add_subparsers(dest="action", required=True)
    ex = sub.add_parser("export", help="the courses and challenges for another catalogue")
    ex.add_argument("--format", choices=["sspcloud"], default="sspcloud")
    ex.add_argument("--lang", default="fr,en", help="languages kept in names and abstracts (default: fr,en)")
    ex.add_argument("--datalab", default=DATALAB, help=f"the Onyxia instance of the launch links (default: {DATALAB})")
    ex.add_argument("--output", default=".", help="folder for autoformation.json and autoformation.ts")
    ex.add_argument("--config", help="settings file (default: $AUTOFORMATION_CONFIG or hub_config/settings.yaml)")
    args = parser.parse_args(argv)
    try:
        settings = load(args.config)
        resources = export(settings, tuple(lang.strip() for lang in args.lang.split(",") if lang.strip()),
                           args.datalab)
    except (SettingsError, ValueError) as err:
        print(f"autoformation catalogue: {err}", file=sys.stderr)
        return 2
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    (out / "autoformation.json").write_text(json.dumps(resources, ensure_ascii=False, indent=2) + "\n")
    (out / "autoformation.ts").write_text(typescript(resources))
    parts = sum(len(r["parts"]) for r in resources)
    print(f"{len(resources)} collections, {parts} resources: {out / 'autoformation.json'}, {out / 'autoformation.ts'}")
    return 0
