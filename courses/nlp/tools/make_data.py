# ruff: noqa: E501  (vocabulary lists are kept one section per line)
"""Writes the NLP course's corpus and stop-word list (run: python courses/nlp/tools/make_data.py).

The corpus imitates the free-text activity descriptions that businesses declare and that statistical
offices code into NAF sections: each description is assembled from templates and a vocabulary per
section by a fixed-seed generator, so the files are identical on every run. Both files are copied next
to each assignment notebook (nbgrader releases an assignment's folder as is).
"""

import csv
import random
import re
import unicodedata
from pathlib import Path

SEED = 20240602
PER_SECTION = 70
COURSE = Path(__file__).resolve().parents[1]
ASSIGNMENTS = ["01-preparer-le-texte", "02-classer-les-activites"]
# Chapters 3 and 4 work on messier "declarations": typos, abbreviations, vague or double activities.
NOISY_SEED = 20261130
NOISY_ASSIGNMENTS = ["03-fautes-et-ngrammes", "04-seuils-et-reprise"]
NOISY_TRAIN, NOISY_TEST = 1800, 600

SECTIONS = {
    "A": "Agriculture, sylviculture et pêche",
    "C": "Industrie manufacturière",
    "F": "Construction",
    "G": "Commerce ; réparation d'automobiles et de motocycles",
    "H": "Transports et entreposage",
    "I": "Hébergement et restauration",
    "J": "Information et communication",
    "P": "Enseignement",
    "Q": "Santé humaine et action sociale",
}

