# ruff: noqa: E501  (notebook text below is kept as learners read it)
"""Writes the NLP course's nbgrader source notebooks (run: python courses/nlp/tools/build_notebooks.py)."""

from pathlib import Path

from nbcells import code, exercise, free_text, md, notebook, write

SOURCE = Path(__file__).resolve().parents[1] / "source"

# The reference pre-processing: the solution of notebook 1, given as is in notebook 2 and used by hidden tests.
REFERENCE = r'''
def _ref_normaliser(texte):
    texte = unicodedata.normalize("NFD", texte.lower())
    texte = "".join(c for c in texte if unicodedata.category(c) != "Mn")
    return " ".join(re.sub(r"[^a-z0-9]+", " ", texte).split())


def _ref_tokeniser(texte):
    return [mot for mot in _ref_normaliser(texte).split() if len(mot) >= 2]
'''


def preparer_le_texte():
    return notebook([
        md(r'''
# Préparer du texte pour l'ordinateur

Les services statistiques reçoivent beaucoup de **texte libre** : les entreprises décrivent leur activité en quelques mots (« Fabrication de meubles en bois », « RESTAURANT TRADITIONNEL »…), et il faut attribuer à chacune un code de la **nomenclature d'activités française (NAF)**. Ce codage, longtemps fait à la main, est aujourd'hui largement automatisé par des modèles d'apprentissage.

Dans ce premier notebook, on prépare le texte : un modèle ne lit pas des phrases, il manipule des **nombres**. Le second notebook entraînera un classifieur.

**Objectifs**
1. **normaliser** un texte (minuscules, accents, ponctuation) ;
2. le découper en mots : la **tokenisation** ;
3. retirer les **mots vides** (*stop words*) ;
4. compter les mots et représenter chaque texte par un **sac de mots**.

**Comment travailler** : exécutez les cellules d'exemple, complétez les cellules d'exercice à la place de `raise NotImplementedError()`, puis exécutez la cellule de vérification qui suit : « Bravo » si c'est juste, sinon un indice.
'''),
        md(r'''
## 1. Le corpus

`data/activites.csv` contient 630 descriptions d'activité **fictives** (générées par un programme à partir de modèles de phrases), chacune avec sa **section** de la NAF : une lettre de A à U qui regroupe de grands secteurs. Neuf sections sont présentes ici, 70 descriptions chacune.
'''),
        code(r'''
import re
import unicodedata
from collections import Counter

import pandas as pd

corpus = pd.read_csv("data/activites.csv")
print(corpus.shape)
print(corpus[["section", "libelle_section"]].drop_duplicates().sort_values("section").to_string(index=False))
corpus.head(10)
'''),
        md(r'''
Remarquez que les textes sont saisis de façons variées : majuscules ou minuscules, avec ou sans accents, avec de la ponctuation. Pour l'ordinateur, `"Élevage"`, `"élevage"` et `"ELEVAGE"` sont trois chaînes différentes. Il faut donc d'abord **normaliser**.

## 2. Normaliser

Trois opérations, toutes en Python standard :
- `texte.lower()` met en minuscules ;
- `unicodedata.normalize("NFD", texte)` sépare chaque lettre accentuée en lettre + accent (« é » devient « e » suivi d'un accent seul) ; on retire ensuite les accents, dont la catégorie Unicode est `"Mn"` ;
- `re.sub(r"[^a-z0-9]+", " ", texte)` remplace tout ce qui n'est ni une lettre ni un chiffre par une espace (une **expression régulière** : `[^...]` veut dire « tout sauf », `+` « un ou plusieurs »).
'''),
        code(r'''
exemple = "Hôtel-Restaurant « Chez Zoé »"
minuscules = exemple.lower()
decompose = unicodedata.normalize("NFD", minuscules)
sans_accents = "".join(c for c in decompose if unicodedata.category(c) != "Mn")
print(repr(minuscules))
print(repr(sans_accents))
print(repr(re.sub(r"[^a-z0-9]+", " ", sans_accents)))
'''),
        md(r'''
### Exercice 1 (2 points) : la fonction `normaliser`

Écrivez `normaliser(texte)` qui renvoie le texte en minuscules, sans accents, où toute suite de caractères autres que lettres et chiffres est remplacée par **une** espace, sans espace au début ni à la fin.

Exemple : `normaliser("Élevage de Vaches, LAITIÈRES !")` renvoie `"elevage de vaches laitieres"`.

*Indice* : enchaînez les trois étapes de l'exemple, puis `.strip()` pour les espaces aux bords.
'''),
        *exercise("ex1-normaliser", r'''
def normaliser(texte):
    ### BEGIN SOLUTION
    texte = unicodedata.normalize("NFD", texte.lower())
    texte = "".join(c for c in texte if unicodedata.category(c) != "Mn")
    return re.sub(r"[^a-z0-9]+", " ", texte).strip()
    ### END SOLUTION


normaliser("Élevage de Vaches, LAITIÈRES !")
''', r'''
assert normaliser("culture de ble") == "culture de ble", "Un texte déjà propre doit rester identique."
assert normaliser("ÉLEVAGE") == "elevage", "Les majuscules et les accents doivent disparaître : « ÉLEVAGE » devient « elevage »."
assert normaliser("Élevage de Vaches, LAITIÈRES !") == "elevage de vaches laitieres", f"On attend 'elevage de vaches laitieres', vous renvoyez {normaliser('Élevage de Vaches, LAITIÈRES !')!r}. Pensez à la ponctuation et aux espaces aux bords (.strip())."
print("Bravo, c'est juste !")
### BEGIN HIDDEN TESTS
assert normaliser("Hôtel-Restaurant « Chez Zoé »") == "hotel restaurant chez zoe"
assert normaliser("  Ça, c'est 24h/24 !! ") == "ca c est 24h 24"
assert normaliser("") == ""
assert normaliser("Crèche---collective") == "creche collective"
### END HIDDEN TESTS
''', points=2),
        md(r'''
## 3. Tokeniser

**Tokeniser**, c'est découper un texte en unités, les *tokens* ; ici, des mots. Une fois le texte normalisé, les mots sont séparés par des espaces : `texte.split()` suffit. Les lettres isolées (le « l » de « l'hôtel », le « d » de « d'orge ») n'apportent rien : on ne garde que les mots d'**au moins deux caractères**.

### Exercice 2 (2 points) : la fonction `tokeniser`

Écrivez `tokeniser(texte)` qui normalise le texte (avec votre fonction `normaliser`), le découpe en mots et renvoie la **liste** des mots d'au moins 2 caractères, dans l'ordre du texte.
'''),
        *exercise("ex2-tokeniser", r'''
def tokeniser(texte):
    ### BEGIN SOLUTION
    return [mot for mot in normaliser(texte).split() if len(mot) >= 2]
    ### END SOLUTION


tokeniser("Culture de blé et d'orge")
''', r'''
assert isinstance(tokeniser("culture de ble"), list), "tokeniser doit renvoyer une liste de mots (utilisez .split())."
assert tokeniser("culture de ble") == ["culture", "de", "ble"], "« culture de ble » doit donner ['culture', 'de', 'ble']."
assert tokeniser("Culture de blé et d'orge") == ["culture", "de", "ble", "et", "orge"], f"On attend ['culture', 'de', 'ble', 'et', 'orge'], vous renvoyez {tokeniser('Culture de blé et d' + chr(39) + 'orge')}. Avez-vous normalisé le texte et retiré les mots d'une seule lettre ?"
print("Bravo, c'est juste !")
### BEGIN HIDDEN TESTS
assert tokeniser("") == []
assert tokeniser("L'HÔTEL, à Lyon") == ["hotel", "lyon"]
assert tokeniser("a b c dd") == ["dd"]
assert tokeniser("Vente de vins et spiritueux") == ["vente", "de", "vins", "et", "spiritueux"]
### END HIDDEN TESTS
''', points=2),
        md(r'''
## 4. Les mots vides

Certains mots sont partout : « de », « et », « pour », « la »… Ils ne disent rien du secteur d'activité. On les appelle **mots vides** (*stop words*) et on les retire. Le fichier `data/mots_vides_fr.txt` en donne une liste (un mot par ligne, déjà sans majuscules ni accents, comme nos textes normalisés). On la range dans un **ensemble** (`set`) : tester `mot in mots_vides` y est très rapide.
'''),
        code(r'''
with open("data/mots_vides_fr.txt", encoding="utf-8") as fichier:
    mots_vides = set(fichier.read().split())
print(len(mots_vides), "mots vides, par exemple :", sorted(mots_vides)[:12])
'''),
        md(r'''
### Exercice 3 (2 points) : retirer les mots vides

Écrivez `retirer_mots_vides(tokens, mots_vides)` qui renvoie une **nouvelle** liste avec les tokens qui ne sont pas dans `mots_vides`, dans le même ordre (les répétitions sont conservées).
'''),
        *exercise("ex3-mots-vides", r'''
def retirer_mots_vides(tokens, mots_vides):
    ### BEGIN SOLUTION
    return [mot for mot in tokens if mot not in mots_vides]
    ### END SOLUTION


retirer_mots_vides(tokeniser("Culture de blé et d'orge"), mots_vides)
''', r'''
assert retirer_mots_vides(["culture", "de", "ble"], {"de"}) == ["culture", "ble"], "['culture', 'de', 'ble'] sans le mot vide « de » doit donner ['culture', 'ble']."
assert retirer_mots_vides(tokeniser("Culture de blé et d'orge"), mots_vides) == ["culture", "ble", "orge"], "Avec la liste du fichier, « Culture de blé et d'orge » doit donner ['culture', 'ble', 'orge']."
print("Bravo, c'est juste !")
### BEGIN HIDDEN TESTS
_tokens = ["vente", "et", "vente", "de", "vins"]
assert retirer_mots_vides(_tokens, {"et", "de"}) == ["vente", "vente", "vins"], "les répétitions doivent être gardées"
assert _tokens == ["vente", "et", "vente", "de", "vins"], "la liste de départ ne doit pas être modifiée"
assert retirer_mots_vides([], {"de"}) == []
assert retirer_mots_vides(["un", "deux"], set()) == ["un", "deux"]
### END HIDDEN TESTS
''', points=2),
        md(r'''
## 5. Compter les mots

`collections.Counter` compte les éléments d'une liste ; sa méthode `most_common(n)` renvoie les `n` plus fréquents sous forme de couples `(mot, nombre)`. Exemple sur la section I (hébergement et restauration) :
'''),
        code(r'''
compteur = Counter()
for description in corpus.loc[corpus["section"] == "I", "description"]:
    compteur.update(retirer_mots_vides(tokeniser(description), mots_vides))
compteur.most_common(8)
'''),
        md(r'''
### Exercice 4 (2 points) : les mots de la construction

Sur le même modèle, rangez dans `frequents_F` les **5** mots (hors mots vides) les plus fréquents dans les descriptions de la section **F** (construction), sous la forme renvoyée par `most_common(5)` : une liste de couples `(mot, nombre)`.
'''),
        *exercise("ex4-frequents", r'''
### BEGIN SOLUTION
compteur_F = Counter()
for description in corpus.loc[corpus["section"] == "F", "description"]:
    compteur_F.update(retirer_mots_vides(tokeniser(description), mots_vides))
frequents_F = compteur_F.most_common(5)
### END SOLUTION
frequents_F
''', r'''
assert isinstance(frequents_F, list) and len(frequents_F) == 5, "frequents_F doit être une liste de 5 couples (mot, nombre) : utilisez .most_common(5)."
assert all(isinstance(m, str) and isinstance(n, int) for m, n in frequents_F), "Chaque élément doit être un couple (mot, nombre), par exemple ('travaux', 12)."
assert not any(m in mots_vides for m, _ in frequents_F), "frequents_F contient un mot vide : retirez-les avec retirer_mots_vides."
assert [n for _, n in frequents_F] == sorted((n for _, n in frequents_F), reverse=True), "Les mots doivent être rangés du plus fréquent au moins fréquent."
print("Bravo, c'est juste !")
### BEGIN HIDDEN TESTS
''' + REFERENCE + r'''
_c = Counter()
for _d in corpus.loc[corpus["section"] == "F", "description"]:
    _c.update(m for m in _ref_tokeniser(_d) if m not in mots_vides)
_attendu = _c.most_common(5)
assert [n for _, n in frequents_F] == [n for _, n in _attendu], "les effectifs ne sont pas ceux de la section F"
assert all(_c[m] == n for m, n in frequents_F), "un mot n'a pas le bon effectif"
### END HIDDEN TESTS
''', points=2),
        md(r'''
## 6. Le sac de mots

Un modèle a besoin d'un tableau de nombres de même largeur pour tous les textes. Le **sac de mots** (*bag of words*) l'obtient ainsi :
1. le **vocabulaire** est la liste de tous les mots rencontrés dans le corpus ;
2. chaque texte devient une ligne avec une colonne par mot du vocabulaire, qui contient le **nombre** de fois où le mot apparaît dans ce texte.

L'ordre des mots est perdu (d'où le nom de « sac »). Exemple à la main sur trois textes :
'''),
        code(r'''
textes = ["vente de pain", "fabrication de pain et de gâteaux", "vente de vins"]
sacs = [Counter(retirer_mots_vides(tokeniser(t), mots_vides)) for t in textes]
vocabulaire = sorted(set().union(*sacs))
pd.DataFrame([[sac[mot] for mot in vocabulaire] for sac in sacs], columns=vocabulaire, index=textes)
'''),
        md(r'''
scikit-learn fait la même chose avec `CountVectorizer`. Son paramètre `analyzer` accepte **notre propre fonction** de découpage, qui prend un texte et renvoie sa liste de mots. Comme tous les outils de scikit-learn, il a une méthode `fit_transform` qui apprend le vocabulaire puis transforme les textes. Le résultat est une **matrice creuse** (*sparse*) : on ne stocke que les cases non nulles, car chaque texte n'utilise qu'une poignée des mots du vocabulaire.

### Exercice 5 (2 points) : le sac de mots du corpus

1. Écrivez `preparer(texte)`, qui renvoie `retirer_mots_vides(tokeniser(texte), mots_vides)`.
2. Créez `vectoriseur = CountVectorizer(analyzer=preparer)` et `X_sac = vectoriseur.fit_transform(corpus["description"])`.
3. Rangez dans `taille_vocabulaire` le nombre de mots du vocabulaire (`len(vectoriseur.vocabulary_)`).
'''),
        *exercise("ex5-sac-de-mots", r'''
from sklearn.feature_extraction.text import CountVectorizer

### BEGIN SOLUTION
def preparer(texte):
    return retirer_mots_vides(tokeniser(texte), mots_vides)


vectoriseur = CountVectorizer(analyzer=preparer)
X_sac = vectoriseur.fit_transform(corpus["description"])
taille_vocabulaire = len(vectoriseur.vocabulary_)
### END SOLUTION
print("Matrice :", X_sac.shape, "  vocabulaire :", taille_vocabulaire, "mots")
''', r'''
assert X_sac.shape[0] == len(corpus), "X_sac doit avoir une ligne par description du corpus."
assert X_sac.shape[1] == taille_vocabulaire, "X_sac doit avoir une colonne par mot du vocabulaire."
assert "de" not in vectoriseur.vocabulary_, "Le mot vide « de » est dans le vocabulaire : passez analyzer=preparer au CountVectorizer."
assert "elevage" in vectoriseur.vocabulary_, "Le vocabulaire devrait contenir « elevage » (sans accent) : preparer doit normaliser le texte."
print("Bravo, c'est juste !")
### BEGIN HIDDEN TESTS
''' + REFERENCE + r'''
_vocab = set()
for _d in corpus["description"]:
    _vocab.update(m for m in _ref_tokeniser(_d) if m not in mots_vides)
assert taille_vocabulaire == len(_vocab), "la taille du vocabulaire n'est pas celle attendue"
assert preparer("L'Hôtel de la GARE") == ["hotel", "gare"]
_ligne = corpus.index[corpus["description"] == corpus["description"].iloc[0]][0]
assert X_sac[_ligne].sum() == len(preparer(corpus["description"].iloc[0]))
### END HIDDEN TESTS
''', points=2),
        md(r'''
## 7. À vous de réfléchir (question notée par le formateur)

Comparez « *Vente de pain* » (commerce, section G) et « *Fabrication de pain* » (industrie, section C) : que verrait un modèle en sac de mots, avant et après le retrait des mots vides ? Donnez ensuite **une** limite du sac de mots pour coder des activités (pensez à l'ordre des mots, aux fautes de frappe, aux synonymes…), avec un exemple de description qui poserait problème.
'''),
        free_text("q-limites-sac-de-mots", r'''
*Réponse attendue (éléments) :* les deux textes partagent « de » et « pain » ; après retrait des mots vides il reste {vente, pain} et {fabrication, pain} : c'est le mot « vente » ou « fabrication » qui porte le secteur, le mot commun « pain » n'aide pas. Limites possibles : l'ordre est perdu (« vente de matériel de transport » / « transport de matériel à vendre ») ; la négation (« restaurant, pas d'hébergement ») ; une faute de frappe (« fabriquation ») ou un synonyme jamais vu (« confection » au lieu de « fabrication ») donne un mot absent du vocabulaire, ignoré par le modèle.
''', points=2),
        md(r'''
## Ce qu'il faut retenir

- On **normalise** (minuscules, accents, ponctuation) pour que les variantes d'un même mot se confondent.
- On **tokenise** en mots, puis on retire les **mots vides** qui n'apportent pas d'information.
- Le **sac de mots** transforme chaque texte en une ligne de comptages sur un vocabulaire commun : c'est l'entrée d'un modèle.

Dans le notebook suivant : la pondération **TF-IDF**, un **classifieur** de sections NAF et son **évaluation**.
'''),
    ])


