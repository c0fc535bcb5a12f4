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
LEVELS = ("débutant", "intermédiaire", "avancé")


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

    @property
    def title(self) -> str:
        return self.name.get("fr") or next(iter(self.name.values()))

    def image_name(self, registry: str, version: str) -> str:
        """The container image this course runs in (same name on Docker/Podman and Kubernetes)."""
        prefix = f"{registry.rstrip('/')}/" if registry else ""
        return f"{prefix}autoformation-{self.image}:{version}"


def _require(data: dict, key: str, typ: type, where: str):
    if key not in data:
        raise CourseError(f"{where}: missing field '{key}'")
    value = data[key]
    if not isinstance(value, typ) or isinstance(value, bool):
        raise CourseError(f"{where}: field '{key}' must be a {typ.__name__}, got {value!r}")
    return value


def _localized(data: dict, key: str, where: str) -> dict[str, str]:
    value = data.get(key)
    if isinstance(value, str):
        return {"fr": value}
    if not isinstance(value, dict) or "fr" not in value:
        raise CourseError(f"{where}: field '{key}' needs at least a French text ({key}: {{fr: ...}})")
    return {str(k): str(v) for k, v in value.items()}


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
    if not isinstance(data, dict):
        raise CourseError(f"{where}: must be a mapping of fields")
    course_id = str(data.get("id", path.name))
    if course_id != path.name:
        raise CourseError(f"{where}: id '{course_id}' differs from its folder name '{path.name}'")
    tags = _require(data, "tags", list, where)
    bad = [t for t in tags if t not in TAGS]
    if bad:
        raise CourseError(f"{where}: unknown tag {bad[0]!r} (tags are among {', '.join(TAGS)})")
    level = _require(data, "level", str, where)
    if level not in LEVELS:
        raise CourseError(f"{where}: level must be one of {', '.join(LEVELS)}, got {level!r}")
    assignments = []
    for i, item in enumerate(_require(data, "assignments", list, where)):
        if not isinstance(item, dict) or "id" not in item or "title" not in item:
            raise CourseError(f"{where}: assignments[{i}] needs an 'id' and a 'title'")
        source = path / "source" / str(item["id"])
        if not source.is_dir():
            raise CourseError(f"{where}: assignment '{item['id']}' has no folder {source}")
        assignments.append(Assignment(id=str(item["id"]), title=str(item["title"]), source_dir=source))
    if not assignments:
        raise CourseError(f"{where}: a course needs at least one assignment")
    return Course(
        id=course_id,
        name=_localized(data, "name", where),
        abstract=_localized(data, "abstract", where),
        authors=[str(a) for a in _require(data, "authors", list, where)],
        tags=tags,
        level=level,
        time_required=_require(data, "timeRequired", int, where),
        objectives=[str(o) for o in _require(data, "objectives", list, where)],
        prerequisites=[str(p) for p in data.get("prerequisites") or []],
        image=_require(data, "image", str, where),
        assignments=assignments,
        path=path,
        order=int(data.get("order", 100)),
    )


def load_catalogue(courses_dir: Path) -> list[Course]:
    """Every course under `courses_dir`, in the order given by their `order` field then id."""
    courses_dir = Path(courses_dir)
    folders = sorted(p.parent for p in courses_dir.glob("*/course.yaml"))
    return sorted((load_course(folder) for folder in folders), key=lambda c: (c.order, c.id))
