# ruff: noqa: E501  (HTML page text below is kept as it is served)
"""Writes the small invented website the first two webscraping assignments scrape (served on 127.0.0.1).

Run: python courses/webscraping/tools/build_site.py. The figures are invented, generated from a fixed seed.
"""

import random
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[1] / "source"
ASSIGNMENTS = ["01-requetes-et-html", "02-robots-et-pagination"]
THIN_SPACE = "\u202f"  # French thousands separator (narrow no-break space)

DEPARTEMENTS = [
    ("01", "Ain", "Auvergne-Rhône-Alpes"), ("03", "Allier", "Auvergne-Rhône-Alpes"),
    ("07", "Ardèche", "Auvergne-Rhône-Alpes"), ("21", "Côte-d'Or", "Bourgogne-Franche-Comté"),
    ("25", "Doubs", "Bourgogne-Franche-Comté"), ("29", "Finistère", "Bretagne"), ("35", "Ille-et-Vilaine", "Bretagne"),
    ("56", "Morbihan", "Bretagne"), ("33", "Gironde", "Nouvelle-Aquitaine"), ("40", "Landes", "Nouvelle-Aquitaine"),
    ("64", "Pyrénées-Atlantiques", "Nouvelle-Aquitaine"), ("87", "Haute-Vienne", "Nouvelle-Aquitaine"),
    ("13", "Bouches-du-Rhône", "Provence-Alpes-Côte d'Azur"), ("84", "Vaucluse", "Provence-Alpes-Côte d'Azur"),
]
REGIONS = sorted({region for _, _, region in DEPARTEMENTS})
THEMES = ["Emploi", "Démographie", "Prix", "Entreprises", "Logement"]
SUJETS = ["Le chômage", "Les naissances", "Les loyers", "Les créations d'entreprises", "Les prix de l'énergie",
          "L'emploi salarié", "Les mariages", "Les défaillances", "La construction neuve", "Les salaires"]
QUALIFICATIFS = ["au premier trimestre", "en 2023", "dans les territoires", "sur dix ans", "selon l'âge",
                 "par région", "en zone rurale", "au second semestre"]


def page(title: str, body: str, root: str = "") -> str:
    return f"""<!DOCTYPE html>
<html lang="fr">
<head>
  <meta charset="utf-8">
  <title>{title} – Observatoire fictif</title>
  <link rel="stylesheet" href="{root}style.css">
</head>
<body>
  <header><p class="site"><a href="{root}index.html">Observatoire statistique fictif</a></p></header>
  <main>
    <h1>{title}</h1>
{body}
  </main>
  <footer><p>Données inventées pour la formation. Aucune valeur n'est réelle.</p></footer>
</body>
</html>
"""


def french_int(value: int) -> str:
    return f"{value:,}".replace(",", THIN_SPACE)


def french_decimal(value: float) -> str:
    return f"{value:.2f}".replace(".", ",")


