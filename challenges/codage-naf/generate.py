"""Synthetic activity descriptions and their NAF section: deterministic (fixed seed), offline.

    python generate.py OUTDIR   ->  OUTDIR/train.csv (id, libelle, section), OUTDIR/test.csv (id, libelle),
                                    OUTDIR/labels.csv (id, section)

Each description is drawn from a section's activities and objects, with what real declarations carry:
filler words, abbreviations, missing accents, typos and words shared between sections; sections are
unbalanced, as in the register.
"""

import csv
import random
import sys
import unicodedata
from pathlib import Path

SECTIONS = {  # section: (weight, activities, objects)
    "A": (4, ["culture", "élevage", "exploitation", "production", "maraîchage"],
          ["de céréales", "de vaches laitières", "viticole", "de volailles", "forestière", "de légumes", "ovin"]),
    "C": (8, ["fabrication", "usinage", "transformation", "production industrielle", "assemblage"],
          ["de pièces métalliques", "de meubles", "de pain industriel", "de produits chimiques",
           "de composants électroniques", "de charpentes", "d'emballages"]),
    "F": (9, ["travaux", "construction", "rénovation", "installation", "pose"],
          ["de maçonnerie", "de plomberie", "de couverture", "électriques", "de maisons individuelles",
           "de menuiserie", "de peinture en bâtiment"]),
    "G": (16, ["commerce de détail", "vente", "commerce de gros", "négoce", "boutique"],
          ["de vêtements", "de chaussures", "alimentaire", "de matériel informatique", "de fleurs",
           "d'articles de sport", "de pièces automobiles"]),
    "H": (5, ["transport", "livraison", "déménagement", "entreposage", "taxi"],
          ["de marchandises", "de voyageurs", "par route", "de colis", "frigorifique", "de personnes"]),
    "I": (9, ["restaurant", "hôtel", "restauration", "débit de boissons", "traiteur"],
          ["traditionnel", "rapide", "de tourisme", "bar brasserie", "pizzeria", "chambres d'hôtes"]),
    "J": (6, ["édition", "développement", "conseil", "hébergement", "production"],
          ["de logiciels", "de sites web", "en systèmes informatiques", "de données", "audiovisuelle",
           "de jeux vidéo"]),
    "K": (3, ["courtage", "agence", "conseil", "gestion"],
          ["en assurance", "bancaire", "de patrimoine", "en crédit", "de fonds"]),
    "M": (10, ["conseil", "cabinet", "études", "expertise", "bureau"],
          ["d'architecture", "comptable", "juridique", "en management", "d'ingénierie", "de géomètre",
           "en communication"]),
    "P": (3, ["enseignement", "formation", "cours", "école", "soutien scolaire"],
          ["de la conduite", "professionnelle continue", "de musique", "de langues", "d'informatique"]),
    "Q": (8, ["cabinet", "soins", "activité", "centre", "pratique"],
          ["médical", "infirmiers", "de kinésithérapie", "dentaire", "d'aide à domicile", "de sage-femme"]),
    "S": (6, ["salon", "réparation", "institut", "services", "entretien"],
          ["de coiffure", "de beauté", "d'ordinateurs", "de pressing", "de chaussures", "esthétique"]),
}
FILLERS = ["", "", "", "toutes activités", "et activités annexes", "sarl", "auto-entrepreneur", "divers",
           "en france", "à domicile", "sur rdv", "siège social"]
ABBREVIATIONS = {"commerce": "comm.", "fabrication": "fab.", "installation": "instal.", "travaux": "trvx",
                 "restauration": "resto", "informatique": "info", "transport": "transp."}
N_TRAIN, N_TEST = 4000, 1000


def noisy(text: str, rng: random.Random) -> str:
    words = [ABBREVIATIONS.get(w, w) if rng.random() < 0.2 else w for w in text.split()]
    text = " ".join(words)
    if rng.random() < 0.3:  # no accents, as typed on some keyboards
        text = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
    if rng.random() < 0.2 and len(text) > 6:  # one typo
        i = rng.randrange(1, len(text) - 1)
        text = text[:i] + text[i + 1] + text[i] + text[i + 2:]
    return text.upper() if rng.random() < 0.25 else text


GENERIC = ["prestations de services", "activités diverses", "holding", "toutes prestations", "négoce et services"]


def description(rng: random.Random, section: str) -> str:
    _, activities, objects = SECTIONS[section]
    if rng.random() < 0.06:  # says nothing of the activity: left for manual coding in real life
        return noisy(f"{rng.choice(GENERIC)} {rng.choice(FILLERS)}".strip(), rng)
    other = SECTIONS[rng.choice([s for s in SECTIONS if s != section])]
    if rng.random() < 0.2:  # words of another section: coding is not keyword matching
        activities = activities + [rng.choice(other[1])]
    if rng.random() < 0.2:
        objects = objects + [rng.choice(other[2])]
    return noisy(" ".join(filter(None, [rng.choice(activities), rng.choice(objects), rng.choice(FILLERS)])), rng)


def write(path: Path, rows: list[dict], columns: list[str]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def main(out: Path) -> None:
    rng = random.Random(20261201)
    sections, weights = list(SECTIONS), [w for w, _, _ in SECTIONS.values()]
    rows = []
    for index in range(N_TRAIN + N_TEST):
        section = rng.choices(sections, weights)[0]
        rows.append({"id": f"E{index:05d}", "libelle": description(rng, section), "section": section})
    out.mkdir(parents=True, exist_ok=True)
    write(out / "train.csv", rows[:N_TRAIN], ["id", "libelle", "section"])
    write(out / "test.csv", rows[N_TRAIN:], ["id", "libelle"])
    write(out / "labels.csv", rows[N_TRAIN:], ["id", "section"])


if __name__ == "__main__":
    main(Path(sys.argv[1]))
