"""Synthetic property sales in the style of the DVF open data: deterministic (fixed seed), offline.

    python generate.py OUTDIR   ->  OUTDIR/train.csv, OUTDIR/test.csv (no price), OUTDIR/labels.csv

Prices follow a plausible model (price per m² by department, house or flat, age, rooms) with noise,
so a linear model on log-prices does clearly better than the mean, and a tree ensemble better still.
"""

import csv
import math
import random
import sys
from pathlib import Path

DEPARTEMENTS = {"75": 10500, "69": 5200, "33": 4600, "13": 3900, "59": 2700, "35": 3800, "67": 3300,
                "31": 3700, "44": 3900, "2A": 3600, "23": 1100, "87": 1600}
N_TRAIN, N_TEST = 3000, 1000
COLUMNS = ["id", "departement", "type_local", "surface", "pieces", "annee_construction", "terrain"]


def sale(rng: random.Random, index: int) -> dict:
    dep = rng.choice(list(DEPARTEMENTS))
    maison = rng.random() < (0.15 if dep == "75" else 0.55)
    surface = round(rng.lognormvariate(math.log(95 if maison else 55), 0.35))
    pieces = max(1, min(9, round(surface / rng.uniform(18, 28))))
    annee = rng.choice([rng.randint(1850, 1945), rng.randint(1946, 1990), rng.randint(1991, 2024)])
    terrain = round(rng.lognormvariate(math.log(600), 0.6)) if maison else 0
    per_m2 = DEPARTEMENTS[dep] * (0.9 if maison else 1.0) * (1.08 if annee > 2010 else 1.0)
    per_m2 *= 1 - 0.02 * max(0, pieces - surface / 22)  # small rooms sell for less
    price = per_m2 * surface + 15 * terrain
    price *= math.exp(rng.gauss(0, 0.12))
    return {"id": f"V{index:05d}", "departement": dep, "type_local": "Maison" if maison else "Appartement",
            "surface": surface, "pieces": pieces, "annee_construction": annee, "terrain": terrain,
            "prix": int(round(price, -2))}


def write(path: Path, rows: list[dict], columns: list[str]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def main(out: Path) -> None:
    rng = random.Random(20261130)
    sales = [sale(rng, i) for i in range(N_TRAIN + N_TEST)]
    out.mkdir(parents=True, exist_ok=True)
    write(out / "train.csv", sales[:N_TRAIN], COLUMNS + ["prix"])
    write(out / "test.csv", sales[N_TRAIN:], COLUMNS)
    write(out / "labels.csv", sales[N_TRAIN:], ["id", "prix"])


if __name__ == "__main__":
    main(Path(sys.argv[1]))
