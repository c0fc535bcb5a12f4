"""Writes the invented data the API of chapters 03 and 04 serves (data/*.csv), and copies the server module.

Run: python courses/webscraping/tools/make_data.py. Fixed seed: running it again gives byte-identical files.
The server module is written once, in source/03-api-json/serveur_api.py; chapter 04 gets a byte-identical copy
(each assignment folder must be self-contained).
"""

import csv
import random
import shutil
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[1] / "source"
ASSIGNMENTS = ["03-api-json", "04-jeu-de-donnees-propre"]

DEPARTEMENTS = [("01", "Ain", "Auvergne-Rhône-Alpes", 11), ("07", "Ardèche", "Auvergne-Rhône-Alpes", 8),
                ("2A", "Corse-du-Sud", "Corse", 7), ("2B", "Haute-Corse", "Corse", 9),
                ("29", "Finistère", "Bretagne", 13), ("33", "Gironde", "Nouvelle-Aquitaine", 12)]
RACINES = {
    "Auvergne-Rhône-Alpes": ["Saint-Martin", "Montagnac", "Bellecombe", "Villeneuve", "Aubenas", "Vals", "Chavanay",
                             "Priay", "Cerdon", "Lagnieu", "Joyeuse", "Vernoux", "Lablachère", "Coligny"],
    "Corse": ["Porto", "Sartène", "Calvi", "Olmeto", "Zonza", "Corte", "Aléria", "Borgo", "Lumio", "Santa-Reparata",
              "Vico", "Piana"],
    "Bretagne": ["Plouzané", "Kerlouan", "Lanvéoc", "Ploudalmézeau", "Landerneau", "Plougastel", "Locronan",
                 "Trégunc", "Pleyben", "Guipavas", "Roscoff", "Carhaix", "Loctudy", "Plabennec", "Rosporden"],
    "Nouvelle-Aquitaine": ["Lacanau", "Salles", "Blaye", "Pauillac", "Cadillac", "Langon", "Libourne", "Soulac",
                           "Biganos", "Créon", "Sauveterre", "Lormont", "Castelnau"],
}
SUFFIXES = ["", "", "", "-sur-Mer", "-les-Bains", "-le-Haut", "-d'en-Bas", "-en-Plaine", "-la-Forêt"]


def communes(rng: random.Random) -> list[dict]:
    rows = []
    for code_dep, _, region, n in DEPARTEMENTS:
        noms = rng.sample(RACINES[region], n)
        numeros = sorted(rng.sample(range(1, 400), n))
        for nom, numero in zip(noms, numeros, strict=True):
            rows.append({"code_commune": f"{code_dep}{numero:03d}", "nom": nom + rng.choice(SUFFIXES),
                         "departement": code_dep, "superficie_km2": f"{rng.uniform(3, 95):.2f}",
                         "date_maj": f"2024-{rng.randrange(1, 7):02d}-{rng.randrange(1, 29):02d}"})
    # A few communes were revised later (new name): the API serves both versions, the newest at the end.
    for old in rng.sample(rows, 4):
        new = dict(old, nom=old["nom"].split("-")[0] + "-Nouvelle", date_maj=f"2024-{rng.randrange(8, 12):02d}-15")
        last = max(i for i, r in enumerate(rows) if r["departement"] == old["departement"])
        rows.insert(last + 1, new)
    return rows


def populations(rng: random.Random, rows: list[dict]) -> list[dict]:
    codes = list(dict.fromkeys(r["code_commune"] for r in rows))
    extra = [f"35{n:03d}" for n in sorted(rng.sample(range(1, 300), 3))]  # communes the API does not serve
    out = []
    for code in codes + extra:
        jour, mois = rng.randrange(1, 29), rng.choice([1, 12])
        out.append({"code_commune": code, "annee": "2021",
                    "population_municipale": str(int(rng.lognormvariate(7.6, 1.1)) + 50),
                    "date_publication": f"{jour:02d}/{mois:02d}/{2023 if mois == 12 else 2024}"})
    return out


def write(path: Path, rows: list[dict], sep: str = ",") -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), delimiter=sep, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    rng = random.Random(2025)
    rows = communes(rng)
    pops = populations(rng, rows)
    deps = [{"code": c, "nom": n, "region": r} for c, n, r, _ in DEPARTEMENTS]
    for assignment in ASSIGNMENTS:
        data = SOURCE / assignment / "data"
        data.mkdir(parents=True, exist_ok=True)
        write(data / "communes.csv", rows)
        write(data / "departements.csv", deps)
        write(data / "population_legale.csv", pops, sep=";")
        print("wrote", data)
    shutil.copyfile(SOURCE / ASSIGNMENTS[0] / "serveur_api.py", SOURCE / ASSIGNMENTS[1] / "serveur_api.py")
