# ruff: noqa: E501  (notebook text below is kept as learners read it)
"""Writes the ML course's nbgrader source notebooks (run: python courses/ml/tools/build_notebooks.py)."""

from pathlib import Path

from nbcells import code, exercise, free_text, md, notebook, write

SOURCE = Path(__file__).resolve().parents[1] / "source"

LOAD = r'''
import numpy as np
import pandas as pd

enquete = pd.read_csv("data/enquete_emploi.csv")
enquete.head()
'''


def premiers_modeles():
    return notebook([
        md(r'''
# Premiers modèles d'apprentissage automatique

Dans ce notebook, vous allez construire votre premier modèle de *machine learning* (apprentissage automatique) avec **pandas** et **scikit-learn**, sur une enquête emploi fictive.

**Objectifs**
1. comprendre ce qu'est un apprentissage *supervisé* : des variables explicatives `X`, une cible `y` ;
2. séparer les données en échantillon d'**apprentissage** et échantillon de **test**, et savoir pourquoi ;
3. calculer un **modèle de référence** (*baseline*) pour savoir ce qu'est un « bon » score ;
4. entraîner un arbre de décision et mesurer son **exactitude** (*accuracy*).

**Comment travailler** : lisez les explications, exécutez les cellules d'exemple (Maj + Entrée), puis complétez les cellules d'exercice à la place de `raise NotImplementedError()`. La cellule qui suit chaque exercice vérifie votre réponse : si elle affiche « Bravo », c'est juste ; sinon, lisez l'indice du message d'erreur.
'''),
        md(r'''
## 1. Les données : une enquête emploi

Le fichier `data/enquete_emploi.csv` décrit 2 000 personnes en emploi (données **synthétiques**, générées par un programme : elles ressemblent à une enquête réelle mais ne décrivent personne). Une ligne = une personne :

| colonne | contenu |
|---|---|
| `age` | âge en années |
| `sexe` | Femme / Homme |
| `diplome` | plus haut diplôme obtenu |
| `region` | région de résidence |
| `contrat` | CDI, CDD, intérim, indépendant |
| `heures_semaine` | heures travaillées par semaine |
| `anciennete` | ancienneté dans l'emploi (années) |
| `revenu_mensuel` | revenu net mensuel (euros) |
| `revenu_eleve` | **la cible** : 1 si le revenu dépasse 2 500 €, 0 sinon |

La question posée au modèle : *à partir des caractéristiques d'une personne, peut-on prédire si son revenu est élevé ?* C'est un problème de **classification** (la cible prend deux valeurs) et d'apprentissage **supervisé** (on connaît la bonne réponse pour les personnes de l'enquête, et le modèle apprend à partir d'elles).
'''),
        code(LOAD),
        code(r'''
print("Dimensions (lignes, colonnes) :", enquete.shape)
print(enquete["diplome"].value_counts())
enquete.describe()
'''),
        md(r'''
### Exercice 1 (1 point) : la part de revenus élevés

Calculez `part_revenu_eleve`, la proportion de personnes dont `revenu_eleve` vaut 1 (un nombre entre 0 et 1).

*Indice* : la moyenne d'une colonne de 0 et de 1 est la proportion de 1 : `enquete["revenu_eleve"].mean()`.
'''),
        *exercise("ex1-part", r'''
### BEGIN SOLUTION
part_revenu_eleve = enquete["revenu_eleve"].mean()
### END SOLUTION
print(f"Part de revenus élevés : {part_revenu_eleve:.1%}")
''', r'''
assert isinstance(part_revenu_eleve, float), "part_revenu_eleve doit être un nombre décimal (float), par exemple 0.25."
assert 0 < part_revenu_eleve < 1, "Une proportion est comprise entre 0 et 1. Indice : utilisez .mean() plutôt que .sum()."
print("Bravo, c'est juste !")
### BEGIN HIDDEN TESTS
_attendu = (pd.read_csv("data/enquete_emploi.csv")["revenu_mensuel"] > 2500).mean()
assert abs(part_revenu_eleve - _attendu) < 1e-9, "la proportion ne correspond pas aux données"
### END HIDDEN TESTS
''', points=1),
        md(r'''
## 2. Variables explicatives `X` et cible `y`

Un modèle supervisé apprend une fonction qui va de `X` (les **variables explicatives**, une ligne par personne) vers `y` (la **cible**).

Attention à ce que l'on met dans `X` :
- l'`identifiant` n'apporte aucune information (c'est un numéro) ;
- `revenu_mensuel` **contient la réponse** : `revenu_eleve` est calculé à partir de lui. Le laisser dans `X` serait tricher — le modèle aurait un score parfait dans le notebook et serait inutilisable en vrai, là où l'on ne connaît pas le revenu. On appelle cela une **fuite de données** (*data leakage*).

Pour commencer, on garde seulement les variables **numériques** : `age`, `heures_semaine`, `anciennete`.

## 3. Pourquoi séparer apprentissage et test ?

Un modèle peut « apprendre par cœur » les personnes qu'il a vues. Mesurer sa qualité sur ces mêmes personnes serait comme noter un élève sur les exercices dont il a eu le corrigé. On met donc de côté une partie des données, **l'échantillon de test**, que le modèle ne voit jamais pendant l'apprentissage : son score sur le test estime ce qu'il fera sur de *nouvelles* personnes.

`train_test_split` de scikit-learn fait ce tirage au hasard. Trois réglages importants :
- `test_size=0.25` : 25 % des lignes vont dans le test ;
- `random_state=0` : le tirage est reproductible (même résultat à chaque exécution) ;
- `stratify=y` : la part de revenus élevés est la même dans les deux échantillons.

Exemple sur un petit tableau de 8 lignes :
'''),
        code(r'''
from sklearn.model_selection import train_test_split

petit = pd.DataFrame({"x": range(8), "cible": [0, 1, 0, 1, 0, 1, 0, 1]})
petit_train, petit_test = train_test_split(petit, test_size=0.25, random_state=0, stratify=petit["cible"])
print("Apprentissage :", sorted(petit_train["x"]))
print("Test          :", sorted(petit_test["x"]))
'''),
        md(r'''
### Exercice 2 (2 points) : préparer `X`, `y` et les séparer

1. Créez `X` avec les colonnes `age`, `heures_semaine`, `anciennete` (dans cet ordre) et `y`, la colonne `revenu_eleve`.
2. Séparez-les avec `train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)` en `X_train, X_test, y_train, y_test` (dans cet ordre : c'est l'ordre que renvoie la fonction).
'''),
        *exercise("ex2-separer", r'''
### BEGIN SOLUTION
X = enquete[["age", "heures_semaine", "anciennete"]]
y = enquete["revenu_eleve"]
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
### END SOLUTION
print("Apprentissage :", X_train.shape, " Test :", X_test.shape)
''', r'''
assert list(X.columns) == ["age", "heures_semaine", "anciennete"], f"X devrait avoir les colonnes age, heures_semaine, anciennete ; il a {list(X.columns)}."
assert "revenu_mensuel" not in X.columns, "revenu_mensuel ne doit pas être dans X : il contient la réponse (fuite de données)."
assert len(X_train) == 1500 and len(X_test) == 500, f"On attend 1500 lignes d'apprentissage et 500 de test, vous en avez {len(X_train)} et {len(X_test)}. Indice : test_size=0.25."
assert len(y_train) == len(X_train), "y_train et X_train doivent avoir le même nombre de lignes : vérifiez l'ordre X_train, X_test, y_train, y_test."
print("Bravo, c'est juste !")
### BEGIN HIDDEN TESTS
_X = enquete[["age", "heures_semaine", "anciennete"]]
_a, _b, _c, _d = train_test_split(_X, enquete["revenu_eleve"], test_size=0.25, random_state=0, stratify=enquete["revenu_eleve"])
assert list(X_train.index) == list(_a.index), "le tirage doit utiliser random_state=0 et stratify=y"
assert list(y_test.index) == list(_d.index), "y_test ne correspond pas au tirage attendu"
assert (y_train == enquete.loc[X_train.index, "revenu_eleve"]).all(), "y_train ne correspond pas à X_train"
### END HIDDEN TESTS
''', points=2),
        md(r'''
## 4. Un modèle de référence (*baseline*)

Avant d'entraîner un vrai modèle, demandons-nous : quel score obtiendrait une règle **sans aucune intelligence** ? Par exemple : « prédire toujours la classe la plus fréquente » (ici : revenu non élevé). Si environ un tiers des personnes ont un revenu élevé, cette règle a déjà raison environ deux fois sur trois !

Un modèle n'est utile que s'il fait **mieux que cette référence**. Un score de 66 % peut sembler correct ; il est en fait nul si la baseline fait autant.

scikit-learn fournit cette règle : `DummyClassifier(strategy="most_frequent")`. Tous les modèles de scikit-learn s'utilisent de la même façon :
- `modele.fit(X_train, y_train)` : apprendre sur l'échantillon d'apprentissage ;
- `modele.predict(X_test)` : prédire ;
- `modele.score(X_test, y_test)` : l'**exactitude** (*accuracy*), la part de bonnes prédictions.
'''),
        md(r'''
### Exercice 3 (2 points) : le score de la baseline

Entraînez un `DummyClassifier(strategy="most_frequent")` sur l'échantillon d'apprentissage et rangez dans `score_reference` son exactitude sur l'échantillon de **test**.
'''),
        *exercise("ex3-baseline", r'''
from sklearn.dummy import DummyClassifier

### BEGIN SOLUTION
reference = DummyClassifier(strategy="most_frequent")
reference.fit(X_train, y_train)
score_reference = reference.score(X_test, y_test)
### END SOLUTION
print(f"Exactitude de la baseline sur le test : {score_reference:.3f}")
''', r'''
assert isinstance(score_reference, float), "score_reference doit être un nombre : utilisez reference.score(X_test, y_test)."
assert 0.5 < score_reference < 0.8, f"score_reference vaut {score_reference} : la règle « toujours la classe la plus fréquente » devrait avoir raison environ 2 fois sur 3. Avez-vous mis strategy=\"most_frequent\" ?"
print("Bravo, c'est juste !")
### BEGIN HIDDEN TESTS
assert abs(score_reference - (1 - y_test.mean())) < 1e-9, "le score doit être calculé sur l'échantillon de test"
### END HIDDEN TESTS
''', points=2),
        md(r'''
## 5. Un arbre de décision

Un **arbre de décision** pose une suite de questions simples (« âge < 30 ? », « heures > 35 ? ») et prédit la classe majoritaire de chaque feuille. La profondeur maximale (`max_depth`) limite le nombre de questions successives.

### Les variables qualitatives

Le diplôme ou la région sont des textes : un modèle ne sait manipuler que des nombres. On les transforme en **indicatrices** (variables 0/1, une par modalité) avec `pd.get_dummies`. Exemple :
'''),
        code(r'''
pd.get_dummies(enquete[["age", "diplome"]].head(4), dtype=int)
'''),
        md(r'''
### Exercice 4 (3 points) : un arbre avec toutes les variables

1. Créez `X_complet = pd.get_dummies(enquete.drop(columns=["identifiant", "revenu_mensuel", "revenu_eleve"]), dtype=int)`.
2. Séparez `X_complet` et `y` **exactement comme à l'exercice 2** (mêmes paramètres) en `Xc_train, Xc_test, yc_train, yc_test`.
3. Entraînez `arbre = DecisionTreeClassifier(max_depth=4, random_state=0)` sur l'apprentissage.
4. Rangez son exactitude sur le test dans `score_arbre`.
'''),
        *exercise("ex4-arbre", r'''
from sklearn.tree import DecisionTreeClassifier

### BEGIN SOLUTION
X_complet = pd.get_dummies(enquete.drop(columns=["identifiant", "revenu_mensuel", "revenu_eleve"]), dtype=int)
Xc_train, Xc_test, yc_train, yc_test = train_test_split(X_complet, y, test_size=0.25, random_state=0, stratify=y)
arbre = DecisionTreeClassifier(max_depth=4, random_state=0)
arbre.fit(Xc_train, yc_train)
score_arbre = arbre.score(Xc_test, yc_test)
### END SOLUTION
print(f"Arbre : {score_arbre:.3f}   baseline : {score_reference:.3f}")
''', r'''
assert "revenu_mensuel" not in X_complet.columns, "revenu_mensuel ne doit pas être dans X_complet (fuite de données)."
assert "diplome_Bac" in X_complet.columns, "X_complet doit contenir des indicatrices comme diplome_Bac. Indice : pd.get_dummies(...)."
assert arbre.get_depth() <= 4, "L'arbre doit avoir max_depth=4."
assert score_arbre > score_reference, "L'arbre devrait faire mieux que la baseline : vérifiez que vous l'avez entraîné sur Xc_train, yc_train."
print("Bravo, c'est juste !")
### BEGIN HIDDEN TESTS
_Xc = pd.get_dummies(enquete.drop(columns=["identifiant", "revenu_mensuel", "revenu_eleve"]), dtype=int)
_a, _b, _c, _d = train_test_split(_Xc, enquete["revenu_eleve"], test_size=0.25, random_state=0, stratify=enquete["revenu_eleve"])
assert list(Xc_test.index) == list(_b.index), "le découpage doit reprendre test_size=0.25, random_state=0, stratify=y"
_attendu = DecisionTreeClassifier(max_depth=4, random_state=0).fit(_a, _c).score(_b, _d)
assert abs(score_arbre - _attendu) < 1e-9, "score_arbre doit être l'exactitude sur le test"
### END HIDDEN TESTS
''', points=3),
        md(r'''
## 6. Mesurer l'erreur soi-même

L'exactitude, c'est la part de prédictions justes ; le **taux d'erreur** est son complément. Écrire ces mesures soi-même aide à comprendre ce que calcule `score`.

### Exercice 5 (2 points) : une fonction `taux_erreur`

Écrivez `taux_erreur(y_vrai, y_predit)` qui renvoie la part (entre 0 et 1) des positions où `y_predit` diffère de `y_vrai`. Elle doit marcher avec des listes comme avec des colonnes pandas.

*Indice* : `np.mean(np.asarray(y_vrai) != np.asarray(y_predit))`.
'''),
        *exercise("ex5-erreur", r'''
def taux_erreur(y_vrai, y_predit):
    ### BEGIN SOLUTION
    return float(np.mean(np.asarray(y_vrai) != np.asarray(y_predit)))
    ### END SOLUTION


print("Taux d'erreur de l'arbre :", taux_erreur(yc_test, arbre.predict(Xc_test)))
''', r'''
assert taux_erreur([0, 1, 1, 0], [0, 1, 1, 0]) == 0, "Si toutes les prédictions sont justes, le taux d'erreur vaut 0."
assert taux_erreur([0, 1, 1, 0], [1, 1, 1, 0]) == 0.25, "Une erreur sur 4 prédictions doit donner 0.25."
print("Bravo, c'est juste !")
### BEGIN HIDDEN TESTS
assert taux_erreur([1, 1, 1], [0, 0, 0]) == 1, "trois erreurs sur trois"
assert abs(taux_erreur([0, 1, 0, 1, 1], [0, 0, 0, 0, 1]) - 0.4) < 1e-12
assert abs(taux_erreur(pd.Series([1, 0, 1]), pd.Series([1, 1, 1], index=[5, 6, 7])) - 1 / 3) < 1e-12, "compare les positions, pas les index"
assert abs(taux_erreur(yc_test, arbre.predict(Xc_test)) - (1 - score_arbre)) < 1e-9
### END HIDDEN TESTS
''', points=2),
        md(r'''
## 7. À vous de réfléchir (question notée par le formateur)

Un collègue annonce fièrement : « Mon modèle prédit le revenu élevé avec 99 % d'exactitude ! ». Il a mis `revenu_mensuel` dans les variables explicatives et a calculé le score sur les données d'apprentissage. Expliquez-lui, en quelques phrases, les **deux** problèmes de sa démarche, et ce qu'il faudrait faire à la place.
'''),
        free_text("q-fuite-et-test", r'''
*Réponse attendue (éléments) :* 1) `revenu_mensuel` contient la réponse (la cible en est calculée) : c'est une fuite de données, le modèle ne sera pas utilisable quand le revenu est inconnu ; il faut l'exclure de `X`. 2) Un score calculé sur les données d'apprentissage est optimiste (le modèle peut les avoir apprises par cœur) : il faut mettre de côté un échantillon de test jamais vu pendant l'apprentissage et y mesurer le score, puis le comparer à une baseline (classe majoritaire, environ 66 %).
''', points=2),
        md(r'''
## Ce qu'il faut retenir

- `X` = variables explicatives, `y` = cible ; jamais de variable qui contient la réponse dans `X`.
- On évalue toujours sur un **échantillon de test** mis de côté (`train_test_split`, avec `random_state` pour la reproductibilité).
- Un score ne veut rien dire seul : on le compare à une **baseline**.
- Avec scikit-learn : `fit`, `predict`, `score`, pour tous les modèles.

Dans le notebook suivant : le **surapprentissage**, le choix de la profondeur par validation croisée et d'autres mesures que l'exactitude.
'''),
    ])


