"""Writes the ML course's synthetic employment survey (run: python courses/ml/tools/make_data.py).

Every value is drawn from a fixed-seed generator, so the file is identical on every run; the same
CSV is copied next to each assignment notebook (nbgrader releases an assignment's folder as is).
"""

from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20240601
N_PEOPLE = 2000
COURSE = Path(__file__).resolve().parents[1]
ASSIGNMENTS = ["01-premiers-modeles", "02-evaluer-et-ajuster", "03-pipelines-et-regression",
               "04-interpreter-et-rendre-compte"]

# Diploma, its share in the population and its effect on log income.
DIPLOMAS = {"Aucun diplôme": (0.15, -0.25), "CAP-BEP": (0.25, -0.10), "Bac": (0.22, 0.0),
            "Bac+2": (0.16, 0.15), "Bac+3 ou plus": (0.22, 0.40)}
# Region, its share and its effect on log income (Île-de-France pays more).
REGIONS = {"Île-de-France": (0.19, 0.18), "Auvergne-Rhône-Alpes": (0.13, 0.03),
           "Hauts-de-France": (0.10, -0.05), "Nouvelle-Aquitaine": (0.10, -0.03),
           "Occitanie": (0.10, -0.04), "Grand Est": (0.09, -0.02), "Bretagne": (0.08, -0.03),
           "Provence-Alpes-Côte d'Azur": (0.08, 0.0), "Normandie": (0.07, -0.05)}
CONTRACTS = {"CDI": 0.74, "CDD": 0.14, "Intérim": 0.05, "Indépendant": 0.07}
HIGH_INCOME = 2500  # euros net per month: the binary target's threshold


def _pick(rng, table, n):
    names = list(table)
    shares = np.array([v[0] if isinstance(v, tuple) else v for v in table.values()], dtype=float)
    return rng.choice(names, size=n, p=shares / shares.sum())


def make_survey(rng: np.random.Generator) -> pd.DataFrame:
    n = N_PEOPLE
    age = rng.integers(18, 65, size=n)
    sexe = rng.choice(["Femme", "Homme"], size=n)
    diplome = _pick(rng, DIPLOMAS, n)
    region = _pick(rng, REGIONS, n)
    contrat = _pick(rng, CONTRACTS, n)
    part_time = rng.random(n) < np.where(sexe == "Femme", 0.26, 0.08)
    heures = np.where(part_time, rng.normal(24, 4, n), rng.normal(38, 3.5, n)).clip(8, 60).round()
    anciennete = np.minimum(age - 18, rng.gamma(2.0, 4.0, n)).clip(0).round()
    log_income = (
        np.log(1450)
        + np.array([DIPLOMAS[d][1] for d in diplome])
        + np.array([REGIONS[r][1] for r in region])
        + 0.022 * (age - 18) - 0.00035 * (age - 18) ** 2
        + 0.008 * anciennete
        + np.log(heures / 35)
        - 0.07 * (sexe == "Femme")
        + np.where(contrat == "CDI", 0.05, np.where(contrat == "Indépendant", 0.10, -0.08))
        + rng.normal(0, 0.22, n)
    )
    revenu = (np.exp(log_income) / 10).round() * 10
    survey = pd.DataFrame({
        "identifiant": [f"P{i:05d}" for i in range(1, n + 1)],
        "age": age, "sexe": sexe, "diplome": diplome, "region": region, "contrat": contrat,
        "heures_semaine": heures.astype(int), "anciennete": anciennete.astype(int),
        "revenu_mensuel": revenu.astype(int),
    })
    survey["revenu_eleve"] = (survey["revenu_mensuel"] > HIGH_INCOME).astype(int)
    return survey


def main() -> None:
    survey = make_survey(np.random.default_rng(SEED))
    for assignment in ASSIGNMENTS:
        target = COURSE / "source" / assignment / "data" / "enquete_emploi.csv"
        target.parent.mkdir(parents=True, exist_ok=True)
        survey.to_csv(target, index=False)
        print("wrote", target, f"{target.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
