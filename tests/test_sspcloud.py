"""The catalogue in the SSP Cloud's format (`autoformation catalogue export --format sspcloud`).

Checked against a JSON Schema written from the SSP Cloud's `EducationalResource` type, and the `.ts` file
type-checked by TypeScript (`tsc --noEmit`) against that type, written here from its definition in
InseeFrLab/www.sspcloud.fr (catalogData/-index.ts): the file a pull request to that repository would add.
"""

from __future__ import annotations

import json
import subprocess
from urllib.parse import parse_qs, urlsplit

import jsonschema
import pytest

from autoformation.catalogue import load_catalogue
from autoformation.cli import main as cli
from autoformation.settings import Settings
from autoformation.sspcloud import INIT_SCRIPT, SSPCLOUD_SCHEMA, export, typescript

from .conftest import ROOT

# The type the SSP Cloud's catalogue is written in (its shape, restated for the type-check).
SSPCLOUD_TYPES = """
export type Language = "en" | "fr";
export type LocalizedString = string | Partial<Record<Language, string>>;
export type Tag = "discover" | "learn" | "consolidate" | "deepen" | "Notebook" | "R" | "Python"
    | "Data Science Training" | "Tutorial" | "Best Practices" | "Video Game" | "Slides" | "Exercise";
export type EducationalResource = EducationalResource.Resource | EducationalResource.Collection;
export namespace EducationalResource {
    type Common = { name: LocalizedString; abstract: LocalizedString; imageUrl?: string };
    export type Resource = Common & {
        authors: [LocalizedString, ...LocalizedString[]];
        lastUpdated?: `${string}-${string}-${string}`;
        tags: Tag[];
        timeRequiredInMinutes?: number;
        articleUrl?: LocalizedString;
        deploymentUrl?: LocalizedString | Record<string, LocalizedString>;
    };
    export type Collection = Common & { parts: EducationalResource[] };
}
"""


@pytest.fixture(scope="module")
def exported():
    settings = Settings()
    settings.platform.public_url = "https://formation.example.org"
    return settings, export(settings)


def test_every_course_and_challenge_is_a_valid_collection(exported):
    settings, resources = exported
    validator = jsonschema.Draft202012Validator(SSPCLOUD_SCHEMA)
    for resource in resources:
        errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(resource)]
        assert not errors, (resource["name"], errors)
    names = [r["name"]["fr"] for r in resources]
    courses = load_catalogue(settings.courses_dir)
    challenges = list(settings.challenges_dir.glob("*/challenge.yaml"))
    assert names[:len(courses)] == [c.title for c in courses] and len(courses) >= 4
    assert {"Funathon : Estimer le prix d'une maison ou d'un appartement"} <= set(names)
    assert len(resources) == len(courses) + len(challenges)
    ml = next(r for r in resources if r["name"]["fr"] == "Apprentissage automatique avec pandas et scikit-learn")
    assert ml["name"]["en"] == "Machine learning with pandas and scikit-learn"
    first = ml["parts"][0]
    assert first["tags"][:2] == ["discover", "learn"] and "Notebook" in first["tags"]
    assert first["articleUrl"] == ("https://formation.example.org/services/book/cours/ml/01-premiers-modeles/"
                                   "01-premiers-modeles.html")
    assert first["deploymentUrl"]["autoformation"] == "https://formation.example.org/services/grading/courses/ml"
    # The Onyxia link: SSP Cloud's jupyter-python, this platform's init script, the chapter as arguments.
    link = urlsplit(first["deploymentUrl"]["jupyter-python"])
    assert (link.scheme, link.netloc, link.path) == ("https", "datalab.sspcloud.fr", "/launcher/ide/jupyter-python")
    query = {k: v[0] for k, v in parse_qs(link.query).items()}
    assert query == {"autoLaunch": "true",
                     "init.personalInit": f"«https://formation.example.org/services/book/{INIT_SCRIPT}»",
                     "init.personalInitArgs": "«https://formation.example.org ml 01-premiers-modeles»"}
    every_url = [u for r in resources for p in r["parts"] for u in (p["articleUrl"], *p["deploymentUrl"].values())]
    assert all(u.startswith("https://") for u in every_url)


def test_the_typescript_file_type_checks_against_the_catalogue_type(exported, tmp_path):
    _, resources = exported
    (tmp_path / "-index.ts").write_text(SSPCLOUD_TYPES)
    (tmp_path / "autoformation.ts").write_text(typescript(resources))
    tsc = ROOT / "node_modules" / ".bin" / "tsc"
    assert tsc.exists(), "TypeScript comes with `make install` (package.json)"
    args = ["--noEmit", "--strict", "--target", "es2022", "--module", "es2022", "--moduleResolution", "bundler"]
    checked = subprocess.run([str(tsc), *args, "autoformation.ts"], cwd=tmp_path, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # The check is real: a resource without its authors, or with a tag the catalogue does not know, fails it.
    broken = json.loads(json.dumps(resources))
    broken[0]["parts"][0]["authors"] = []
    broken[1]["parts"][0]["tags"] = ["Scraping"]
    (tmp_path / "autoformation.ts").write_text(typescript(broken))
    failed = subprocess.run([str(tsc), *args, "autoformation.ts"], cwd=tmp_path, capture_output=True, text=True)
    assert failed.returncode != 0 and "requires 1" in failed.stdout and "'\"Scraping\"'" in failed.stdout, failed.stdout


def test_the_command_writes_json_and_typescript(tmp_path, capsys):
    assert cli(["catalogue", "export", "--format", "sspcloud", "--lang", "fr", "--output", str(tmp_path)]) == 0
    written = json.loads((tmp_path / "autoformation.json").read_text())
    assert all(set(r["name"]) == {"fr"} for r in written if isinstance(r["name"], dict))
    assert (tmp_path / "autoformation.ts").read_text().startswith('import type { EducationalResource }')
    assert f"{len(written)} collections" in capsys.readouterr().out