def build(rng: random.Random) -> dict[str, str]:
    files = {}
    files["index.html"] = page("Accueil", """    <p>Bienvenue sur le site de l'observatoire. Vous y trouverez nos tableaux et nos publications.</p>
    <nav>
      <ul>
        <li><a href="population.html">Population par département</a></li>
        <li><a href="prix.html">Prix moyens par région</a></li>
        <li><a href="publications/liste.html">Publications</a></li>
        <li><a href="communiques/liste.html">Communiqués</a></li>
        <li><a href="archives.html">Archives</a></li>
      </ul>
    </nav>
    <p class="note">Un espace est réservé aux agents : <a href="prive/index.html">espace privé</a>.</p>
    <p class="note">Nos partenaires : <a href="http://127.0.0.1:9/partenaire.html">site d'un partenaire</a>.</p>""")

    rows = []
    for code, nom, region in DEPARTEMENTS:
        population = rng.randrange(150_000, 2_100_000)
        rows.append(f"        <tr><td>{code}</td><td>{nom}</td><td>{region}</td>"
                    f"<td class=\"nombre\">{french_int(population)}</td></tr>")
    files["population.html"] = page("Population par département", f"""    <p>Population au 1<sup>er</sup> janvier 2024 (chiffres inventés).</p>
    <table id="sources">
      <tr><th>Source</th><td>Recensement fictif</td></tr>
      <tr><th>Mise à jour</th><td>15 janvier 2024</td></tr>
    </table>
    <table id="population">
      <caption>Population par département</caption>
      <thead>
        <tr><th>Code</th><th>Département</th><th>Région</th><th>Population</th></tr>
      </thead>
      <tbody>
{chr(10).join(rows)}
      </tbody>
    </table>""")

    rows = []
    for region in REGIONS:
        pain, lait, gazole = rng.uniform(2.9, 4.2), rng.uniform(0.95, 1.35), rng.uniform(1.65, 1.95)
        rows.append(f"        <tr><td>{region}</td><td>{french_decimal(pain)}</td>"
                    f"<td>{french_decimal(lait)}</td><td>{french_decimal(gazole)}</td></tr>")
    files["prix.html"] = page("Prix moyens par région", f"""    <p>Prix moyens relevés en mars 2024, en euros (chiffres inventés).</p>
    <table class="prix">
      <thead>
        <tr><th>Région</th><th>Pain (€/kg)</th><th>Lait (€/l)</th><th>Gazole (€/l)</th></tr>
      </thead>
      <tbody>
{chr(10).join(rows)}
      </tbody>
    </table>""")

    # Two paginated series. Page addresses carry a random token: the only way from one page to the next
    # is the rel="next" link (the learners' crawler is graded on both series, and on how it gets there).
    for dossier, sizes, theme_titre in [("publications", [7, 8, 8, 6], "Publications"),
                                        ("communiques", [5, 6, 4], "Communiqués")]:
        names = ["liste.html"] + [f"suite-{rng.getrandbits(24):06x}.html" for _ in sizes[1:]]
        numero = 0
        for index, size in enumerate(sizes):
            articles = []
            for _ in range(size):
                numero += 1
                titre = f"{rng.choice(SUJETS)} {rng.choice(QUALIFICATIFS)}"
                # Three publications a month, newest first: late, mid and early in the month.
                day = rng.randrange(*[(1, 10), (20, 29), (10, 20)][numero % 3])
                annee = 2024 if dossier == "publications" else 2023
                date = f"{annee}-{12 - (numero - 1) // 3:02d}-{day:02d}"
                theme = rng.choice(THEMES)
                articles.append(f"""    <article class="publication">
      <h2>{titre}</h2>
      <p class="meta">Publié le <span class="date">{date}</span> · thème <span class="theme">{theme}</span></p>
    </article>""")
            nav = []
            if index > 0:
                nav.append(f'<a rel="prev" href="{names[index - 1]}">Page précédente</a>')
            nav.append(f"<span>Page {index + 1}</span>")
            if index < len(sizes) - 1:
                nav.append(f'<a rel="next" href="{names[index + 1]}">Page suivante</a>')
            body = "\n".join(articles) + f"""
    <nav class="pagination">{" ".join(nav)}</nav>"""
            files[f"{dossier}/{names[index]}"] = page(f"{theme_titre} (page {index + 1})", body, root="../")

    files["prive/index.html"] = page("Espace privé", """    <p>Cet espace est réservé aux agents de l'observatoire. Les robots n'ont rien à faire ici.</p>
    <p><a href="fichiers.html">Fichiers internes</a></p>""", root="../")
    files["prive/fichiers.html"] = page("Fichiers internes", "    <p>Documents de travail internes.</p>", root="../")
    files["style.css"] = "body { font-family: sans-serif; max-width: 50em; margin: auto; }\n" \
                         "table { border-collapse: collapse; } td, th { border: 1px solid #999; padding: .2em .5em; }\n" \
                         ".nombre { text-align: right; }\n"
    files["robots.txt"] = """# Règles pour les robots de l'observatoire fictif
User-agent: AspirateurGlouton
Disallow: /

User-agent: *
Disallow: /prive/
"""
    return files


if __name__ == "__main__":
    files = build(random.Random(2024))
    for assignment in ASSIGNMENTS:
        site = SOURCE / assignment / "site"
        for name, text in files.items():
            path = site / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        print("wrote", site)