SETUP_2 = r'''
import re
import unicodedata

import numpy as np
import pandas as pd

corpus = pd.read_csv("data/activites.csv")
with open("data/mots_vides_fr.txt", encoding="utf-8") as fichier:
    mots_vides = set(fichier.read().split())


def normaliser(texte):
    """Minuscules, sans accents, une espace entre les mots (notebook 1, exercice 1)."""
    texte = unicodedata.normalize("NFD", texte.lower())
    texte = "".join(c for c in texte if unicodedata.category(c) != "Mn")
    return re.sub(r"[^a-z0-9]+", " ", texte).strip()


def preparer(texte):
    """Les mots d'au moins 2 lettres, hors mots vides (notebook 1, exercices 2, 3 et 5)."""
    return [mot for mot in normaliser(texte).split() if len(mot) >= 2 and mot not in mots_vides]


print(corpus.shape)
print(preparer("Hôtel-Restaurant « Chez Zoé », à Lyon"))
'''


def classer_les_activites():
    return notebook([
        md(r'''
# Classer automatiquement des descriptions d'activité

Suite du notebook « Préparer du texte ». Objectif : un modèle qui lit une description d'activité et propose sa **section NAF**, comme les outils de codage automatique des services statistiques.

**Objectifs**
1. comprendre la pondération **TF-IDF** ;
2. séparer apprentissage et test, et calculer une **baseline** ;
3. entraîner un **classifieur** (régression logistique) dans un *pipeline* scikit-learn ;
4. l'**évaluer** section par section ;
5. ne coder automatiquement que les cas sûrs et envoyer les autres en **reprise manuelle**.

La cellule ci-dessous charge le corpus et la fonction `preparer` écrite dans le notebook 1 (normalisation, tokenisation, mots vides).
'''),
        code(SETUP_2),
        md(r'''
## 1. TF-IDF : pondérer les mots

Dans un sac de mots, tous les mots comptent pareil. Or un mot présent dans presque toutes les descriptions (« entreprise », « activité ») distingue mal les secteurs, alors qu'un mot rare (« charpente », « kinésithérapeute ») est très parlant.

**TF-IDF** multiplie :
- **TF** (*term frequency*) : le nombre de fois où le mot apparaît dans le texte ;
- **IDF** (*inverse document frequency*) : un poids d'autant plus grand que le mot apparaît dans **peu** de textes du corpus.

Chaque ligne est ensuite ramenée à une longueur 1, pour que les textes longs ne pèsent pas plus que les courts. Exemple :
'''),
        code(r'''
from sklearn.feature_extraction.text import TfidfVectorizer

textes = ["vente de pain", "fabrication de pain", "vente de vins", "vente de fleurs"]
tfidf = TfidfVectorizer(analyzer=preparer)
poids = tfidf.fit_transform(textes)
pd.DataFrame(poids.toarray(), columns=tfidf.get_feature_names_out(), index=textes).round(2)
'''),
        md(r'''
« vente », présent dans 3 textes sur 4, pèse moins que « fleurs » ou « fabrication », présents une seule fois.

## 2. Apprentissage, test et baseline

Comme pour tout modèle supervisé, on met de côté un échantillon de **test** que le modèle ne verra pas pendant l'apprentissage : son score sur le test estime la qualité du codage sur de **nouvelles** descriptions.

### Exercice 1 (2 points) : séparer le corpus

Avec `train_test_split`, séparez les descriptions (`corpus["description"]`) et les sections (`corpus["section"]`) en `textes_train, textes_test, y_train, y_test`, avec `test_size=0.25`, `random_state=0` et `stratify=corpus["section"]` (chaque section garde la même part dans les deux échantillons).
'''),
        *exercise("ex1-separer", r'''
from sklearn.model_selection import train_test_split

### BEGIN SOLUTION
textes_train, textes_test, y_train, y_test = train_test_split(
    corpus["description"], corpus["section"], test_size=0.25, random_state=0, stratify=corpus["section"]
)
### END SOLUTION
print(len(textes_train), "descriptions d'apprentissage,", len(textes_test), "de test")
''', r'''
assert len(textes_test) == 158 and len(textes_train) == 472, f"On attend 472 descriptions d'apprentissage et 158 de test ; vous en avez {len(textes_train)} et {len(textes_test)}. Indice : test_size=0.25."
assert isinstance(textes_train.iloc[0], str), "textes_train doit contenir des descriptions (du texte) : vérifiez l'ordre textes_train, textes_test, y_train, y_test."
assert set(y_train) == set(corpus["section"]), "y_train doit contenir les sections (A, C, F...)."
print("Bravo, c'est juste !")
### BEGIN HIDDEN TESTS
_a, _b, _c, _d = train_test_split(corpus["description"], corpus["section"], test_size=0.25, random_state=0, stratify=corpus["section"])
assert list(textes_test.index) == list(_b.index), "le tirage doit utiliser random_state=0 et stratify"
assert list(y_train.index) == list(textes_train.index), "y_train ne correspond pas à textes_train"
assert (y_test == corpus.loc[textes_test.index, "section"]).all()
### END HIDDEN TESTS
''', points=2),
        md(r'''
### Exercice 2 (1 point) : la baseline

Quel score obtient une règle qui répond toujours la section la plus fréquente ? Entraînez `DummyClassifier(strategy="most_frequent")` sur `textes_train, y_train` et rangez son exactitude sur le test dans `score_reference`. (Le `DummyClassifier` ne lit pas les textes : il ne regarde que `y`.)
'''),
        *exercise("ex2-baseline", r'''
from sklearn.dummy import DummyClassifier

### BEGIN SOLUTION
reference = DummyClassifier(strategy="most_frequent").fit(textes_train, y_train)
score_reference = reference.score(textes_test, y_test)
### END SOLUTION
print(f"Baseline : {score_reference:.3f}")
''', r'''
assert isinstance(score_reference, float), "score_reference doit être un nombre : reference.score(textes_test, y_test)."
assert score_reference < 0.2, f"score_reference vaut {score_reference:.3f} : avec 9 sections de même taille, répondre toujours la même a raison environ 1 fois sur 9. Avez-vous mesuré sur le test ?"
print("Bravo, c'est juste !")
### BEGIN HIDDEN TESTS
assert abs(score_reference - (y_test == y_train.value_counts().idxmax()).mean()) < 1e-9
### END HIDDEN TESTS
''', points=1),
        md(r'''
Avec neuf sections de même taille, la baseline est très basse (environ 11 %) : ici, une exactitude de 60 % serait déjà un vrai progrès, alors que dans le notebook d'apprentissage automatique la baseline dépassait 65 %. **Un score se lit toujours par rapport à la baseline.**

## 3. Un classifieur dans un *pipeline*

Un **pipeline** enchaîne des étapes : ici la transformation TF-IDF puis le classifieur. On l'utilise comme un modèle unique (`fit`, `predict`, `score`) et il garantit que le vocabulaire et les poids IDF sont appris **sur l'apprentissage seulement**.

Le classifieur est une **régression logistique** : pour chaque section, elle apprend un poids par mot (positif si le mot fait penser à cette section) et prédit la section au meilleur total. Le réglage `C=10` limite peu ces poids (plus `C` est grand, plus le modèle colle aux données).

### Exercice 3 (3 points) : entraîner et évaluer

1. Créez `modele = make_pipeline(TfidfVectorizer(analyzer=preparer), LogisticRegression(C=10, max_iter=1000))`.
2. Entraînez-le sur `textes_train, y_train`.
3. Rangez son exactitude sur le test dans `score_modele`.
'''),
        *exercise("ex3-classifieur", r'''
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

### BEGIN SOLUTION
modele = make_pipeline(TfidfVectorizer(analyzer=preparer), LogisticRegression(C=10, max_iter=1000))
modele.fit(textes_train, y_train)
score_modele = modele.score(textes_test, y_test)
### END SOLUTION
print(f"Exactitude sur le test : {score_modele:.3f}  (baseline : {score_reference:.3f})")
''', r'''
from sklearn.pipeline import Pipeline
assert isinstance(modele, Pipeline), "modele doit être un pipeline : utilisez make_pipeline(TfidfVectorizer(...), LogisticRegression(...))."
assert isinstance(modele.steps[0][1], TfidfVectorizer), "La première étape du pipeline doit être le TfidfVectorizer."
assert score_modele > 0.8, f"L'exactitude ({score_modele:.3f}) devrait dépasser 0.8 : avez-vous entraîné le modèle sur textes_train et y_train, et passé analyzer=preparer ?"
print("Bravo, c'est juste !")
### BEGIN HIDDEN TESTS
_m = make_pipeline(TfidfVectorizer(analyzer=preparer), LogisticRegression(C=10, max_iter=1000)).fit(textes_train, y_train)
assert abs(score_modele - _m.score(textes_test, y_test)) < 1e-9, "score_modele doit être l'exactitude sur le test"
assert "de" not in modele.steps[0][1].vocabulary_, "le vectoriseur doit utiliser preparer"
assert len(modele.steps[0][1].vocabulary_) == len(_m.steps[0][1].vocabulary_), "le vocabulaire doit être appris sur l'apprentissage seulement"
### END HIDDEN TESTS
''', points=3),
        md(r'''
## 4. Évaluer section par section

L'exactitude globale cache les différences entre sections. Le **tableau croisé** vraies sections × sections prédites (la matrice de confusion) montre où le modèle se trompe ; les cases hors diagonale sont les erreurs.
'''),
        code(r'''
predictions = modele.predict(textes_test)
pd.crosstab(y_test, predictions, rownames=["vraie section"], colnames=["section prédite"])
'''),
        code(r'''
# Les descriptions mal classées : que se passe-t-il ?
erreurs = pd.DataFrame({"description": textes_test, "vraie": y_test, "predite": predictions})
erreurs[erreurs["vraie"] != erreurs["predite"]]
'''),
        md(r'''
### Exercice 4 (2 points) : le rappel par section

Le **rappel** d'une section est la part de ses descriptions de test que le modèle retrouve (prédit dans la bonne section). Construisez le dictionnaire `rappel_par_section` : pour chaque section (clé, par exemple `"A"`), la part des descriptions de test de cette section dont la prédiction est juste.

*Indice* : pour une section `s`, `(predictions[y_test == s] == s).mean()`.
'''),
        *exercise("ex4-rappel", r'''
### BEGIN SOLUTION
rappel_par_section = {s: float((predictions[y_test == s] == s).mean()) for s in sorted(y_test.unique())}
### END SOLUTION
pd.Series(rappel_par_section).round(3)
''', r'''
assert set(rappel_par_section) == set(corpus["section"]), "rappel_par_section doit avoir une clé par section (A, C, F, G, H, I, J, P, Q)."
assert all(0 <= v <= 1 for v in rappel_par_section.values()), "Un rappel est une proportion, entre 0 et 1."
assert min(rappel_par_section.values()) < 1 or score_modele == 1, "Le modèle fait des erreurs : au moins une section devrait avoir un rappel inférieur à 1."
print("Bravo, c'est juste !")
### BEGIN HIDDEN TESTS
from sklearn.metrics import recall_score
_sections = sorted(corpus["section"].unique())
_r = recall_score(y_test, predictions, labels=_sections, average=None)
for _s, _v in zip(_sections, _r):
    assert abs(rappel_par_section[_s] - _v) < 1e-9, f"rappel incorrect pour la section {_s}"
### END HIDDEN TESTS
''', points=2),
        md(r'''
## 5. Coder automatiquement… ou reprendre à la main

En production, un service statistique ne code pas tout automatiquement : quand le modèle hésite, la description part en **reprise manuelle** chez un gestionnaire. `modele.predict_proba([texte])` renvoie, pour chaque section (dans l'ordre de `modele.classes_`), la probabilité estimée par le modèle. On code automatiquement seulement si la plus grande probabilité atteint un **seuil**.
'''),
        code(r'''
texte = "Vente et réparation de vélos"
probabilites = modele.predict_proba([texte])[0]
pd.Series(probabilites, index=modele.classes_).sort_values(ascending=False).round(3).head(4)
'''),
        md(r'''
### Exercice 5 (3 points) : la fonction `coder_activite`

Écrivez `coder_activite(description, seuil=0.5)` qui renvoie :
- la section la plus probable (une chaîne comme `"A"`), si sa probabilité est **supérieure ou égale** à `seuil` ;
- sinon la chaîne `"REPRISE"`.

Puis calculez `taux_codage_auto` : la part des descriptions de **test** codées automatiquement (pas en `"REPRISE"`) avec le seuil par défaut.

*Indices* : `np.argmax(probabilites)` donne la position de la plus grande probabilité, et `modele.classes_[position]` la section correspondante (pensez à la convertir avec `str(...)`).
'''),
        *exercise("ex5-coder", r'''
def coder_activite(description, seuil=0.5):
    ### BEGIN SOLUTION
    probabilites = modele.predict_proba([description])[0]
    position = int(np.argmax(probabilites))
    if probabilites[position] >= seuil:
        return str(modele.classes_[position])
    return "REPRISE"
    ### END SOLUTION


### BEGIN SOLUTION
taux_codage_auto = float(np.mean([coder_activite(t) != "REPRISE" for t in textes_test]))
### END SOLUTION
print(coder_activite("Élevage de vaches laitières"), coder_activite("Cabinet dentaire à Lille"))
print(f"Part codée automatiquement : {taux_codage_auto:.1%}")
''', r'''
assert coder_activite("Élevage de vaches laitières") == "A", "« Élevage de vaches laitières » devrait être codé en section A."
assert type(coder_activite("Cabinet dentaire")) is str, "coder_activite doit renvoyer une chaîne (str), pas un tableau : utilisez str(modele.classes_[position])."
assert coder_activite("Cabinet dentaire", seuil=1.01) == "REPRISE", "Avec un seuil impossible à atteindre (1.01), la réponse doit être \"REPRISE\"."
assert 0 < taux_codage_auto <= 1, "taux_codage_auto est une proportion de descriptions codées automatiquement, entre 0 et 1."
print("Bravo, c'est juste !")
### BEGIN HIDDEN TESTS
for _t in list(textes_test.iloc[:20]) + ["Vente et réparation de vélos", "Cours de piano à domicile"]:
    _p = modele.predict_proba([_t])[0]
    assert coder_activite(_t, seuil=0.0) == modele.predict([_t])[0], "avec un seuil nul, on doit renvoyer la section prédite"
    _attendu = modele.classes_[_p.argmax()] if _p.max() >= 0.7 else "REPRISE"
    assert coder_activite(_t, seuil=0.7) == _attendu, "le seuil doit être comparé à la plus grande probabilité (>=)"
_auto = np.mean(modele.predict_proba(textes_test).max(axis=1) >= 0.5)
assert abs(taux_codage_auto - _auto) < 1e-9, "taux_codage_auto doit être calculé sur le test avec le seuil 0.5"
### END HIDDEN TESTS
''', points=3),
        code(r'''
# Le compromis : plus le seuil est haut, moins on code automatiquement, mais mieux on code.
probas = modele.predict_proba(textes_test)
choix = modele.classes_[probas.argmax(axis=1)]
lignes = []
for seuil in [0.3, 0.5, 0.7, 0.9]:
    auto = probas.max(axis=1) >= seuil
    lignes.append({"seuil": seuil, "part codée automatiquement": auto.mean(),
                   "exactitude sur la part codée": (choix[auto] == np.asarray(y_test)[auto]).mean()})
pd.DataFrame(lignes).round(3)
'''),
        md(r'''
## 6. À vous de réfléchir (question notée par le formateur)

Vous êtes responsable du codage automatique des activités. En vous appuyant sur le tableau ci-dessus, expliquez comment vous choisiriez le seuil : qu'est-ce qu'on gagne et qu'est-ce qu'on perd en le montant ? Citez aussi une raison pour laquelle l'exactitude mesurée ici (sur des descriptions générées à partir de modèles de phrases) serait sans doute **trop optimiste** pour de vraies déclarations.
'''),
        free_text("q-seuil-et-realisme", r'''
*Réponse attendue (éléments) :* monter le seuil diminue la part codée automatiquement (plus de travail de reprise manuelle, coût en gestionnaires) mais augmente la qualité de ce qui est codé automatiquement ; on fixe le seuil selon la qualité exigée (par exemple ≥ 95 % d'exactitude sur la part codée) et la charge de reprise acceptable, mesurées sur un échantillon de test. Trop optimiste : le corpus est généré par des gabarits avec un vocabulaire limité, les descriptions de test ressemblent beaucoup à celles d'apprentissage ; les vraies déclarations ont des fautes, des abréviations, des activités multiples, plus de sections et de sous-classes (codes NAF fins), et des cas réellement ambigus.
''', points=2),
        md(r'''
## Ce qu'il faut retenir

- **TF-IDF** donne plus de poids aux mots rares et parlants qu'aux mots présents partout.
- Un **pipeline** (vectoriseur + classifieur) s'entraîne et s'évalue comme un seul modèle, sans fuite du test vers l'apprentissage.
- On juge un classifieur par rapport à une **baseline**, et section par section (matrice de confusion, rappel).
- En production, un **seuil** sur la probabilité partage le travail entre codage automatique et reprise manuelle.
'''),
    ])


if __name__ == "__main__":
    for folder, build in [("01-preparer-le-texte", preparer_le_texte), ("02-classer-les-activites", classer_les_activites)]:
        target = SOURCE / folder
        target.mkdir(parents=True, exist_ok=True)
        write(build(), target / f"{folder}.ipynb")
        print("wrote", target)
