"""Writes the fondamentaux course's synthetic data (run: python courses/fondamentaux/tools/make_data.py).

Everything is drawn from a fixed-seed generator, so the files are byte-identical on every run. The
tables imitate INSEE's open data (Code officiel géographique, statistiques locales, an extract of a
household survey) but are synthetic: the département codes and names are real, the prefecture names
and codes are real, the other commune names are invented and every number is simulated.

Files (copied next to the notebooks that use them; nbgrader releases an assignment's folder as is):
- communes.csv: code_commune, nom_commune, dep (current geography, with three "communes nouvelles");
- population.csv: code_commune, dep, population, superficie_km2, nb_logements, revenu_median
  (older geography: the communes merged since then still have their own line; revenu_median is
  missing for small communes, as under statistical confidentiality);
- departements.csv: dep, nom_dep, region, lon, lat (approximate centroids, metropolitan France only);
- enquete_menages.csv: a household survey extract with sampling weights (poids), continental
  départements only (so its `dep` column looks numeric: the leading-zero trap).
"""

from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20241117
COURSE = Path(__file__).resolve().parents[1]
FILES = {
    "01-python-de-base": [],
    "02-pandas-lire-et-selectionner": ["communes.csv", "population.csv", "enquete_menages.csv"],
    "03-pandas-joindre-et-agreger": ["communes.csv", "population.csv", "departements.csv", "enquete_menages.csv"],
    "04-graphiques-et-carte": ["population.csv", "departements.csv"],
}

# code, name, region, approximate centroid (lon, lat) or None, prefecture (code, name), number of communes
DEPARTEMENTS = [
    ("01", "Ain", "Auvergne-Rhône-Alpes", (5.35, 46.10), ("01053", "Bourg-en-Bresse"), 34),
    ("02", "Aisne", "Hauts-de-France", (3.56, 49.56), ("02408", "Laon"), 30),
    ("05", "Hautes-Alpes", "Provence-Alpes-Côte d'Azur", (6.26, 44.66), ("05061", "Gap"), 18),
    ("06", "Alpes-Maritimes", "Provence-Alpes-Côte d'Azur", (7.12, 43.94), ("06088", "Nice"), 20),
    ("09", "Ariège", "Occitanie", (1.50, 42.92), ("09122", "Foix"), 22),
    ("13", "Bouches-du-Rhône", "Provence-Alpes-Côte d'Azur", (5.09, 43.54), ("13055", "Marseille"), 20),
    ("21", "Côte-d'Or", "Bourgogne-Franche-Comté", (4.77, 47.42), ("21231", "Dijon"), 30),
    ("29", "Finistère", "Bretagne", (-4.10, 48.26), ("29232", "Quimper"), 24),
    ("2A", "Corse-du-Sud", "Corse", (8.99, 41.86), ("2A004", "Ajaccio"), 14),
    ("2B", "Haute-Corse", "Corse", (9.28, 42.39), ("2B033", "Bastia"), 16),
    ("31", "Haute-Garonne", "Occitanie", (1.17, 43.36), ("31555", "Toulouse"), 28),
    ("33", "Gironde", "Nouvelle-Aquitaine", (-0.58, 44.83), ("33063", "Bordeaux"), 28),
    ("34", "Hérault", "Occitanie", (3.37, 43.58), ("34172", "Montpellier"), 24),
    ("35", "Ille-et-Vilaine", "Bretagne", (-1.64, 48.15), ("35238", "Rennes"), 24),
    ("38", "Isère", "Auvergne-Rhône-Alpes", (5.58, 45.26), ("38185", "Grenoble"), 30),
    ("44", "Loire-Atlantique", "Pays de la Loire", (-1.68, 47.36), ("44109", "Nantes"), 22),
    ("51", "Marne", "Grand Est", (4.24, 48.95), ("51108", "Châlons-en-Champagne"), 26),
    ("59", "Nord", "Hauts-de-France", (3.22, 50.45), ("59350", "Lille"), 30),
    ("63", "Puy-de-Dôme", "Auvergne-Rhône-Alpes", (3.14, 45.73), ("63113", "Clermont-Ferrand"), 26),
    ("64", "Pyrénées-Atlantiques", "Nouvelle-Aquitaine", (-0.76, 43.26), ("64445", "Pau"), 24),
    ("67", "Bas-Rhin", "Grand Est", (7.55, 48.67), ("67482", "Strasbourg"), 26),
    ("69", "Rhône", "Auvergne-Rhône-Alpes", (4.64, 45.87), ("69123", "Lyon"), 22),
    ("75", "Paris", "Île-de-France", (2.34, 48.86), ("75056", "Paris"), 1),
    ("76", "Seine-Maritime", "Normandie", (1.03, 49.66), ("76540", "Rouen"), 26),
    ("87", "Haute-Vienne", "Nouvelle-Aquitaine", (1.24, 45.89), ("87085", "Limoges"), 18),
    ("93", "Seine-Saint-Denis", "Île-de-France", (2.48, 48.91), ("93008", "Bobigny"), 12),
    ("971", "Guadeloupe", "Guadeloupe", None, ("97105", "Basse-Terre"), 10),
    ("974", "La Réunion", "La Réunion", None, ("97411", "Saint-Denis"), 10),
]
# Départements listed in departements.csv without any commune in the extract.
DEPARTEMENTS_SANS_COMMUNE = [
    ("23", "Creuse", "Nouvelle-Aquitaine", (2.02, 46.09)),
    ("48", "Lozère", "Occitanie", (3.50, 44.52)),
    ("976", "Mayotte", "Mayotte", None),
]
PREFECTURE_POP = {"Marseille": 873000, "Lyon": 522000, "Toulouse": 504000, "Nice": 342000, "Nantes": 320000,
                  "Montpellier": 300000, "Strasbourg": 287000, "Bordeaux": 260000, "Lille": 236000,
                  "Rennes": 222000, "Paris": 2133000, "Saint-Denis": 153000}

