"""The course catalogue: what `courses/<id>/course.yaml` says about each course.

Field names follow the SSP Cloud training catalogue where it has a word for them
(`name`, `abstract`, `authors`, `tags`, `timeRequired`), so the catalogue can be exported there.
The hub's catalogue page, the book and the Kubernetes profiles all read courses through here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

TAGS = ("discover", "learn", "consolidate", "deepen")
LEVELS = ("débutant", "intermédiaire", "expert")  # a course's entry level, an exercise's, a challenge's


_TEXT = {"type": "string", "minLength": 1}
_LOCALIZED = {"anyOf": [_TEXT, {"type": "object", "required": ["fr"], "properties": {"fr": _TEXT},
                                "additionalProperties": _TEXT}]}
# What a course.yaml must hold (other fields, e.g. `data_sources`, are the authors' own).
COURSE_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "autoformation course.yaml",
    "type": "object",
    "required": ["name", "abstract", "authors", "tags", "level", "timeRequired", "objectives", "image",
                 "assignments"],
    "properties": {
        "id": _TEXT,
        "order": {"type": "integer"},
        "name": _LOCALIZED,
        "abstract": _LOCALIZED,
        "authors": {"type": "array", "items": _TEXT},
        "tags": {"type": "array", "items": {"enum": list(TAGS)}},
        "level": {"enum": list(LEVELS)},
        "timeRequired": {"type": "integer", "minimum": 1},
        "objectives": {"type": "array", "items": _TEXT},
        "prerequisites": {"type": ["array", "null"], "items": _TEXT},
        "image": _TEXT,
        # Data files on S3 (e.g. a public `diffusion/` folder of the SSP Cloud's MinIO), fetched into the
        # source folder before checking and releasing (courses/s3data.py).
        "s3_data": {"type": "array", "items": {
            "type": "object", "required": ["object", "to"], "additionalProperties": False,
            "properties": {"object": {"type": "string", "pattern": "^s3://[a-z0-9][a-z0-9.-]+/[^?#]+$"},
                           "to": _TEXT, "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"}}}},
        "assignments": {
            "type": "array", "minItems": 1,
            "items": {"type": "object", "required": ["id", "title"],
                      "properties": {"id": {"type": ["string", "number"]}, "title": _TEXT}},
        },
    },
}


class CourseError(ValueError):
    """A course.yaml is missing, malformed or incomplete; the message names the file and field."""


@dataclass
class Assignment:
    id: str
    title: str
    source_dir: Path  # nbgrader source folder: courses/<course>/source/<assignment>

    @property
    def notebooks(self) -> list[Path]:
        return sorted(self.source_dir.glob("*.ipynb"))


@dataclass
class Course:
    id: str
    name: dict[str, str]  # {"fr": ..., "en": ...}
    abstract: dict[str, str]
    authors: list[str]
    tags: list[str]
    level: str
    time_required: int  # minutes
    objectives: list[str]
    prerequisites: list[str]
    image: str  # folder under images/, e.g. "ml" -> image autoformation-ml
    assignments: list[Assignment]
    path: Path = field(repr=False)
    order: int = 100  # position in the catalogue (then by id)
    s3_data: list[dict] = field(default_factory=list)  # {object: s3://bucket/key, to: <assignment>/..., sha256}

    @property
    def title(self) -> str:
        return self.name.get("fr") or next(iter(self.name.values()))

    def image_name(self, registry: str, version: str) -> str:
        """The container image this course runs in (same name on Docker/Podman and Kubernetes)."""
        return image_name(registry, self.image, version)


def image_name(registry: str, image: str, version: str) -> str:
    """A learner image's name ("ml" -> [registry/]autoformation-ml:version), for courses and challenges."""
    prefix = f"{registry.rstrip('/')}/" if registry else ""
    return f"{prefix}autoformation-{image}:{version}"


def _localized(value: str | dict) -> dict[str, str]:
    return {"fr": value} if isinstance(value, str) else {str(k): str(v) for k, v in value.items()}


def load_course(path: Path) -> Course:
    """Read one course folder (the one holding course.yaml)."""
    yaml_path = path / "course.yaml"
    where = str(yaml_path)
    if not yaml_path.is_file():
        raise CourseError(f"{where}: file not found")
    try:
        data = yaml.safe_load(yaml_path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise CourseError(f"{where}: not valid YAML: {err}") from None
    from .schema import first_error

    problem = first_error(COURSE_SCHEMA, data, noun="field")
    if problem:
        raise CourseError(f"{where}: {problem}")
    course_id = str(data.get("id", path.name))
    if course_id != path.name:
        raise CourseError(f"{where}: id '{course_id}' differs from its folder name '{path.name}'")
    assignments = []
    for item in data["assignments"]:
        source = path / "source" / str(item["id"])
        if not source.is_dir():
            raise CourseError(f"{where}: assignment '{item['id']}' has no folder {source}")
        assignments.append(Assignment(id=str(item["id"]), title=str(item["title"]), source_dir=source))
    return Course(
        id=course_id,
        name=_localized(data["name"]),
        abstract=_localized(data["abstract"]),
        authors=list(data["authors"]),
        tags=list(data["tags"]),
        level=data["level"],
        time_required=data["timeRequired"],
        objectives=list(data["objectives"]),
        prerequisites=list(data.get("prerequisites") or []),
        image=data["image"],
        assignments=assignments,
        path=path,
        order=int(data.get("order", 100)),
        s3_data=list(data.get("s3_data") or []),
    )


def load_catalogue(courses_dir: Path) -> list[Course]:
    """Every course under `courses_dir`, in the order given by their `order` field then id."""
    courses_dir = Path(courses_dir)
    folders = sorted(p.parent for p in courses_dir.glob("*/course.yaml"))
    return sorted((load_course(folder) for folder in folders), key=lambda c: (c.order, c.id))