# Per section: activity patterns, each "{}" filled with one of the section's objects.
ACTIVITIES = {
    "A": (["culture de {}", "production de {}", "exploitation agricole : {}", "récolte de {}"],
          ["céréales", "blé tendre", "maïs", "colza", "légumes de plein champ", "pommes de terre", "fruits à noyau", "vignes", "tournesol", "betteraves sucrières", "fourrage"]),
    "A2": (["élevage de {}", "élevage et vente de {}", "naissage et engraissement de {}"],
           ["bovins", "vaches laitières", "porcs", "volailles", "ovins", "chèvres", "chevaux", "poules pondeuses", "canards"]),
    "A3": (["{}"], ["exploitation forestière", "pêche en mer", "aquaculture en eau douce", "maraîchage biologique", "viticulture", "apiculture et production de miel", "sylviculture et abattage de bois", "ostréiculture", "pépinière et horticulture"]),
    "C": (["fabrication de {}", "production industrielle de {}", "usinage et fabrication de {}", "atelier de fabrication de {}"],
          ["meubles en bois", "pièces métalliques", "emballages plastiques", "vêtements de travail", "produits laitiers", "pain et viennoiseries", "charcuterie", "bières artisanales", "composants électroniques", "peintures et vernis", "chaussures", "médicaments", "pièces automobiles", "papier et carton"]),
    "C2": (["{}"], ["imprimerie et reproduction", "chaudronnerie industrielle", "fonderie d'aluminium", "transformation du bois", "tissage et filature", "conserverie de poisson", "fromagerie industrielle", "menuiserie industrielle en usine"]),
    "F": (["travaux de {}", "entreprise générale de {}", "réalisation de {}", "{} pour particuliers et professionnels"],
          ["maçonnerie", "couverture et zinguerie", "plâtrerie", "carrelage", "charpente", "terrassement", "plomberie et chauffage", "installation électrique", "peinture en bâtiment", "isolation thermique", "gros œuvre", "étanchéité des toitures"]),
    "F2": (["construction de {}", "rénovation de {}", "démolition de {}"],
           ["maisons individuelles", "bâtiments", "logements collectifs", "routes", "ouvrages d'art", "réseaux d'assainissement", "immeubles"]),
    "G": (["vente de {}", "commerce de détail de {}", "commerce de gros de {}", "magasin de {}", "négoce de {}"],
          ["vêtements", "chaussures", "produits alimentaires", "fruits et légumes", "matériel informatique", "articles de sport", "meubles", "jouets", "fleurs", "produits d'entretien", "livres et journaux", "vins et spiritueux", "matériaux de construction"]),
    "G2": (["{}"], ["réparation et entretien de véhicules automobiles", "garage automobile, mécanique et carrosserie", "vente de voitures neuves et d'occasion", "supérette de quartier", "épicerie fine", "boulangerie dépôt de pain", "vente en ligne de vêtements", "commerce ambulant sur les marchés"]),
    "H": (["transport routier de {}", "transport de {}", "livraison de {}", "entreposage et stockage de {}"],
          ["marchandises", "colis", "voyageurs", "produits frais", "matériaux", "déchets", "meubles", "produits surgelés"]),
    "H2": (["{}"], ["taxi et voiture de transport avec chauffeur", "transport scolaire en autocar", "déménagement", "ambulance non médicalisée", "messagerie et fret express", "affrètement et organisation des transports", "transport fluvial", "services de coursiers à vélo", "manutention portuaire"]),
    "I": (["{}"], ["restaurant traditionnel", "restauration rapide", "hôtel avec restaurant", "chambres d'hôtes", "camping et parc résidentiel", "brasserie", "pizzeria sur place et à emporter", "crêperie", "traiteur pour réceptions", "débit de boissons", "café bar", "gîte rural", "auberge de jeunesse", "salon de thé", "cantine d'entreprise", "food truck de burgers", "hôtel trois étoiles", "résidence de tourisme", "restaurant gastronomique"]),
    "I2": (["{} et service de repas", "exploitation d'un {}", "gérance d'un {}"],
           ["restaurant", "hôtel", "bar", "camping", "snack", "restaurant de plage"]),
    "J": (["développement de {}", "édition de {}", "conception de {}", "conseil en {}"],
          ["logiciels", "sites internet", "applications mobiles", "jeux vidéo", "bases de données", "systèmes informatiques", "solutions cloud", "logiciels de gestion"]),
    "J2": (["{}"], ["édition de livres", "production de films et de vidéos", "radio locale", "chaîne de télévision", "agence de presse", "télécommunications et accès internet", "hébergement de sites web", "studio d'enregistrement musical", "édition de journaux", "programmation informatique", "infogérance et maintenance informatique", "traitement de données"]),
    "P": (["cours de {}", "formation en {}", "enseignement de {}", "soutien scolaire en {}"],
           ["mathématiques", "langues étrangères", "anglais", "musique", "informatique", "conduite", "danse", "français", "comptabilité", "secourisme"]),
    "P2": (["{}"], ["école maternelle et élémentaire", "collège privé", "lycée professionnel", "auto-école", "organisme de formation continue", "école de musique", "enseignement supérieur", "école de danse", "centre de formation d'apprentis", "formation professionnelle pour adultes", "école de pilotage"]),
    "Q": (["{}"], ["cabinet médical de médecine générale", "cabinet dentaire", "infirmier libéral", "kinésithérapeute", "laboratoire d'analyses médicales", "clinique privée", "maison de retraite médicalisée", "aide à domicile pour personnes âgées", "crèche collective", "centre de santé", "orthophoniste", "sage-femme libérale", "psychologue", "centre d'hébergement social", "soins à domicile", "cabinet de radiologie", "foyer pour personnes handicapées", "ostéopathe", "pédiatre", "médecin spécialiste en cardiologie"]),
}

PREFIXES = ["", "", "", "", "Entreprise de ", "Société spécialisée dans : ", "Activité principale : ", "SARL - ", "Auto-entrepreneur, ", "Artisan : "]
SUFFIXES = ["", "", "", "", "", " à Lyon", " en zone rurale", " en Bretagne", " dans le département du Nord", ", clientèle de particuliers", ", entreprise familiale", " depuis 2015", " et activités annexes", " (activité secondaire : conseil)", ", à Marseille et alentours", " sur toute la région"]


