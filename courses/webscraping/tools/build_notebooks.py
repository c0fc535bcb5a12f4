# ruff: noqa: E501  (notebook text below is kept as learners read it)
"""Writes the webscraping course's nbgrader source notebooks (run: python courses/webscraping/tools/build_notebooks.py).

Run build_site.py first: the notebooks scrape the site it writes next to them, served on 127.0.0.1.
"""

from pathlib import Path

from nbcells import code, free_text, md, notebook, write
from nbcells import exercise as _exercise

SOURCE = Path(__file__).resolve().parents[1] / "source"

# Points per exercise, as announced in each exercise's heading.
POINTS = {
    "ex1-telecharger": 2, "ex2-liens": 1, "ex3-tableau": 2, "ex4-nombres": 2, "ex5-region": 2,
    "ex1-autorise": 1, "ex2-poliment": 2, "ex3-pagination": 3, "ex4-themes": 2,
}


def exercise(grade_id, solution, tests):
    return _exercise(grade_id, solution, tests, points=POINTS[grade_id])


# The notebook serves its own copy of the site on a free loopback port, in a daemon thread.
SERVER = r'''
import functools
import http.server
import os
import threading
from pathlib import Path

# Les adresses 127.0.0.1 (cette machine) ne passent jamais par un proxy.
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

DOSSIER_SITE = Path("site").resolve()
JOURNAL = []  # ce que le serveur reçoit : (chemin demandé, User-Agent)


class Gestionnaire(http.server.SimpleHTTPRequestHandler):
    """Sert les fichiers du dossier site/ et note chaque requête dans JOURNAL."""

    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".html": "text/html; charset=utf-8", ".txt": "text/plain; charset=utf-8"}

    def do_GET(self):
        JOURNAL.append((self.path, self.headers.get("User-Agent", "")))
        super().do_GET()

    def log_message(self, format, *args):
        pass  # pas de journal bavard dans le notebook


serveur = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Gestionnaire, directory=str(DOSSIER_SITE)))
threading.Thread(target=serveur.serve_forever, daemon=True).start()
BASE = f"http://127.0.0.1:{serveur.server_port}"
print("Le site de l'observatoire est servi à l'adresse", BASE)
'''

STOP_SERVER = r'''
serveur.shutdown()
serveur.server_close()
print("Serveur arrêté.")
'''

ENTETES = r'''
import requests

# Un User-Agent qui dit qui vous êtes et comment vous joindre.
ENTETES = {"User-Agent": "FormationScraping/1.0 (formation autoformation ; contact : camille.martin@example.org)"}
'''