SETUP_2 = r'''
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeClassifier

enquete = pd.read_csv("data/enquete_emploi.csv")
X = pd.get_dummies(enquete.drop(columns=["identifiant", "revenu_mensuel", "revenu_eleve"]), dtype=int)
y = enquete["revenu_eleve"]
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
print("Apprentissage :", X_train.shape, " Test :", X_test.shape)
'''


def evaluer_et_ajuster():
    return notebook([
        md(r'''
# Évaluer et ajuster un modèle

Suite du notebook « Premiers modèles ». On reprend l'enquête emploi synthétique et la question : *le revenu d'une personne dépasse-t-il 2 500 € par mois ?*

**Objectifs**
1. reconnaître le **surapprentissage** (*overfitting*) ;
2. choisir un réglage (la profondeur d'un arbre) par **validation croisée**, sans toucher au test ;
3. lire une **matrice de confusion** et calculer **précision** et **rappel**.

La cellule ci-dessous prépare les données comme à la fin du notebook précédent (indicatrices, découpage 75 % / 25 %).
'''),
        code(SETUP_2),
        md(r'''
## 1. Le surapprentissage

Un arbre sans limite de profondeur peut poser autant de questions qu'il veut : il finit par isoler presque chaque personne de l'apprentissage dans sa propre feuille. Il « récite » alors l'échantillon d'apprentissage, bruit compris, et généralise mal. Comparez ses scores :
'''),
        code(r'''
arbre_libre = DecisionTreeClassifier(random_state=0).fit(X_train, y_train)
print(f"Profondeur atteinte : {arbre_libre.get_depth()}")
print(f"Exactitude sur l'apprentissage : {arbre_libre.score(X_train, y_train):.3f}")
print(f"Exactitude sur le test         : {arbre_libre.score(X_test, y_test):.3f}")
'''),
        md(r'''
Presque 100 % sur l'apprentissage, nettement moins sur le test : c'est la signature du **surapprentissage**. À l'inverse, un arbre trop simple (profondeur 1) rate des régularités réelles : c'est le **sous-apprentissage**. Entre les deux, il existe une profondeur qui généralise le mieux.

### Exercice 1 (2 points) : scores selon la profondeur

Pour chaque profondeur `p` de 1 à 12 (inclus), entraînez `DecisionTreeClassifier(max_depth=p, random_state=0)` sur l'apprentissage et remplissez deux dictionnaires : `scores_train[p]` (exactitude sur l'apprentissage) et `scores_test[p]` (exactitude sur le test).
'''),
        *exercise("ex1-profondeurs", r'''
scores_train = {}
scores_test = {}
### BEGIN SOLUTION
for p in range(1, 13):
    modele = DecisionTreeClassifier(max_depth=p, random_state=0).fit(X_train, y_train)
    scores_train[p] = modele.score(X_train, y_train)
    scores_test[p] = modele.score(X_test, y_test)
### END SOLUTION
pd.DataFrame({"apprentissage": scores_train, "test": scores_test}).plot(marker="o", xlabel="profondeur max", ylabel="exactitude")
plt.show()
''', r'''
assert sorted(scores_train) == list(range(1, 13)), "scores_train doit avoir une entrée par profondeur, de 1 à 12. Indice : range(1, 13)."
assert sorted(scores_test) == list(range(1, 13)), "scores_test doit avoir une entrée par profondeur, de 1 à 12."
assert scores_train[12] > scores_train[1], "Plus l'arbre est profond, mieux il colle à l'apprentissage : vérifiez que vous utilisez max_depth=p."
print("Bravo, c'est juste !")
### BEGIN HIDDEN TESTS
for _p in (1, 5, 12):
    _m = DecisionTreeClassifier(max_depth=_p, random_state=0).fit(X_train, y_train)
    assert abs(scores_train[_p] - _m.score(X_train, y_train)) < 1e-9, f"scores_train[{_p}] incorrect"
    assert abs(scores_test[_p] - _m.score(X_test, y_test)) < 1e-9, f"scores_test[{_p}] incorrect"
### END HIDDEN TESTS
''', points=2),
        md(r'''
## 2. Choisir la profondeur sans tricher : la validation croisée

Tentant : prendre la profondeur qui maximise `scores_test`. Mais alors le test a servi à **choisir** le modèle, et son score n'est plus une mesure honnête de ce qui se passera sur de nouvelles données (on a un peu « surappris » le test).

La bonne pratique : choisir les réglages **à l'intérieur de l'apprentissage**. La **validation croisée** en 5 blocs (*5-fold*) découpe l'apprentissage en 5 parts ; on entraîne 5 fois sur 4 parts et on évalue sur la 5e, puis on fait la moyenne. Le test reste intact jusqu'à l'évaluation finale.
'''),
        code(r'''
from sklearn.model_selection import cross_val_score

scores_cv = cross_val_score(DecisionTreeClassifier(max_depth=3, random_state=0), X_train, y_train, cv=5)
print("5 scores :", scores_cv.round(3), " moyenne :", round(scores_cv.mean(), 3))
'''),
        md(r'''
### Exercice 2 (2 points) : la meilleure profondeur par validation croisée

Pour chaque profondeur de 1 à 12, calculez la moyenne des 5 scores de `cross_val_score(DecisionTreeClassifier(max_depth=p, random_state=0), X_train, y_train, cv=5)` et rangez-la dans `scores_cv_moyens[p]`. Puis mettez dans `meilleure_profondeur` la profondeur dont la moyenne est la plus haute.

*Indice* : `max(scores_cv_moyens, key=scores_cv_moyens.get)` renvoie la clé de la plus grande valeur.
'''),
        *exercise("ex2-validation-croisee", r'''
scores_cv_moyens = {}
### BEGIN SOLUTION
for p in range(1, 13):
    scores_cv_moyens[p] = cross_val_score(DecisionTreeClassifier(max_depth=p, random_state=0), X_train, y_train, cv=5).mean()
meilleure_profondeur = max(scores_cv_moyens, key=scores_cv_moyens.get)
### END SOLUTION
print("Profondeur retenue :", meilleure_profondeur)
''', r'''
assert sorted(scores_cv_moyens) == list(range(1, 13)), "scores_cv_moyens doit avoir une entrée par profondeur, de 1 à 12."
assert meilleure_profondeur in scores_cv_moyens, "meilleure_profondeur doit être une des profondeurs testées (1 à 12)."
assert scores_cv_moyens[meilleure_profondeur] == max(scores_cv_moyens.values()), "meilleure_profondeur doit être celle dont la moyenne de validation croisée est la plus haute."
print("Bravo, c'est juste !")
### BEGIN HIDDEN TESTS
for _p in (2, meilleure_profondeur, 12):
    _s = cross_val_score(DecisionTreeClassifier(max_depth=_p, random_state=0), X_train, y_train, cv=5).mean()
    assert abs(scores_cv_moyens[_p] - _s) < 1e-9, f"scores_cv_moyens[{_p}] doit être la moyenne de cross_val_score sur l'apprentissage"
assert 3 <= meilleure_profondeur <= 8
### END HIDDEN TESTS
''', points=2),
        md(r'''
## 3. Au-delà de l'exactitude : la matrice de confusion

L'exactitude mélange deux sortes d'erreurs. La **matrice de confusion** les sépare. Avec scikit-learn, les lignes sont les vraies classes et les colonnes les classes prédites :

| | prédit 0 | prédit 1 |
|---|---|---|
| **vrai 0** | vrais négatifs (VN) | faux positifs (FP) |
| **vrai 1** | faux négatifs (FN) | vrais positifs (VP) |

Deux mesures en découlent, pour la classe « revenu élevé » :
- **précision** = VP / (VP + FP) : parmi les personnes *prédites* à revenu élevé, la part qui l'est vraiment ;
- **rappel** = VP / (VP + FN) : parmi les personnes *vraiment* à revenu élevé, la part que le modèle retrouve.

Le modèle final est entraîné sur tout l'apprentissage avec la profondeur retenue par la validation croisée (5 sur ces données ; elle est écrite en dur ci-dessous pour que la suite marche même si l'exercice 2 n'est pas fini), puis évalué **une seule fois** sur le test :
'''),
        code(r'''
from sklearn.metrics import confusion_matrix

modele_final = DecisionTreeClassifier(max_depth=5, random_state=0).fit(X_train, y_train)
predictions = modele_final.predict(X_test)
print(confusion_matrix(y_test, predictions))
'''),
        md(r'''
### Exercice 3 (2 points) : lire la matrice

À partir de `matrice = confusion_matrix(y_test, predictions)`, rangez dans les variables `vrais_positifs`, `faux_positifs`, `faux_negatifs` les nombres correspondants (des entiers).

*Indice* : `matrice[1, 1]` est la case « vrai 1, prédit 1 ».
'''),
        *exercise("ex3-confusion", r'''
matrice = confusion_matrix(y_test, predictions)
### BEGIN SOLUTION
vrais_positifs = int(matrice[1, 1])
faux_positifs = int(matrice[0, 1])
faux_negatifs = int(matrice[1, 0])
### END SOLUTION
print("VP :", vrais_positifs, " FP :", faux_positifs, " FN :", faux_negatifs)
''', r'''
assert vrais_positifs + faux_negatifs == int(y_test.sum()), "VP + FN doit égaler le nombre de vrais revenus élevés dans le test : relisez la ligne « vrai 1 » (matrice[1, ...])."
assert vrais_positifs + faux_positifs == int(predictions.sum()), "VP + FP doit égaler le nombre de revenus élevés prédits : relisez la colonne « prédit 1 » (matrice[..., 1])."
print("Bravo, c'est juste !")
### BEGIN HIDDEN TESTS
_y, _p = np.asarray(y_test), np.asarray(predictions)
assert vrais_positifs == int(((_y == 1) & (_p == 1)).sum())
assert faux_positifs == int(((_y == 0) & (_p == 1)).sum())
assert faux_negatifs == int(((_y == 1) & (_p == 0)).sum())
### END HIDDEN TESTS
''', points=2),
        md(r'''
### Exercice 4 (3 points) : précision et rappel

Écrivez `precision_rappel(y_vrai, y_predit)` qui renvoie le couple `(precision, rappel)` pour la classe 1. Si le modèle ne prédit jamais 1, la précision vaut 0 par convention (de même pour le rappel s'il n'y a aucun vrai 1).
'''),
        *exercise("ex4-precision-rappel", r'''
def precision_rappel(y_vrai, y_predit):
    ### BEGIN SOLUTION
    y_vrai, y_predit = np.asarray(y_vrai), np.asarray(y_predit)
    vp = int(((y_vrai == 1) & (y_predit == 1)).sum())
    predits = int((y_predit == 1).sum())
    vrais = int((y_vrai == 1).sum())
    precision = vp / predits if predits else 0.0
    rappel = vp / vrais if vrais else 0.0
    return precision, rappel
    ### END SOLUTION


precision, rappel = precision_rappel(y_test, predictions)
print(f"Précision : {precision:.3f}   rappel : {rappel:.3f}")
''', r'''
assert precision_rappel([1, 0, 1, 1], [1, 1, 0, 1]) == (2 / 3, 2 / 3), "Pour y_vrai=[1,0,1,1] et y_predit=[1,1,0,1] : 2 vrais positifs sur 3 prédits (précision 2/3) et sur 3 vrais (rappel 2/3)."
assert precision_rappel([1, 1, 0, 0], [1, 0, 0, 0]) == (1.0, 0.5), "Pour y_vrai=[1,1,0,0] et y_predit=[1,0,0,0] : précision 1 (la seule prédiction 1 est juste), rappel 0.5."
print("Bravo, c'est juste !")
### BEGIN HIDDEN TESTS
from sklearn.metrics import precision_score, recall_score
assert precision_rappel([1, 1, 0], [0, 0, 0]) == (0.0, 0.0), "aucune prédiction positive : précision 0 par convention"
assert precision_rappel([0, 0], [1, 0]) == (0.0, 0.0), "aucun vrai positif possible : rappel 0 par convention"
_pr = precision_rappel(y_test, predictions)
assert abs(_pr[0] - precision_score(y_test, predictions)) < 1e-9 and abs(_pr[1] - recall_score(y_test, predictions)) < 1e-9
_r = np.random.default_rng(3)
_a, _b = _r.integers(0, 2, 50), _r.integers(0, 2, 50)
assert np.allclose(precision_rappel(_a, _b), (precision_score(_a, _b), recall_score(_a, _b)))
### END HIDDEN TESTS
''', points=3),
        md(r'''
## 4. À vous de réfléchir (question notée par le formateur)

Imaginons que ce modèle serve à repérer les personnes à **bas** revenu pour leur proposer une aide, et qu'on préfère ne rater personne quitte à contacter quelques personnes pour rien. Quelle mesure (précision ou rappel) surveilleriez-vous en priorité, et pourquoi ? Citez aussi une raison de ne pas choisir la profondeur de l'arbre à partir de l'échantillon de test.
'''),
        free_text("q-rappel-et-choix", r'''
*Réponse attendue (éléments) :* ne rater personne = limiter les faux négatifs, donc surveiller le **rappel** (de la classe « bas revenu ») ; on accepte une précision plus faible (quelques contacts inutiles). Choisir un réglage sur le test revient à l'utiliser pour l'apprentissage : son score devient optimiste et ne mesure plus la performance sur des données nouvelles ; on choisit par validation croisée sur l'apprentissage et on garde le test pour l'évaluation finale.
''', points=2),
        md(r'''
## Ce qu'il faut retenir

- **Surapprentissage** : excellent sur l'apprentissage, moins bon sur le test. On le limite en simplifiant le modèle (ici `max_depth`).
- Les réglages se choisissent par **validation croisée** sur l'apprentissage ; le test ne sert qu'à l'évaluation finale.
- La **matrice de confusion**, la **précision** et le **rappel** disent quelles erreurs fait le modèle ; le bon compromis dépend de l'usage.
'''),
    ])


if __name__ == "__main__":
    for folder, build in [("01-premiers-modeles", premiers_modeles), ("02-evaluer-et-ajuster", evaluer_et_ajuster)]:
        target = SOURCE / folder
        target.mkdir(parents=True, exist_ok=True)
        write(build(), target / f"{folder}.ipynb")
        print("wrote", target)