ELISION = re.compile(r"\bde ([aeiouyéèêâîô])")


def _strip_accents(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFD", text) if unicodedata.category(ch) != "Mn")


def _description(rng: random.Random, section: str) -> str:
    keys = [k for k in ACTIVITIES if k.rstrip("0123456789") == section]
    patterns, objects = ACTIVITIES[rng.choice(keys)]
    core = rng.choice(patterns).format(rng.choice(objects))
    prefix, suffix = rng.choice(PREFIXES), rng.choice(SUFFIXES)
    text = f"{prefix}{core if prefix else core[0].upper() + core[1:]}{suffix}"
    text = ELISION.sub(r"d'\1", text)  # "de applications" -> "d'applications"
    style = rng.random()
    if style < 0.15:  # forms typed in capitals, often without accents
        text = _strip_accents(text).upper()
    elif style < 0.25:
        text = text.lower()
    return text


def make_corpus(rng: random.Random) -> list[dict]:
    rows = []
    for section in SECTIONS:
        seen = set()
        while len(seen) < PER_SECTION:
            text = _description(rng, section)
            if text.lower() not in {s.lower() for s in seen}:
                seen.add(text)
        rows += [{"description": t, "section": section, "libelle_section": SECTIONS[section]} for t in sorted(seen)]
    rng.shuffle(rows)
    return [{"identifiant": f"D{i:04d}", **row} for i, row in enumerate(rows, start=1)]


# Common French function words, written as the course's normalisation leaves them
# (lower case, no accents), plus elisions such as l' and d' that tokenisation leaves as single letters.
STOP_WORDS = """
a au aux avec ce ces cet cette ci comme d dans de des du elle en et etc eux il ils je l la le les leur
leurs lui m ma mais me meme mes moi mon n ne nos notre nous on ou par pas pour qu que qui s sa se ses
son sur t ta te tes toi ton tu un une vos votre vous y c j ete etre avoir fait sont est ont sans sous
chez entre vers plus tres tout tous toute toutes autre autres dont ainsi alors aussi donc or ni car
depuis pendant avant apres
""".split()


# Abbreviations seen in real declarations (applied to lower-case words, before typos).
ABBREVIATIONS = {
    "fabrication": ["fab", "fabric", "fabr."], "production": ["prod", "prod."], "commerce": ["comm", "cce", "commerce"],
    "vente": ["vte", "vnte"], "détail": ["det", "dét."], "réparation": ["repar", "répa"],
    "entretien": ["entr", "entret."], "transport": ["transp", "trspt"], "transports": ["transp", "trspts"],
    "restaurant": ["resto", "restau", "rest."], "restauration": ["restau", "resto"], "développement": ["dev", "dévpt"],
    "informatique": ["info", "inform."], "logiciels": ["logic", "log."], "entreprise": ["ent", "entr."],
    "société": ["sté", "ste"], "travaux": ["trav", "trvx"], "construction": ["const", "constr"],
    "rénovation": ["réno", "renov"], "formation": ["form", "formation"], "enseignement": ["enseig", "ens."],
    "agricole": ["agri", "agric"], "exploitation": ["exploit", "expl"], "élevage": ["elev", "élev."],
    "marchandises": ["march", "mses"], "véhicules": ["vhl", "véh."], "automobiles": ["auto", "autos"],
    "installation": ["install", "instal"], "médicale": ["méd", "med"], "médecine": ["méd", "medecine"],
    "particuliers": ["partic", "part."], "professionnels": ["pros", "prof."], "services": ["serv", "svc"],
    "hébergement": ["héberg", "hebergt"], "livraison": ["livr", "livraison"], "conseil": ["cons", "conseil"],
}
KEYBOARD = "azertyuiopqsdfghjklmwxcvbn"
VAGUE = ["prestations de services", "activités diverses", "services aux entreprises et aux particuliers", "holding",
         "SARL en création", "autre activité", "multi services", "négoce et prestations", "activité non précisée",
         "travaux divers", "sous-traitance", "conseil et services"]


def _typo(rng: random.Random, word: str) -> str:
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.random()
    if kind < 0.3:  # a letter forgotten
        return word[:i] + word[i + 1:]
    if kind < 0.55:  # two letters swapped
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind < 0.75:  # a letter typed twice
        return word[:i] + word[i] + word[i:]
    return word[:i] + rng.choice(KEYBOARD) + word[i + 1:]  # a wrong key


def _noisy(rng: random.Random, text: str) -> str:
    words = []
    for word in text.split(" "):
        low = word.lower()
        if low in ABBREVIATIONS and rng.random() < 0.35:
            word = rng.choice(ABBREVIATIONS[low])
        elif rng.random() < 0.18:
            word = _typo(rng, word)
        words.append(word)
    text = " ".join(words)
    style = rng.random()
    if style < 0.25:
        text = _strip_accents(text).upper()
    elif style < 0.4:
        text = _strip_accents(text)
    elif style < 0.55:
        text = text.lower()
    return text


def _core(rng: random.Random, section: str) -> str:
    """One activity of the section, without prefix or suffix (the second activity of a declaration)."""
    keys = [k for k in ACTIVITIES if k.rstrip("0123456789") == section]
    patterns, objects = ACTIVITIES[rng.choice(keys)]
    return ELISION.sub(r"d'\1", rng.choice(patterns).format(rng.choice(objects)))


def make_declarations(rng: random.Random, count: int) -> list[dict]:
    """Messy declarations: one activity (most), two activities (label: either one), or a vague text."""
    sections = list(SECTIONS)
    rows = []
    for _ in range(count):
        section = rng.choice(sections)
        kind = rng.random()
        if kind < 0.05:
            text = rng.choice(VAGUE)
        elif kind < 0.17:
            other = rng.choice([s for s in sections if s != section])
            first, second = (section, other) if rng.random() < 0.6 else (other, section)
            text = f"{_description(rng, first)} et {_core(rng, second)}"
        else:
            text = _description(rng, section)
        rows.append({"description": _noisy(rng, text), "section": section})
    return rows


def write_declarations() -> None:
    rng = random.Random(NOISY_SEED)
    rows = make_declarations(rng, NOISY_TRAIN + NOISY_TEST)
    samples = {"apprentissage": rows[:NOISY_TRAIN], "test": rows[NOISY_TRAIN:]}
    for assignment in NOISY_ASSIGNMENTS:
        folder = COURSE / "source" / assignment / "data"
        folder.mkdir(parents=True, exist_ok=True)
        start = 1
        for name, sample in samples.items():
            path = folder / f"declarations_{name}.csv"
            with open(path, "w", encoding="utf-8", newline="") as out:
                writer = csv.DictWriter(out, fieldnames=["identifiant", "description", "section"])
                writer.writeheader()
                writer.writerows({"identifiant": f"E{start + i:05d}", **row} for i, row in enumerate(sample))
            start += len(sample)
            print("wrote", path, f"{path.stat().st_size // 1024} KB")


def main() -> None:
    corpus = make_corpus(random.Random(SEED))
    for assignment in ASSIGNMENTS:
        folder = COURSE / "source" / assignment / "data"
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / "activites.csv", "w", encoding="utf-8", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=["identifiant", "description", "section", "libelle_section"])
            writer.writeheader()
            writer.writerows(corpus)
        (folder / "mots_vides_fr.txt").write_text("\n".join(sorted(set(STOP_WORDS))) + "\n", encoding="utf-8")
        print("wrote", folder, f"{(folder / 'activites.csv').stat().st_size // 1024} KB")
    write_declarations()


if __name__ == "__main__":
    main()