def requetes_et_html():
    return notebook([
        md(r'''
# Web scraping (1) : télécharger une page et en extraire un tableau

Beaucoup de statistiques sont publiées sur des pages web, dans des tableaux HTML, sans fichier à
télécharger. Le *web scraping* consiste à écrire un programme qui **télécharge** ces pages puis en
**extrait** les informations utiles, au lieu de les recopier à la main.

Le cycle est toujours le même :

1. **télécharger** la page avec `requests` ;
2. **analyser** le HTML avec `BeautifulSoup` ;
3. **extraire** les éléments voulus (liens, cellules de tableau) ;
4. **nettoyer** et ranger les valeurs dans un `DataFrame` pandas.

> Avant de scraper, cherchez toujours s'il existe un fichier ou une API : c'est plus simple, plus
> fiable, et plus respectueux du site. Le second notebook traite des règles de politesse.

Pour s'entraîner sans dépendre d'internet, le notebook lance **son propre petit site web** (celui d'un
« observatoire fictif », dont les chiffres sont inventés), à l'adresse `127.0.0.1` : c'est votre machine.
Exécutez la cellule suivante pour le démarrer.

Dans chaque exercice, remplacez la ligne `raise NotImplementedError()` par votre code, exécutez la
cellule, puis exécutez la cellule de test qui suit : elle vous dit si c'est juste, ou ce qui ne va pas.
'''),
        code(SERVER),
        md(r'''
## 1. Télécharger une page avec `requests`

`requests.get(url)` envoie une requête HTTP et renvoie une **réponse** :

* `reponse.status_code` : le code de statut (`200` = tout va bien) ;
* `reponse.headers` : les en-têtes, par exemple `Content-Type` (le type de contenu) ;
* `reponse.text` : le contenu de la page, en texte.

Les codes à connaître :

| Code | Signification |
|---|---|
| 200 | OK |
| 301, 302 | la page a déménagé (requests suit la redirection tout seul) |
| 403 | accès interdit |
| 404 | page introuvable |
| 429 | trop de requêtes : ralentissez ! |
| 500, 503 | erreur du serveur |

Deux bonnes habitudes, toujours :

* un **`timeout`** (en secondes) : sans lui, un serveur muet bloque votre programme indéfiniment ;
* un **User-Agent** qui vous identifie : c'est l'en-tête qui dit au site qui l'interroge. Par défaut,
  requests envoie `python-requests/2.x`, anonyme. Un administrateur qui voit un nom et une adresse de
  contact peut vous prévenir au lieu de vous bloquer.

### Exemple guidé
'''),
        code(ENTETES + r'''

reponse = requests.get(BASE + "/index.html", headers=ENTETES, timeout=5)
print("Statut :", reponse.status_code)
print("Type de contenu :", reponse.headers["Content-Type"])
print(reponse.text[:400])

introuvable = requests.get(BASE + "/archives.html", headers=ENTETES, timeout=5)
print("Statut de la page archives :", introuvable.status_code)

# Ce que le serveur a vu : le chemin demandé et votre User-Agent
for chemin, agent in JOURNAL[-2:]:
    print(chemin, "|", agent)
'''),
        md(r'''
Un statut 404 n'est **pas** une erreur Python : `requests.get` renvoie la réponse sans broncher, et votre
programme continuerait avec une page d'erreur. `reponse.raise_for_status()` lève une exception
`requests.HTTPError` si le statut est une erreur (400 et plus) : appelez-la systématiquement.

(Si un jour les accents s'affichent mal, par exemple `Ã©` au lieu de `é`, le serveur n'a pas annoncé
l'encodage : écrivez `reponse.encoding = "utf-8"` avant de lire `reponse.text`.)

### Exercice 1 — une fonction de téléchargement propre (2 points)

Écrivez `telecharger(url)` qui :

1. envoie la requête avec les en-têtes `ENTETES` et un `timeout` de 5 secondes ;
2. lève une erreur si le statut est une erreur (`raise_for_status`) ;
3. renvoie le texte de la page.
'''),
        *exercise("ex1-telecharger", r'''
def telecharger(url):
    ### BEGIN SOLUTION
    reponse = requests.get(url, headers=ENTETES, timeout=5)
    reponse.raise_for_status()
    return reponse.text
    ### END SOLUTION
''', r'''
accueil = telecharger(BASE + "/index.html")
assert isinstance(accueil, str), "telecharger doit renvoyer le texte de la page (reponse.text), pas la réponse elle-même."
assert "<h1>Accueil</h1>" in accueil, "Le texte renvoyé ne ressemble pas à la page d'accueil : renvoyez reponse.text."
assert JOURNAL[-1][1] == ENTETES["User-Agent"], "Le serveur n'a pas reçu votre User-Agent. Indice : requests.get(url, headers=ENTETES, timeout=5)."
try:
    telecharger(BASE + "/archives.html")
except requests.HTTPError:
    pass
else:
    raise AssertionError("Une page introuvable (404) doit lever une erreur. Indice : reponse.raise_for_status().")
print("Bravo, c'est juste !")
### BEGIN HIDDEN TESTS
pop = telecharger(BASE + "/population.html")
assert "Département" in pop and "Côte-d'Or" in pop
assert JOURNAL[-1] == ("/population.html", ENTETES["User-Agent"])
assert "Gazole" in telecharger(BASE + "/prix.html")
for absent in ["/nulle-part.html", "/publications/page-9.html"]:
    try:
        telecharger(BASE + absent)
    except requests.HTTPError as erreur:
        assert erreur.response.status_code == 404
    else:
        raise AssertionError("404 non signalé")
import inspect
assert "timeout" in inspect.getsource(telecharger), "un timeout est attendu"
### END HIDDEN TESTS
'''),
        md(r'''
## 2. Lire le HTML avec BeautifulSoup

Une page HTML est un arbre de **balises** : `<h1>Titre</h1>`, `<a href="page.html">un lien</a>`,
`<table>…</table>`. Une balise peut avoir des **attributs** (`href`, `id`, `class`) et contenir du texte
ou d'autres balises.

`BeautifulSoup(texte, "html.parser")` transforme le texte en un objet qu'on interroge :

| Instruction | Renvoie |
|---|---|
| `soupe.find("h1")` | la **première** balise `<h1>` (ou `None`) |
| `soupe.find_all("a")` | la **liste** de toutes les balises `<a>` |
| `soupe.find("table", id="population")` | la balise `<table>` dont l'`id` vaut `population` |
| `soupe.select("nav li a")` | la liste des balises qui correspondent au **sélecteur CSS** (`<a>` dans un `<li>` dans un `<nav>`) |
| `soupe.select_one("table#population")` | la première correspondance d'un sélecteur (`#` = id, `.` = classe) |
| `balise.get_text(strip=True)` | le texte de la balise, sans espaces autour |
| `balise["href"]`, `balise.get("href")` | la valeur d'un attribut (`get` renvoie `None` s'il manque) |

Pour trouver quoi chercher, ouvrez la page dans un navigateur, clic droit → *Inspecter* : vous voyez
les balises, leurs `id` et leurs `class`.

### Exemple guidé
'''),
        code(r'''
from bs4 import BeautifulSoup

soupe = BeautifulSoup(reponse.text, "html.parser")
print("Titre de la page :", soupe.title.get_text())
print("Premier titre h1 :", soupe.find("h1").get_text(strip=True))
for lien in soupe.select("nav li a"):
    print(lien.get_text(strip=True), "->", lien["href"])
'''),
        md(r'''
### Exercice 2 — tous les liens d'une page (1 point)

Écrivez `liens_de(html)` qui reçoit le **texte** d'une page et renvoie la **liste** des valeurs de
l'attribut `href` de toutes les balises `<a>`, dans l'ordre de la page. Les balises `<a>` **sans**
`href` sont ignorées. Indice : `soupe.find_all("a", href=True)`.
'''),
        *exercise("ex2-liens", r'''
def liens_de(html):
    ### BEGIN SOLUTION
    soupe = BeautifulSoup(html, "html.parser")
    return [lien["href"] for lien in soupe.find_all("a", href=True)]
    ### END SOLUTION
''', r'''
liens = liens_de(reponse.text)
assert isinstance(liens, list), "liens_de doit renvoyer une liste."
assert all(isinstance(lien, str) for lien in liens), "La liste doit contenir les textes des attributs href (lien[\"href\"]), pas les balises."
assert "population.html" in liens and "prix.html" in liens, "Il manque des liens du menu : avez-vous bien parcouru toutes les balises <a> ?"
assert liens[0] == "index.html", "Gardez l'ordre de la page : le premier lien est celui de l'en-tête (index.html)."
print("Bravo, c'est juste !")
### BEGIN HIDDEN TESTS
essai = '<p><a href="a.html">A</a> <a name="ancre">sans lien</a></p><div><a href="https://exemple.org/b">B</a><a href="a.html">encore A</a></div>'
assert liens_de(essai) == ["a.html", "https://exemple.org/b", "a.html"]
assert liens_de("<p>aucun lien</p>") == []
assert len(liens_de(reponse.text)) == 6
### END HIDDEN TESTS
'''),
        md(r'''
## 3. D'un tableau HTML à un DataFrame

Un tableau HTML s'écrit ainsi :

```html
<table id="population">
  <thead>
    <tr><th>Code</th><th>Département</th> …</tr>     ← ligne d'en-tête : cellules <th>
  </thead>
  <tbody>
    <tr><td>01</td><td>Ain</td> …</tr>                ← lignes de données : cellules <td>
  </tbody>
</table>
```

`pandas.read_html` sait lire ces tableaux, mais il a besoin d'autres bibliothèques ; et surtout, savoir le
faire soi-même permet de traiter les tableaux qu'il lit mal. La page de population contient **deux**
tableaux : un petit tableau de sources, puis les données. On choisit le bon par son `id`.

### Exemple guidé : les en-têtes et la première ligne
'''),
        code(r'''
page_population = BeautifulSoup(requests.get(BASE + "/population.html", headers=ENTETES, timeout=5).text, "html.parser")
print("Nombre de tableaux sur la page :", len(page_population.find_all("table")))

tableau = page_population.select_one("table#population")
lignes = tableau.find_all("tr")
print("En-têtes :", [th.get_text(strip=True) for th in lignes[0].find_all("th")])
print("Première ligne :", [td.get_text(strip=True) for td in lignes[1].find_all("td")])
print("Nombre de lignes de données :", len(lignes) - 1)
'''),
        md(r'''
### Exercice 3 — un tableau HTML en DataFrame (2 points)

Écrivez `tableau_vers_dataframe(table)` qui reçoit une balise `<table>` (un objet BeautifulSoup) et
renvoie un `DataFrame` pandas :

* les **noms de colonnes** sont les textes des cellules `<th>` de la **première** ligne `<tr>` ;
* chaque ligne `<tr>` suivante qui contient des cellules `<td>` donne une ligne du DataFrame ;
* les valeurs restent du **texte**, sans espaces autour (`get_text(strip=True)`).

Le tableau n'a pas toujours de `<thead>` ni de `<tbody>` : travaillez directement avec les `<tr>`.
Indice : `pd.DataFrame(liste_de_lignes, columns=entetes)`.
'''),
        *exercise("ex3-tableau", r'''
import pandas as pd


def tableau_vers_dataframe(table):
    ### BEGIN SOLUTION
    lignes = table.find_all("tr")
    entetes = [th.get_text(strip=True) for th in lignes[0].find_all("th")]
    donnees = [[td.get_text(strip=True) for td in tr.find_all("td")] for tr in lignes[1:] if tr.find_all("td")]
    return pd.DataFrame(donnees, columns=entetes)
    ### END SOLUTION
''', r'''
df_brut = tableau_vers_dataframe(page_population.select_one("table#population"))
assert isinstance(df_brut, pd.DataFrame), "La fonction doit renvoyer un DataFrame pandas."
assert list(df_brut.columns) == ["Code", "Département", "Région", "Population"], f"Colonnes obtenues : {list(df_brut.columns)}. Indice : les <th> de la première ligne <tr>."
assert len(df_brut) == 14, f"Le tableau a 14 départements, votre DataFrame a {len(df_brut)} lignes (la ligne d'en-tête ne compte pas)."
assert df_brut.loc[0, "Département"] == "Ain", "La première ligne devrait être celle de l'Ain : pensez à get_text(strip=True)."
print("Bravo, c'est juste !")
### BEGIN HIDDEN TESTS
petit = BeautifulSoup("<table><tr><th> Région </th><th>Valeur</th></tr><tr><td> Bretagne </td><td>1,5</td></tr><tr><td>Corse</td><td> 2 </td></tr></table>", "html.parser").table
attendu = pd.DataFrame([["Bretagne", "1,5"], ["Corse", "2"]], columns=["Région", "Valeur"])
pd.testing.assert_frame_equal(tableau_vers_dataframe(petit).reset_index(drop=True), attendu)
prix_brut = tableau_vers_dataframe(BeautifulSoup(open("site/prix.html", encoding="utf-8").read(), "html.parser").select_one("table.prix"))
assert prix_brut.shape == (5, 4) and prix_brut.columns[0] == "Région"
assert all(isinstance(v, str) for v in prix_brut.iloc[:, 1])
### END HIDDEN TESTS
'''),
        md(r'''
## 4. Nettoyer les nombres

Sur une page française, les nombres sont écrits pour des humains : `1 234 567` (avec des espaces, souvent
des espaces **insécables** invisibles : `"\u00a0"` ou l'espace fine `"\u202f"`), `1,25` avec une virgule
décimale. Python, lui, attend `1234567` et `1.25`. Regardons la valeur brute :
'''),
        code(r'''
valeur = page_population.select_one("td.nombre").get_text()   # la première cellule de population
print(valeur)
print(repr(valeur))          # repr montre les caractères spéciaux
print([hex(ord(c)) for c in valeur if not c.isdigit()])
'''),
        md(r'''
### Exercice 4 — du texte au nombre (2 points)

Écrivez `en_nombre(texte)` qui :

* retire les espaces ordinaires, les espaces insécables `"\u00a0"` et les espaces fines `"\u202f"`
  (au début, à la fin et au milieu) ;
* remplace la virgule décimale par un point ;
* renvoie un **`int`** s'il n'y avait pas de virgule, un **`float`** sinon.

Exemples : `en_nombre("1\u202f234")` vaut `1234`, `en_nombre("3,50")` vaut `3.5`.
'''),
        *exercise("ex4-nombres", r'''
def en_nombre(texte):
    ### BEGIN SOLUTION
    propre = texte
    for espace in [" ", "\u00a0", "\u202f"]:
        propre = propre.replace(espace, "")
    if "," in propre:
        return float(propre.replace(",", "."))
    return int(propre)
    ### END SOLUTION
''', r'''
assert en_nombre("1234") == 1234, "en_nombre(\"1234\") devrait valoir 1234."
assert en_nombre("1\u202f234\u202f567") == 1234567, "Les espaces fines (\\u202f) doivent être retirées : texte.replace(\"\\u202f\", \"\")."
assert isinstance(en_nombre("1\u202f234"), int), "Sans virgule, le résultat doit être un int."
assert en_nombre("3,50") == 3.5 and isinstance(en_nombre("3,50"), float), "Avec une virgule, remplacez-la par un point et renvoyez un float."
print("Bravo, c'est juste !")
### BEGIN HIDDEN TESTS
assert en_nombre("12\u00a0000") == 12000
assert en_nombre(" 3 000,25 ") == 3000.25
assert en_nombre("-7,0") == -7.0 and isinstance(en_nombre("-7,0"), float)
assert en_nombre("0") == 0 and isinstance(en_nombre("0"), int)
assert en_nombre("2\u202f100\u202f000") == 2100000
### END HIDDEN TESTS
'''),
        md(r'''
### Exercice 5 — la population par région (2 points)

Mettez bout à bout ce que vous avez écrit :

1. `df_population` : le DataFrame du tableau `table#population`, dont la colonne `Population` est convertie
   en entiers avec `en_nombre` (indice : `df["Population"].map(en_nombre)`, ou `.apply`) ;
2. `population_par_region` : une `Series` pandas qui donne, pour chaque région (l'index), la population
   totale de ses départements, **triée de la plus peuplée à la moins peuplée**
   (indices : `groupby("Région")["Population"].sum()`, puis `sort_values(ascending=False)`).
'''),
        *exercise("ex5-region", r'''
# À vous : définissez df_population puis population_par_region.
### BEGIN SOLUTION
df_population = tableau_vers_dataframe(page_population.select_one("table#population"))
df_population["Population"] = df_population["Population"].map(en_nombre)
population_par_region = df_population.groupby("Région")["Population"].sum().sort_values(ascending=False)
### END SOLUTION
population_par_region
''', r'''
assert pd.api.types.is_integer_dtype(df_population["Population"]), "La colonne Population de df_population doit contenir des entiers : appliquez en_nombre."
assert len(df_population) == 14, "df_population doit avoir une ligne par département (14)."
assert isinstance(population_par_region, pd.Series), "population_par_region doit être une Series (une colonne indexée par la région)."
assert len(population_par_region) == df_population["Région"].nunique(), "Il faut une valeur par région. Indice : groupby(\"Région\")."
assert population_par_region.sum() == df_population["Population"].sum(), "La somme des régions doit égaler la somme des départements."
assert population_par_region.is_monotonic_decreasing, "Triez de la plus peuplée à la moins peuplée : sort_values(ascending=False)."
print("Bravo, c'est juste !")
### BEGIN HIDDEN TESTS
import re
texte_source = open("site/population.html", encoding="utf-8").read()
attendu = {}
for region, nombre in re.findall(r"<tr><td>\d+</td><td>[^<]+</td><td>([^<]+)</td><td class=\"nombre\">([^<]+)</td></tr>", texte_source):
    attendu[region] = attendu.get(region, 0) + int(nombre.replace("\u202f", ""))
assert len(attendu) == 5
assert {str(k): int(v) for k, v in population_par_region.items()} == attendu
assert list(population_par_region.index) == sorted(attendu, key=attendu.get, reverse=True)
### END HIDDEN TESTS
'''),
        md(r'''
## 5. À vous d'expliquer

### Question (2 points, corrigée par un formateur)

Votre programme fonctionne aujourd'hui. Dans six mois, l'observatoire refond son site. Qu'est-ce qui
risque de casser dans votre scraper, et comment le rendre plus robuste ou vous en apercevoir vite ?
Quelle alternative au scraping chercheriez-vous d'abord ?
'''),
        free_text("q-robustesse", r'''
Le scraper dépend de la structure de la page : adresses des pages, `id` et classes des balises, ordre
et noms des colonnes, format des nombres. Une refonte peut tout changer : la page renvoie 404, le
sélecteur `table#population` ne trouve plus rien (`None`), une colonne change de nom ou de place, les
nombres changent de format.
Pour s'en apercevoir : `raise_for_status`, vérifier que les éléments attendus existent, contrôler les
colonnes et le nombre de lignes, comparer les totaux à des valeurs connues, et échouer avec un message
clair plutôt que produire des données fausses. Choisir des sélecteurs stables (id, en-têtes des colonnes
plutôt que leur position).
D'abord chercher un fichier téléchargeable (CSV, open data, data.gouv.fr), une API, ou demander les
données au producteur : c'est plus fiable et plus respectueux.
'''),
        md(r'''
## Pour finir

Vous savez télécharger une page proprement, en extraire des liens et un tableau, et nettoyer des
nombres écrits à la française. Dans le notebook suivant : scraper **poliment** (robots.txt, pauses) et
parcourir des pages **paginées**.

La cellule ci-dessous arrête le petit serveur web.
'''),
        code(STOP_SERVER),
    ])


