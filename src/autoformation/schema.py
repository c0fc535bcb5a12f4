"""JSON Schemas for the platform's YAML files, and errors that name the key.

`settings.yaml`'s schema is generated from the dataclasses of `settings.py` (their types, `CHOICES`
and `LIMITS`), so the defaults, the types and the schema cannot drift; `hub_config/settings.schema.json`
is that schema written out for editors (a test keeps it current). `course.yaml`'s is
`catalogue.COURSE_SCHEMA`. Validation is jsonschema's; only the messages are ours.
"""

from __future__ import annotations

import dataclasses
from typing import Any, get_type_hints

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

PORT = (1, 65535)
_TYPES = {
    int: {"type": "integer"},
    float: {"type": "number"},
    bool: {"type": "boolean"},
    str: {"type": ["string", "number"]},  # unquoted YAML numbers where text is expected: `version: 2026.11`
    dict[str, list[str]]: {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
}


def dataclass_schema(cls: type) -> dict:
    """The JSON Schema of a settings dataclass: its fields, nothing else, each with its type and limits."""
    hints = get_type_hints(cls)
    choices, limits = getattr(cls, "CHOICES", {}), getattr(cls, "LIMITS", {})
    properties = {}
    for f in dataclasses.fields(cls):
        if f.name == "source":
            continue
        typ = hints[f.name]
        if dataclasses.is_dataclass(typ):
            properties[f.name] = dataclass_schema(typ)
            continue
        prop = dict(_TYPES[typ])
        if f.name in choices:
            prop = {"enum": list(choices[f.name])}
        low, high = limits.get(f.name, PORT if f.name.endswith("port") and typ is int else (None, None))
        if low is not None:
            prop["minimum"] = low
        if high is not None:
            prop["maximum"] = high
        if f.default is not dataclasses.MISSING:
            prop["default"] = f.default
        properties[f.name] = prop
    return {"type": ["object", "null"], "additionalProperties": False, "properties": properties}


def first_error(schema: dict, data: Any, noun: str = "setting") -> str | None:
    """The first problem of `data`, as a sentence naming the key (`setting 'grading.port' ...`)."""
    errors = sorted(Draft202012Validator(schema).iter_errors(data), key=lambda e: (len(e.path), list(map(str, e.path))))
    if not errors:
        return None
    err = errors[0]
    if err.validator in ("anyOf", "oneOf") and err.context:
        # The alternative of the instance's own type says what is wrong (a mapping without `fr`...).
        err = best_match([e for e in err.context if e.validator != "type"] or err.context)
    key = ".".join(map(str, err.absolute_path))
    name = f"{noun} '{key}'" if key else "the file"
    if err.validator == "additionalProperties":
        known = ", ".join(sorted(err.schema.get("properties", {})))
        unknown = sorted(set(err.instance) - set(err.schema.get("properties", {})))
        where = f"{key}.{unknown[0]}" if key else unknown[0]
        return f"unknown {noun} '{where}' (known here: {known})"
    if err.validator == "required":
        missing = err.message.split("'")[1]
        return f"missing {noun} '{f'{key}.' if key else ''}{missing}'"
    if err.validator == "enum":
        return f"{name} must be one of {', '.join(map(str, err.validator_value))}, got {err.instance!r}"
    if err.validator in ("minimum", "maximum"):
        low, high = err.schema.get("minimum"), err.schema.get("maximum")
        if (low, high) == PORT:
            return f"{name} must be a port number ({low}-{high}), got {err.instance!r}"
        if high is None:
            return f"{name} must be {low} or more, got {err.instance!r}"
        return f"{name} must be between {low} and {high}, got {err.instance!r}"
    if err.validator == "type":
        wanted = err.validator_value if isinstance(err.validator_value, list) else [err.validator_value]
        words = {"object": "a mapping", "integer": "a whole number", "number": "a number", "string": "a text",
                 "boolean": "true or false", "array": "a list"}
        said = " or ".join(dict.fromkeys(words.get(w, w) for w in wanted if w != "null"))
        return f"{name} must be {said}, got {err.instance!r}"
    return f"{name}: {err.message}"