SAINTS = ["Martin", "Étienne", "Andéol", "Genès", "Hilaire", "Jean", "Pierre", "Germain", "Aubin", "Léger",
          "Médard", "Rémy", "Éloi", "Julien", "Denis", "Ouen", "Sauveur", "Victor"]
SAINTES = ["Marie", "Anne", "Cécile", "Geneviève", "Hélène", "Colombe", "Foy", "Eulalie"]
ROOTS = ["Beaumont", "Villeneuve", "Fontaine", "Montréal", "Châtillon", "Bréville", "Écouen", "Mesnil",
         "Château-Thierry", "Bellegarde", "Roche", "Clairvaux", "Valbonne", "Vaudémont", "Pré", "Bourg",
         "Chênehutte", "Aubépine", "Rivière", "Échirolles", "Mézières", "Orée", "Sérignan", "Lèves",
         "Champfleury", "Bois-Colombe", "Hautefort", "Ribérac", "Lançon", "Vénès", "Nérac", "Cœuvres"]
SUFFIXES = ["", "", "", "-sur-Mer", "-en-Forêt", "-lès-Bains", "-le-Château", "-sur-Loire", "-la-Rivière",
            "-des-Prés", "-d'Aval", "-en-Vallée", "-le-Vieux", "-sous-Bois", "-du-Lac"]
COMMUNES_NOUVELLES = 3  # per chosen département: old communes merged into the first one


def _name(rng, used):
    while True:
        kind = rng.random()
        if kind < 0.3:
            base = "Saint-" + SAINTS[rng.integers(len(SAINTS))]
        elif kind < 0.4:
            base = "Sainte-" + SAINTES[rng.integers(len(SAINTES))]
        else:
            base = ROOTS[rng.integers(len(ROOTS))]
            if rng.random() < 0.15:
                base = ["Le ", "La ", "Les "][rng.integers(3)] + base
        name = base + SUFFIXES[rng.integers(len(SUFFIXES))]
        if name not in used:
            used.add(name)
            return name