def robots_et_pagination():
    return notebook([
        md(r'''
# Web scraping (2) : scraper poliment, parcourir plusieurs pages

Un programme peut envoyer des centaines de requêtes par seconde : bien plus qu'un humain. Pour un petit
site, c'est une charge réelle, parfois une panne. Un service statistique public se doit d'être
exemplaire. Les règles de politesse :

1. **lire `robots.txt`** : le fichier où le site dit aux robots ce qu'ils peuvent visiter ;
2. **s'identifier** avec un User-Agent qui donne un contact ;
3. **ralentir** : une pause entre deux requêtes, et pas plus de pages que nécessaire ;
4. **respecter les conditions d'utilisation** du site et le droit (données personnelles : RGPD ;
   bases de données protégées), et préférer une API ou un fichier quand il en existe.

On pratique sur le même site fictif que dans le notebook précédent : ses **publications** sont
réparties sur plusieurs pages, et un espace privé est interdit aux robots. Démarrez le serveur :
'''),
        code(SERVER + ENTETES + r'''
NOM_ROBOT = "FormationScraping"  # le nom de notre robot, tel que robots.txt le désigne
PAUSE = 0.1                      # secondes d'attente avant chaque requête (courte pour l'atelier)
'''),
        md(r'''
## 1. Lire `robots.txt`

`robots.txt` est toujours à la racine du site (`https://site/robots.txt`). Il contient des groupes de
règles : `User-agent:` dit à quels robots le groupe s'applique (`*` = tous les autres), `Disallow:` les
chemins interdits (`Disallow: /` interdit tout), `Allow:` des exceptions. Certains sites ajoutent
`Crawl-delay:` (secondes à attendre entre deux requêtes).

Le module `urllib.robotparser` de Python sait lire ces règles et répondre à la question « ce robot
a-t-il le droit de visiter cette adresse ? » avec `can_fetch(agent, url)`.

### Exemple guidé
'''),
        code(r'''
from urllib.robotparser import RobotFileParser

texte_robots = requests.get(BASE + "/robots.txt", headers=ENTETES, timeout=5).text
print(texte_robots)

robots = RobotFileParser()
robots.parse(texte_robots.splitlines())   # (ou robots.set_url(...) puis robots.read())

for chemin in ["/index.html", "/prive/index.html"]:
    print(chemin, "autorisé pour nous ?", robots.can_fetch(NOM_ROBOT, BASE + chemin))
print("Et pour AspirateurGlouton ?", robots.can_fetch("AspirateurGlouton", BASE + "/index.html"))
'''),
        md(r'''
### Exercice 1 — avons-nous le droit ? (1 point)

Écrivez `autorise(url, agent=NOM_ROBOT)` qui renvoie `True` si `robots.txt` (déjà lu dans `robots`)
autorise l'agent `agent` à visiter `url`, `False` sinon.
'''),
        *exercise("ex1-autorise", r'''
def autorise(url, agent=NOM_ROBOT):
    ### BEGIN SOLUTION
    return robots.can_fetch(agent, url)
    ### END SOLUTION
''', r'''
assert autorise(BASE + "/prix.html") is True, "prix.html est autorisé : utilisez robots.can_fetch(agent, url)."
assert autorise(BASE + "/prive/index.html") is False, "L'espace /prive/ est interdit par robots.txt."
print("Bravo, c'est juste !")
### BEGIN HIDDEN TESTS
assert autorise(BASE + "/prive/fichiers.html") is False
assert autorise(BASE + "/publications/page-3.html") is True
assert autorise(BASE + "/index.html", agent="AspirateurGlouton") is False
assert autorise(BASE + "/prix.html", agent="UnAutreRobot") is True
### END HIDDEN TESTS
'''),
        md(r'''
## 2. Ralentir

`time.sleep(secondes)` met le programme en pause. Une pause avant chaque requête limite la charge :
avec 1 seconde de pause, 100 pages prennent un peu plus de 100 secondes, et le site ne s'en aperçoit
pas. (Dans cet atelier, on se contente de 0,1 seconde pour aller vite ; sur un vrai site, comptez au
moins une seconde, davantage si `robots.txt` indique un `Crawl-delay`.) Si le serveur répond **429**
(*Too Many Requests*) ou **503**, arrêtez-vous et ralentissez.

### Exemple guidé
'''),
        code(r'''
import time

debut = time.perf_counter()
for chemin in ["/index.html", "/prix.html", "/population.html"]:
    time.sleep(PAUSE)
    statut = requests.get(BASE + chemin, headers=ENTETES, timeout=5).status_code
    print(chemin, statut)
print(f"Durée : {time.perf_counter() - debut:.2f} s")
'''),
        md(r'''
### Exercice 2 — une récupération polie (2 points)

Écrivez `recuperer_poliment(url)` qui :

1. renvoie `None` **sans rien demander au serveur** si `robots.txt` interdit `url` à notre robot
   (utilisez votre fonction `autorise`) ;
2. sinon, attend `PAUSE` secondes (`time.sleep`), puis télécharge la page avec `ENTETES` et un
   `timeout` de 5 secondes ;
3. lève une erreur si le statut est une erreur (`raise_for_status`) et renvoie le texte de la page.
'''),
        *exercise("ex2-poliment", r'''
def recuperer_poliment(url):
    ### BEGIN SOLUTION
    if not autorise(url):
        return None
    time.sleep(PAUSE)
    reponse = requests.get(url, headers=ENTETES, timeout=5)
    reponse.raise_for_status()
    return reponse.text
    ### END SOLUTION
''', r'''
texte = recuperer_poliment(BASE + "/prix.html")
assert isinstance(texte, str) and "Gazole" in texte, "Pour une page autorisée, renvoyez le texte de la page (reponse.text)."
assert JOURNAL[-1][1] == ENTETES["User-Agent"], "Envoyez vos en-têtes : requests.get(url, headers=ENTETES, timeout=5)."
avant = len(JOURNAL)
assert recuperer_poliment(BASE + "/prive/index.html") is None, "Pour une page interdite par robots.txt, renvoyez None."
assert len(JOURNAL) == avant, "Une page interdite ne doit même pas être demandée au serveur : testez autorise(url) avant requests.get."
print("Bravo, c'est juste !")
### BEGIN HIDDEN TESTS
debut = time.perf_counter()
for chemin in ["/index.html", "/population.html", "/publications/page-1.html"]:
    assert recuperer_poliment(BASE + chemin) is not None
assert time.perf_counter() - debut >= 3 * PAUSE * 0.95, "une pause est attendue avant chaque requête"
assert [c for c, _ in JOURNAL[-3:]] == ["/index.html", "/population.html", "/publications/page-1.html"]
avant = len(JOURNAL)
assert recuperer_poliment(BASE + "/prive/fichiers.html") is None and len(JOURNAL) == avant
try:
    recuperer_poliment(BASE + "/archives.html")
except requests.HTTPError:
    pass
else:
    raise AssertionError("une page 404 doit lever une erreur")
### END HIDDEN TESTS
'''),
        md(r'''
## 3. Parcourir des pages : liens relatifs et pagination

Les publications sont réparties sur plusieurs pages. En bas de chacune, un lien « Page suivante » porte
l'attribut `rel="next"` : `<a rel="next" href="page-2.html">`. Sur la dernière page, ce lien n'existe pas.
Le principe : traiter la page, chercher le lien suivant, recommencer… jusqu'à ce qu'il n'y en ait plus.

L'adresse `page-2.html` est **relative** : elle se lit à partir de la page courante.
`urllib.parse.urljoin(adresse_de_la_page, href)` la transforme en adresse complète.

Chaque publication est une balise `<article class="publication">` qui contient un titre `<h2>`, une
date `<span class="date">` et un thème `<span class="theme">`.

### Exemple guidé : la première page
'''),
        code(r'''
from urllib.parse import urljoin

from bs4 import BeautifulSoup

url_page = BASE + "/publications/page-1.html"
soupe = BeautifulSoup(requests.get(url_page, headers=ENTETES, timeout=5).text, "html.parser")
articles = soupe.select("article.publication")
print(len(articles), "publications sur cette page ; la première :")
premier = articles[0]
print(premier.find("h2").get_text(strip=True), "|", premier.select_one("span.date").get_text(), "|",
      premier.select_one("span.theme").get_text())

suivant = soupe.select_one('a[rel="next"]')
print("Lien suivant :", suivant["href"], "->", urljoin(url_page, suivant["href"]))
print(urljoin(BASE + "/publications/page-1.html", "../index.html"))   # on remonte d'un dossier
'''),
        md(r'''
### Exercice 3 — toutes les publications (3 points)

Écrivez `toutes_les_publications(url_depart)` qui part de `url_depart`, suit les liens « page suivante »
jusqu'à la dernière page et renvoie la **liste** de toutes les publications rencontrées, dans l'ordre,
chacune sous forme de dictionnaire `{"titre": ..., "date": ..., "theme": ...}` (textes sans espaces
autour).

Téléchargez chaque page avec **`recuperer_poliment`** (pause et robots.txt compris). Une boucle
`while url is not None:` convient bien : à la fin de chaque tour, `url` devient l'adresse de la page
suivante, ou `None` s'il n'y a pas de lien `rel="next"`.
'''),
        *exercise("ex3-pagination", r'''
def toutes_les_publications(url_depart):
    ### BEGIN SOLUTION
    publications = []
    url = url_depart
    while url is not None:
        soupe = BeautifulSoup(recuperer_poliment(url), "html.parser")
        for article in soupe.select("article.publication"):
            publications.append({
                "titre": article.find("h2").get_text(strip=True),
                "date": article.select_one("span.date").get_text(strip=True),
                "theme": article.select_one("span.theme").get_text(strip=True),
            })
        suivant = soupe.select_one('a[rel="next"]')
        url = urljoin(url, suivant["href"]) if suivant else None
    return publications
    ### END SOLUTION
''', r'''
debut_journal = len(JOURNAL)
toutes = toutes_les_publications(BASE + "/publications/page-1.html")
assert isinstance(toutes, list), "La fonction doit renvoyer une liste."
assert all(isinstance(p, dict) and set(p) == {"titre", "date", "theme"} for p in toutes), "Chaque publication doit être un dictionnaire avec les clés titre, date et theme."
assert len(toutes) > 8, f"{len(toutes)} publications : seulement la première page ? Suivez le lien a[rel=\"next\"] avec urljoin."
assert len(toutes) == 22, f"Le site compte 22 publications sur 3 pages, vous en trouvez {len(toutes)}."
pages_vues = [chemin for chemin, _ in JOURNAL[debut_journal:]]
assert pages_vues == ["/publications/page-1.html", "/publications/page-2.html", "/publications/page-3.html"], f"Pages demandées : {pages_vues}. Chaque page doit être demandée une seule fois, dans l'ordre."
print("Bravo, c'est juste !")
### BEGIN HIDDEN TESTS
import re
attendu = []
for numero in (1, 2, 3):
    source = open(f"site/publications/page-{numero}.html", encoding="utf-8").read()
    for titre, date, theme in re.findall(r"<h2>([^<]+)</h2>\s*<p class=\"meta\">Publié le <span class=\"date\">([^<]+)</span> · thème <span class=\"theme\">([^<]+)</span>", source):
        attendu.append({"titre": titre, "date": date, "theme": theme})
assert len(attendu) == 22
assert toutes == attendu
assert toutes_les_publications(BASE + "/publications/page-2.html") == attendu[8:]
assert toutes_les_publications(BASE + "/publications/page-3.html") == attendu[16:]
### END HIDDEN TESTS
'''),
        md(r'''
### Exercice 4 — un tableau et un décompte par thème (2 points)

1. `df_publications` : un DataFrame construit à partir de la liste `toutes` (une ligne par publication,
   colonnes `titre`, `date`, `theme`), dont la colonne `date` est convertie en dates pandas
   (`pd.to_datetime`) ;
2. `par_theme` : une `Series` qui donne le nombre de publications par thème (index = thème), de la plus
   grande à la plus petite. Indice : `value_counts()` trie déjà dans ce sens.
'''),
        *exercise("ex4-themes", r'''
import pandas as pd

# À vous : définissez df_publications puis par_theme.
### BEGIN SOLUTION
df_publications = pd.DataFrame(toutes)
df_publications["date"] = pd.to_datetime(df_publications["date"])
par_theme = df_publications["theme"].value_counts()
### END SOLUTION
par_theme
''', r'''
assert isinstance(df_publications, pd.DataFrame) and len(df_publications) == 22, "df_publications doit avoir une ligne par publication : pd.DataFrame(toutes)."
assert pd.api.types.is_datetime64_any_dtype(df_publications["date"]), "Convertissez la colonne date avec pd.to_datetime."
assert isinstance(par_theme, pd.Series), "par_theme doit être une Series (par exemple le résultat de value_counts())."
assert par_theme.sum() == 22, "Le total des décomptes doit être le nombre de publications (22)."
assert par_theme.is_monotonic_decreasing, "Triez du thème le plus fréquent au moins fréquent."
print("Bravo, c'est juste !")
### BEGIN HIDDEN TESTS
import collections
import re
themes, dates = [], []
for numero in (1, 2, 3):
    source = open(f"site/publications/page-{numero}.html", encoding="utf-8").read()
    themes += re.findall(r"<span class=\"theme\">([^<]+)</span>", source)
    dates += re.findall(r"<span class=\"date\">([^<]+)</span>", source)
assert {str(k): int(v) for k, v in par_theme.items()} == dict(collections.Counter(themes))
assert df_publications["date"].min() == pd.Timestamp(min(dates))
assert df_publications["date"].max() == pd.Timestamp(max(dates))
assert set(df_publications.columns) >= {"titre", "date", "theme"}
### END HIDDEN TESTS
'''),
        md(r'''
## 4. À vous d'expliquer

### Question (2 points, corrigée par un formateur)

Votre service voudrait collecter chaque semaine les prix affichés sur le site d'une enseigne. Listez les
vérifications à faire **avant** d'écrire le scraper, et les règles que votre programme suivra
**pendant** la collecte. Justifiez chacune en une phrase.
'''),
        free_text("q-politesse", r'''
Avant : chercher une API, un fichier open data ou un accord avec l'enseigne (plus fiable, plus simple) ;
lire les conditions générales d'utilisation (le scraping peut y être interdit) ; lire robots.txt (chemins
interdits, Crawl-delay) ; vérifier le cadre juridique (données personnelles et RGPD, droit des bases de
données) et en parler au service juridique / au DPO ; ne collecter que les données nécessaires.
Pendant : s'identifier (User-Agent avec un contact) pour être joignable plutôt que bloqué ; respecter
robots.txt ; faire des pauses entre requêtes et collecter aux heures creuses pour ne pas surcharger le
site ; s'arrêter ou ralentir sur les codes 429/503 ; mettre un timeout ; garder en cache ce qui a déjà été
téléchargé pour ne pas redemander les mêmes pages ; journaliser la collecte.
'''),
        md(r'''
## Pour finir

Vous savez lire `robots.txt`, vous identifier, ralentir et parcourir des pages paginées : vous avez
écrit un petit robot poli. Pour aller plus loin : `requests.Session()` (réutilise la connexion et les
en-têtes), la mise en cache des pages déjà téléchargées, et les pages construites par JavaScript, qui
demandent d'autres outils (ou, souvent, révèlent une API cachée derrière la page).

La cellule ci-dessous arrête le petit serveur web.
'''),
        code(STOP_SERVER),
    ])


if __name__ == "__main__":
    for folder, build in [("01-requetes-et-html", requetes_et_html), ("02-robots-et-pagination", robots_et_pagination)]:
        target = SOURCE / folder
        target.mkdir(parents=True, exist_ok=True)
        write(build(), target / f"{folder}.ipynb")
        print("wrote", target)