def make_tables(rng):
    communes, population = [], []
    merged_into = {"01": 2, "21": 3, "51": 2}  # département -> number of old communes merged
    for dep, _nom, _reg, _xy, (code_pref, nom_pref), n in DEPARTEMENTS:
        used = {nom_pref}
        prefix = dep  # a commune code = the département code + the commune's number (5 characters in all)
        width = 5 - len(prefix)
        pref_number = int(code_pref[len(prefix):])
        drawn = rng.choice(np.arange(1, 10 ** width), size=n + 5, replace=False).tolist()
        numbers = [k for k in sorted(set(drawn)) if k != pref_number][: n - 1] + [pref_number]
        codes = sorted(f"{prefix}{k:0{width}d}" for k in numbers)
        for code in codes:
            is_pref = code == code_pref
            name = nom_pref if is_pref else _name(rng, used)
            if is_pref:
                pop = PREFECTURE_POP.get(nom_pref, int(rng.integers(25000, 90000)))
                area = float(rng.uniform(20, 110)) if nom_pref != "Paris" else 105.4
            else:
                pop = int(np.exp(rng.normal(6.6, 1.3)))
                pop = max(pop, 12)
                area = float(np.exp(rng.normal(2.6, 0.6)))
            density = pop / area
            households = pop / rng.uniform(2.0, 2.5)
            logements = int(households * rng.uniform(1.05, 1.35))
            revenu = 21500 + 1400 * np.log10(density + 1) + rng.normal(0, 2200)
            if dep in ("971", "974"):
                revenu -= 6000
            if dep == "93":
                revenu -= 4500
            revenu = int(round(revenu, -1))
            revenu_median = revenu if households >= 50 else np.nan
            communes.append({"code_commune": code, "nom_commune": name, "dep": dep})
            population.append({"code_commune": code, "dep": dep, "population": int(pop),
                               "superficie_km2": round(area, 2), "nb_logements": logements,
                               "revenu_median": revenu_median})
        if dep in merged_into:
            # The first non-prefecture communes of the département absorbed `k` neighbours: the
            # population table (older geography) still has the absorbed communes.
            host = next(c for c in communes if c["dep"] == dep and c["code_commune"] != code_pref)
            host["nom_commune"] = host["nom_commune"].split("-")[0] + "-en-" + ["Bresse", "Auxois", "Champagne"][
                list(merged_into).index(dep)]
            taken = {c["code_commune"] for c in communes}
            free = [f"{prefix}{k:0{width}d}" for k in range(1, 10 ** width) if f"{prefix}{k:0{width}d}" not in taken]
            for code in rng.choice(free, size=merged_into[dep], replace=False):
                pop = int(np.exp(rng.normal(5.5, 0.7)))
                area = float(np.exp(rng.normal(2.4, 0.4)))
                population.append({"code_commune": str(code), "dep": dep, "population": pop,
                                   "superficie_km2": round(area, 2), "nb_logements": int(pop / 2.1),
                                   "revenu_median": np.nan if pop < 110 else int(round(21000 + rng.normal(0, 2000), -1))})
    communes = pd.DataFrame(communes).sort_values("code_commune", ignore_index=True)
    population = pd.DataFrame(population).sort_values("code_commune", ignore_index=True)
    population["revenu_median"] = population["revenu_median"].astype("Int64")
    rows = [{"dep": d, "nom_dep": nom, "region": reg, "lon": xy[0] if xy else np.nan, "lat": xy[1] if xy else np.nan}
            for d, nom, reg, xy, *_ in DEPARTEMENTS + [x + (None, 0) for x in DEPARTEMENTS_SANS_COMMUNE]]
    departements = pd.DataFrame(rows).sort_values("dep", ignore_index=True)
    return communes, population, departements


def make_survey(rng, n=1800):
    """Households of ten continental départements; well-off households are over-sampled (small weights)."""
    deps = ["01", "02", "05", "06", "09", "13", "21", "31", "33", "38"]
    dep = rng.choice(deps, size=n)
    taille = rng.choice([1, 2, 3, 4, 5, 6], size=n, p=[0.36, 0.33, 0.13, 0.11, 0.05, 0.02])
    age = rng.integers(20, 92, size=n)
    log_rev = np.log(22000) + 0.35 * np.log(taille) + 0.006 * (age - 20) + rng.normal(0, 0.45, n)
    revenu = np.round(np.exp(log_rev), -1)
    p_prop = 1 / (1 + np.exp(-(-2.2 + 0.045 * (age - 20) + 0.9 * (log_rev - np.log(24000)))))
    u = rng.random(n)
    statut = np.where(u < p_prop, "Propriétaire", np.where(u < p_prop + (1 - p_prop) * 0.93, "Locataire",
                                                             "Logé gratuitement"))
    # Over-sampling of high incomes: their inclusion probability is higher, so their weight is lower.
    rang = pd.Series(revenu).rank(pct=True).to_numpy()
    poids = np.round(np.where(rang > 0.75, 180, 620) * rng.uniform(0.8, 1.25, n), 1)
    revenu_obs = pd.array(revenu.astype(int), dtype="Int64")
    revenu_obs[rng.random(n) < 0.04] = pd.NA  # non-réponse
    return pd.DataFrame({
        "id_menage": [f"M{i:05d}" for i in range(1, n + 1)], "dep": dep, "taille_menage": taille,
        "age_referent": age, "statut_logement": statut, "revenu_disponible": revenu_obs, "poids": poids,
    })


def main() -> None:
    rng = np.random.default_rng(SEED)
    communes, population, departements = make_tables(rng)
    tables = {"communes.csv": communes, "population.csv": population, "departements.csv": departements,
              "enquete_menages.csv": make_survey(rng)}
    for assignment, names in FILES.items():
        for name in names:
            target = COURSE / "source" / assignment / "data" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            tables[name].to_csv(target, index=False, lineterminator="\n")
            print("wrote", target.relative_to(COURSE), f"{target.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
