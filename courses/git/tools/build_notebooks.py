# ruff: noqa: E501  (notebook text below is kept as learners read it)
"""Writes the git course's nbgrader source notebooks (run: python courses/git/tools/build_notebooks.py)."""

from pathlib import Path

from nbcells import code, free_text, md, notebook, write
from nbcells import exercise as _exercise

# Points per exercise, as announced in each exercise's heading.
POINTS = {
    "ex1-premier-commit": 2, "ex2-diff": 2, "ex3-compter": 1, "ex4-messages": 2, "ex5-gitignore": 2,
    "ex1-branche": 2, "ex2-lister": 1, "ex3-fast-forward": 1, "ex4-conflit": 3, "ex5-courante": 1,
}


def exercise(grade_id, solution, tests):
    return _exercise(grade_id, solution, tests, points=POINTS[grade_id])

SOURCE = Path(__file__).resolve().parents[1] / "source"

# Setup shared by both notebooks: a throw-away folder and two helpers around subprocess.run.
SETUP = r'''
import atexit
import os
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path

# Un dossier temporaire, rien que pour cet atelier : il sera supprimé à la fin (ou à l'arrêt du noyau).
DOSSIER = Path(tempfile.mkdtemp(prefix="atelier-git-"))
atexit.register(shutil.rmtree, DOSSIER, ignore_errors=True)
DEPOT = DOSSIER / "etudes"
DEPOT.mkdir()

# Pour que l'atelier se déroule pareil chez tout le monde, git ignore ici votre configuration
# personnelle (~/.gitconfig) et n'ouvre jamais d'éditeur de texte.
ENV_GIT = dict(os.environ, GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1",
               GIT_EDITOR="true", GIT_MERGE_AUTOEDIT="no", GIT_TERMINAL_PROMPT="0")


def git(*arguments, depot=DEPOT, verifier=True):
    """Lance `git <arguments>` dans le dépôt, affiche la commande et ce que git répond."""
    print("$ " + shlex.join(["git", *arguments]))
    resultat = subprocess.run(["git", "-C", str(depot), *arguments], capture_output=True, text=True, env=ENV_GIT)
    sortie = (resultat.stdout + resultat.stderr).rstrip()
    if sortie:
        print(sortie)
    if verifier and resultat.returncode != 0:
        raise RuntimeError(f"git {' '.join(arguments)} a échoué (code {resultat.returncode}) : lisez le message ci-dessus.")


def sortie_git(*arguments, depot=DEPOT):
    """Lance `git <arguments>` sans rien afficher et renvoie ce que git écrit (texte)."""
    resultat = subprocess.run(["git", "-C", str(depot), *arguments], capture_output=True, text=True, env=ENV_GIT)
    if resultat.returncode != 0:
        raise RuntimeError(f"git {' '.join(arguments)} a échoué : {resultat.stderr.strip()}")
    return resultat.stdout


def ecrire(nom, texte, depot=DEPOT):
    """Écrit (ou remplace) le fichier `nom` dans le dépôt, comme si vous l'aviez édité."""
    chemin = Path(depot) / nom
    chemin.parent.mkdir(parents=True, exist_ok=True)
    chemin.write_text(texte, encoding="utf-8")


def lire(nom, depot=DEPOT):
    return (Path(depot) / nom).read_text(encoding="utf-8")


def nouveau_depot(nom, commits):
    """Crée un autre petit dépôt dans le dossier temporaire ; `commits` = [(fichier, contenu, message), ...]."""
    depot = DOSSIER / nom
    depot.mkdir()
    sortie_git("init", "-b", "main", depot=depot)
    sortie_git("config", "user.name", "Contrôle", depot=depot)
    sortie_git("config", "user.email", "controle@example.org", depot=depot)
    for fichier, contenu, message in commits:
        ecrire(fichier, contenu, depot=depot)
        sortie_git("add", fichier, depot=depot)
        sortie_git("commit", "-m", message, depot=depot)
    return depot


print("Dossier de travail :", DEPOT)
'''

CLEANUP = r'''
shutil.rmtree(DOSSIER, ignore_errors=True)
print("Dossier temporaire supprimé :", not DOSSIER.exists())
'''

SCRIPT_V1 = '''def taux_de_chomage(chomeurs, actifs):
    """Part des chômeurs dans la population active, en %."""
    return 100 * chomeurs / (actifs + chomeurs)
'''
SCRIPT_V2 = '''def taux_de_chomage(chomeurs, actifs):
    """Part des chômeurs dans la population active, en %."""
    return 100 * chomeurs / actifs
'''


def premiers_commits():
    return notebook([
        md(r'''
# Git, premiers pas : suivre l'histoire de ses fichiers

Vous modifiez un programme SAS, R ou Python, une note méthodologique, un fichier de paramètres…
Trois semaines plus tard, qui a changé quoi, quand et pourquoi ? Les copies `programme_v2_final_OK.py`
ne répondent pas à ces questions. **Git** si : c'est un *gestionnaire de versions*. Il garde
chaque état enregistré de vos fichiers, avec un auteur, une date et un message qui explique le changement.

Dans ce notebook, vous allez :

1. créer un **dépôt** (le dossier suivi par git) ;
2. enregistrer des versions : `git add` puis `git commit` ;
3. relire l'histoire avec `git log` et les différences avec `git diff` ;
4. dire à git d'ignorer certains fichiers avec `.gitignore`.

On tape normalement ces commandes dans un terminal. Ici, pour tout faire dans le notebook, une petite
fonction `git(...)` lance la vraie commande `git` et affiche ce qu'elle répond : `git("status")` équivaut à
taper `git status` dans un terminal. Tout se passe dans un **dossier temporaire**, supprimé à la fin :
vous ne risquez rien.

Exécutez les cellules dans l'ordre (Maj + Entrée). En cas de fausse manœuvre (une commande lancée
deux fois, un commit de trop), le plus simple est de repartir de zéro : menu *Noyau* → *Redémarrer le
noyau et exécuter toutes les cellules* ; le dépôt est recréé à neuf et vos réponses sont rejouées. Les cellules « exercice » contiennent
`raise NotImplementedError()` : remplacez cette ligne par votre code, puis exécutez la cellule de test
qui suit pour vérifier votre réponse.
'''),
        code(SETUP),
        md(r'''
## 1. Créer un dépôt et se présenter

`git init` transforme un dossier ordinaire en dépôt : git y crée un sous-dossier caché `.git` où il
rangera toute l'histoire. L'option `-b main` nomme `main` la branche principale (on reparlera des
branches dans le notebook suivant).

Chaque version enregistrée porte le nom et l'adresse de son auteur. On les déclare avec `git config`.
Ici on les règle **pour ce dépôt seulement** (option `--local`, la valeur par défaut) ; sur votre poste, vous
le feriez une fois pour toutes avec `git config --global`.
'''),
        code(r'''
git("init", "-b", "main")
git("config", "--local", "user.name", "Camille Martin")
git("config", "--local", "user.email", "camille.martin@example.org")
git("config", "--local", "--list")
'''),
        md(r'''
## 2. Les trois étapes : modifier, indexer (`add`), enregistrer (`commit`)

Git distingue trois endroits :

| Endroit | Ce qu'il contient | Commande pour y passer |
|---|---|---|
| le **répertoire de travail** | vos fichiers tels que vous les éditez | (vous éditez) |
| l'**index** (*staging area*) | ce qui partira dans la prochaine version | `git add fichier` |
| l'**historique** | les versions enregistrées, les *commits* | `git commit -m "message"` |

`git status` dit à tout moment où en sont vos fichiers : *untracked* (inconnu de git), *modified*
(modifié depuis le dernier commit), *staged / to be committed* (dans l'index).

### Exemple guidé

On crée un `README.md`, on regarde le statut, on l'ajoute à l'index puis on l'enregistre.
'''),
        code(r'''
ecrire("README.md", "# Études sur l'emploi\n\nProgrammes de calcul des indicateurs.\n")
git("status", "--short")      # ?? = fichier inconnu de git
git("add", "README.md")
git("status", "--short")      # A  = ajouté à l'index
git("commit", "-m", "Ajoute un README")
git("log", "--oneline")
'''),
        md(r'''
Chaque commit a un identifiant (le *hash*, par exemple `3f2a9c1`), un auteur, une date et un message.
Un bon message dit **ce que fait** le changement, à l'infinitif ou au présent : « Ajoute le calcul
du taux de chômage », pas « modif ».

### Exercice 1 — votre premier commit (2 points)

Le fichier `calcul_taux.py` ci-dessous est écrit dans le dépôt par la fonction `ecrire`. À vous de :

1. l'ajouter à l'index avec `git("add", ...)` ;
2. l'enregistrer avec le message exact **`Ajoute le calcul du taux de chômage`**.

Vérifiez avec `git("log", "--oneline")`.
'''),
        *exercise("ex1-premier-commit", r'''
ecrire("calcul_taux.py", """def taux_de_chomage(chomeurs, actifs):
    \"\"\"Part des chômeurs dans la population active, en %.\"\"\"
    return 100 * chomeurs / (actifs + chomeurs)
""")
# À vous : indexez calcul_taux.py, puis commitez-le avec le message demandé.
### BEGIN SOLUTION
git("add", "calcul_taux.py")
git("commit", "-m", "Ajoute le calcul du taux de chômage")
### END SOLUTION
git("log", "--oneline")
''', r'''
suivis = sortie_git("ls-files").split()
assert "calcul_taux.py" in suivis, "calcul_taux.py n'est pas suivi par git. Indice : git(\"add\", \"calcul_taux.py\") puis git(\"commit\", ...)."
nb_commits = int(sortie_git("rev-list", "--count", "HEAD"))
assert nb_commits == 2, f"Le dépôt devrait avoir 2 commits (le README puis le vôtre), il en a {nb_commits}."
dernier_message = sortie_git("log", "-1", "--format=%s").strip()
assert dernier_message == "Ajoute le calcul du taux de chômage", f"Le message du dernier commit est {dernier_message!r} : recopiez exactement « Ajoute le calcul du taux de chômage »."
print("Bravo, c'est juste !")
### BEGIN HIDDEN TESTS
assert sortie_git("show", "HEAD:calcul_taux.py") == ''' + repr(SCRIPT_V1) + r''', "le contenu commité n'est pas celui attendu"
assert sortie_git("show", "--name-only", "--format=", "HEAD").split() == ["calcul_taux.py"], "le commit doit contenir calcul_taux.py seulement"
assert sortie_git("status", "--porcelain") == "", "le répertoire de travail devrait être propre après le commit"
### END HIDDEN TESTS
'''),
        md(r'''
## 3. Voir ce qui a changé : `git diff`

Avant d'enregistrer, on relit ses changements :

* `git diff` montre ce qui est modifié **mais pas encore indexé** ;
* `git diff --staged` montre ce qui est **dans l'index**, prêt à être commité ;
* `git diff HEAD~1 HEAD` compare l'avant-dernier commit (`HEAD~1`) au dernier (`HEAD`).

Dans la sortie, les lignes qui commencent par `-` sont retirées, celles qui commencent par `+` sont ajoutées.

### Exemple guidé
'''),
        code(r'''
ecrire("README.md", "# Études sur l'emploi\n\nProgrammes de calcul des indicateurs.\nContact : Camille Martin.\n")
git("diff")
git("add", "README.md")
git("diff")              # plus rien : le changement est passé dans l'index…
git("diff", "--staged")  # … et c'est là qu'on le voit
git("commit", "-m", "Ajoute un contact au README")
'''),
        md(r'''
### Exercice 2 — relire puis enregistrer une correction (2 points)

Le taux de chômage est mal calculé : le dénominateur ajoute deux fois les chômeurs (les actifs les
comprennent déjà). La cellule corrige le fichier. À vous de :

1. stocker dans la variable `difference` le texte renvoyé par `sortie_git("diff")` **avant** d'indexer ;
2. indexer et commiter la correction avec le message exact **`Corrige le dénominateur du taux`**.
'''),
        *exercise("ex2-diff", r'''
ecrire("calcul_taux.py", """def taux_de_chomage(chomeurs, actifs):
    \"\"\"Part des chômeurs dans la population active, en %.\"\"\"
    return 100 * chomeurs / actifs
""")
# À vous : 1) difference = sortie_git("diff")   2) indexez et commitez la correction.
### BEGIN SOLUTION
difference = sortie_git("diff")
git("add", "calcul_taux.py")
git("commit", "-m", "Corrige le dénominateur du taux")
### END SOLUTION
print(difference)
''', r'''
assert isinstance(difference, str), "difference doit être le texte renvoyé par sortie_git(\"diff\")."
assert "-    return 100 * chomeurs / (actifs + chomeurs)" in difference, "difference ne montre pas la ligne retirée. Indice : appelez sortie_git(\"diff\") AVANT git(\"add\", ...)."
assert "+    return 100 * chomeurs / actifs" in difference, "difference ne montre pas la ligne ajoutée."
dernier_message = sortie_git("log", "-1", "--format=%s").strip()
assert dernier_message == "Corrige le dénominateur du taux", f"Le dernier message est {dernier_message!r}, attendu « Corrige le dénominateur du taux »."
print("Bravo, c'est juste !")
### BEGIN HIDDEN TESTS
assert difference == sortie_git("diff", "HEAD~1", "HEAD", "--", "calcul_taux.py"), "difference doit être exactement le diff de la correction"
assert sortie_git("show", "HEAD:calcul_taux.py") == ''' + repr(SCRIPT_V2) + r'''
assert int(sortie_git("rev-list", "--count", "HEAD")) == 4
assert sortie_git("status", "--porcelain") == ""
### END HIDDEN TESTS
'''),
        md(r'''
## 4. Relire l'histoire : `git log`

`git log` liste les commits du plus récent au plus ancien. Quelques options utiles :

* `--oneline` : une ligne par commit ;
* `--reverse` : du plus ancien au plus récent ;
* `--format=%s` : seulement le message (`%h` le hash court, `%an` l'auteur, `%ad` la date) ;
* `-- fichier` : seulement les commits qui touchent ce fichier.

`git rev-list --count HEAD` compte les commits. Combinées avec `sortie_git`, ces commandes donnent du
texte que Python sait découper (`.splitlines()`, `.strip()`, `int(...)`).
'''),
        code(r'''
git("log", "--format=%h | %an | %s")
git("log", "--oneline", "--", "calcul_taux.py")
texte = sortie_git("log", "--format=%s")
print(texte.splitlines())
'''),
        md(r'''
### Exercice 3 — compter les commits (1 point)

Écrivez la fonction `nombre_de_commits(depot)` qui renvoie **un entier** : le nombre de commits de la
branche courante du dépôt `depot`. Indice : `sortie_git("rev-list", "--count", "HEAD", depot=depot)`
renvoie un texte comme `"4\n"`.
'''),
        *exercise("ex3-compter", r'''
def nombre_de_commits(depot):
    ### BEGIN SOLUTION
    return int(sortie_git("rev-list", "--count", "HEAD", depot=depot))
    ### END SOLUTION
''', r'''
n = nombre_de_commits(DEPOT)
assert isinstance(n, int), f"La fonction doit renvoyer un entier (int), pas {type(n).__name__}. Indice : int(texte)."
assert n == 4, f"Le dépôt de l'atelier a 4 commits, votre fonction renvoie {n}."
print("Bravo, c'est juste !")
### BEGIN HIDDEN TESTS
autre = nouveau_depot("controle-compte", [("a.txt", "a\n", "un"), ("b.txt", "b\n", "deux"), ("a.txt", "aa\n", "trois"),
                                          ("c.txt", "c\n", "quatre"), ("b.txt", "bb\n", "cinq"), ("d.txt", "d\n", "six")])
assert nombre_de_commits(autre) == 6
seul = nouveau_depot("controle-seul", [("x.txt", "x\n", "unique")])
assert nombre_de_commits(seul) == 1
### END HIDDEN TESTS
'''),
        md(r'''
### Exercice 4 — les messages, dans l'ordre (2 points)

Écrivez `messages_de_commit(depot)` qui renvoie la **liste** des messages de commit du dépôt, du plus
**ancien** au plus **récent**. Indices : `--reverse`, `--format=%s`, puis `.splitlines()`.
'''),
        *exercise("ex4-messages", r'''
def messages_de_commit(depot):
    ### BEGIN SOLUTION
    return sortie_git("log", "--reverse", "--format=%s", depot=depot).splitlines()
    ### END SOLUTION
''', r'''
messages = messages_de_commit(DEPOT)
assert isinstance(messages, list), "La fonction doit renvoyer une liste. Indice : .splitlines() découpe un texte en liste de lignes."
assert messages[0] == "Ajoute un README", f"Le premier élément devrait être le plus ancien commit (« Ajoute un README »), pas {messages[0]!r}. Indice : --reverse."
assert messages[-1] == "Corrige le dénominateur du taux", "Le dernier élément devrait être le commit le plus récent."
assert len(messages) == 4, f"Il y a 4 commits, la liste a {len(messages)} éléments (pas de ligne vide ?)."
print("Bravo, c'est juste !")
### BEGIN HIDDEN TESTS
autre = nouveau_depot("controle-messages", [("a.txt", "1\n", "Premier jet"), ("a.txt", "2\n", "Deuxième version, avec virgule"),
                                            ("b.txt", "3\n", "Troisième : fin")])
assert messages_de_commit(autre) == ["Premier jet", "Deuxième version, avec virgule", "Troisième : fin"]
### END HIDDEN TESTS
'''),
        md(r'''
## 5. Ce que git doit ignorer : `.gitignore`

On ne versionne pas tout :

* les **données** (souvent volumineuses, parfois confidentielles : elles ont leur propre stockage) ;
* les **sorties** que le code sait régénérer (graphiques, tableaux exportés) ;
* les **secrets** (mots de passe, jetons d'accès) : une fois commités, ils restent dans l'historique.

Le fichier `.gitignore`, à la racine du dépôt, liste des motifs, un par ligne : `*.csv` (tous les
fichiers qui finissent par `.csv`), `sorties/` (tout un dossier), `.env` (un fichier précis). Git ne
propose plus ces fichiers dans `git status`, et `git check-ignore -v chemin` dit quelle règle s'applique.
Le `.gitignore` lui-même se commite : toute l'équipe profite des mêmes règles.

La cellule suivante crée une extraction de données et un graphique, que l'on ne veut pas versionner.
'''),
        code(r'''
ecrire("donnees/extraction.csv", "departement;chomeurs;actifs\n01;12000;310000\n")
ecrire("sorties/graphique.png", "(image)")
git("status", "--short", "--untracked-files=all")
'''),
        md(r'''
### Exercice 5 — un `.gitignore` pour les données et les sorties (2 points)

1. Écrivez un fichier `.gitignore` (avec `ecrire`) qui fait ignorer **tous les fichiers `.csv`** et **le
   dossier `sorties/`**, et rien d'autre de ce qui existe dans le dépôt ;
2. commitez-le (lui seul) avec le message exact **`Ajoute un .gitignore`**.

Après cela, `git("status", "--short")` ne doit plus rien afficher.
'''),
        *exercise("ex5-gitignore", r'''
# À vous : écrivez le .gitignore, indexez-le, puis commitez-le.
### BEGIN SOLUTION
ecrire(".gitignore", "# Données et sorties régénérables\n*.csv\nsorties/\n")
git("add", ".gitignore")
git("commit", "-m", "Ajoute un .gitignore")
### END SOLUTION
git("status", "--short")
''', r'''
assert (DEPOT / ".gitignore").exists(), "Le fichier .gitignore n'existe pas. Indice : ecrire(\".gitignore\", \"*.csv\\nsorties/\\n\")."
assert ".gitignore" in sortie_git("ls-files").split(), "Le .gitignore n'est pas commité. Indice : git(\"add\", \".gitignore\") puis git(\"commit\", ...)."
for chemin in ["donnees/extraction.csv", "sorties/graphique.png"]:
    ignore = subprocess.run(["git", "-C", str(DEPOT), "check-ignore", "-q", chemin], env=ENV_GIT).returncode == 0
    assert ignore, f"{chemin} n'est pas ignoré par git : vérifiez les motifs de votre .gitignore."
assert sortie_git("status", "--porcelain") == "", "git status devrait être vide : reste-t-il un fichier non commité ou non ignoré ?"
assert sortie_git("log", "-1", "--format=%s").strip() == "Ajoute un .gitignore", "Le dernier message devrait être « Ajoute un .gitignore »."
print("Bravo, c'est juste !")
### BEGIN HIDDEN TESTS
def _ignore(chemin):
    return subprocess.run(["git", "-C", str(DEPOT), "check-ignore", "-q", chemin], env=ENV_GIT).returncode == 0
assert _ignore("autre_dossier/table.csv"), "tous les .csv doivent être ignorés, où qu'ils soient"
assert _ignore("sorties/tableau.xlsx"), "tout le dossier sorties/ doit être ignoré"
assert not _ignore("calcul_taux.py") and not _ignore("README.md") and not _ignore("programme.py")
assert sortie_git("show", "--name-only", "--format=", "HEAD").split() == [".gitignore"]
assert not any(f.endswith(".csv") or f.startswith("sorties/") for f in sortie_git("ls-files").split())
### END HIDDEN TESTS
'''),
        md(r'''
## 6. À vous d'expliquer

### Question (2 points, corrigée par un formateur)

Un collègue vous dit : « Pourquoi deux commandes, `git add` puis `git commit` ? Et pourquoi ne pas
simplement commiter aussi le fichier de données et le fichier `.env` qui contient mon mot de passe ? »
Répondez-lui en quelques phrases, avec vos mots.
'''),
        free_text("q-add-commit-ignore", r'''
`git add` choisit ce qui entre dans la prochaine version (l'index) ; `git commit` enregistre cette version
dans l'historique avec un message. Séparer les deux permet de faire des commits qui ont un sens (un
changement logique à la fois), même si on a modifié plusieurs fichiers, et de relire (`git diff --staged`)
avant d'enregistrer.
On ne commite pas les données : elles sont volumineuses, parfois confidentielles, ont leur propre stockage
et le code sait les relire. Un mot de passe commité reste dans l'historique même si on le supprime
ensuite, et il part avec le dépôt partout où il est copié : on le met dans un fichier ignoré (`.env` dans
`.gitignore`) ou dans une variable d'environnement.
'''),
        md(r'''
## Pour finir

Vous savez créer un dépôt, enregistrer des versions, relire l'histoire et les différences, et choisir ce
que git ignore. Dans le notebook suivant : les **branches** et les **fusions**.

La cellule ci-dessous supprime le dossier temporaire.
'''),
        code(CLEANUP),
    ])


INDICATEURS_V1 = '''"""Indicateurs du marché du travail."""

ANNEE = 2023


def taux(numerateur, denominateur):
    return 100 * numerateur / denominateur


SEUIL = 0.05


def publier(valeur):
    print(f"Indicateur : {valeur}")
'''
INDICATEURS_ARRONDI = INDICATEURS_V1.replace("return 100 * numerateur / denominateur", "return round(100 * numerateur / denominateur, 1)")


def branches_et_fusions():
    return notebook([
        md(r'''
# Git : branches et fusions

Une **branche** est une ligne de travail parallèle. On en crée une pour essayer une correction ou une
nouvelle fonctionnalité sans déranger la version qui marche (`main`) ; quand c'est prêt, on **fusionne**
(*merge*) la branche dans `main`. Les équipes travaillent ainsi à plusieurs sur le même code.

Au programme :

1. créer une branche, passer de l'une à l'autre (`git branch`, `git switch`) ;
2. fusionner : la fusion « en avance rapide » puis le commit de fusion ;
3. résoudre un **conflit** de fusion.

Comme dans le notebook précédent, `git("...")` lance la vraie commande git dans un dépôt jetable, créé dans
un dossier temporaire. La cellule suivante prépare ce dépôt avec deux commits.

Les exercices s'enchaînent sur le même dépôt : faites-les dans l'ordre. En cas de fausse manœuvre (une
branche créée deux fois, un commit de trop), repartez de zéro : menu *Noyau* → *Redémarrer le noyau et
exécuter toutes les cellules* ; le dépôt est recréé à neuf et vos réponses sont rejouées.
'''),
        code(SETUP + r'''

git("init", "-b", "main")
git("config", "user.name", "Camille Martin")
git("config", "user.email", "camille.martin@example.org")
ecrire("README.md", "# Indicateurs\n\nCalcul des indicateurs du marché du travail.\n")
git("add", "README.md")
git("commit", "-m", "Ajoute un README")
ecrire("indicateurs.py", ''' + repr(INDICATEURS_V1) + r''')
git("add", "indicateurs.py")
git("commit", "-m", "Ajoute les fonctions d'indicateurs")
git("log", "--oneline")
'''),
        md(r'''
## 1. Créer des branches et passer de l'une à l'autre

Une branche n'est qu'une **étiquette posée sur un commit**. `HEAD` désigne la branche sur laquelle vous
êtes : vos prochains commits la feront avancer.

* `git branch` liste les branches (l'étoile marque la branche courante) ;
* `git switch -c nom` crée la branche `nom` et s'y place ; `git switch nom` va sur une branche existante ;
* `git branch -d nom` supprime une branche déjà fusionnée.

(Vous verrez aussi `git checkout -b nom` dans de vieux tutoriels : c'est l'ancienne façon d'écrire
`git switch -c nom`.)

### Exemple guidé
'''),
        code(r'''
git("switch", "-c", "essai")
git("branch")
ecrire("brouillon.txt", "une idée à creuser\n")
git("add", "brouillon.txt")
git("commit", "-m", "Essaie une idée")
git("log", "--oneline", "--all", "--graph")
git("switch", "main")
print("brouillon.txt existe sur main ?", (DEPOT / "brouillon.txt").exists())
git("branch", "-D", "essai")   # -D : supprimer même si la branche n'a pas été fusionnée
git("branch")
'''),
        md(r'''
En revenant sur `main`, `brouillon.txt` a disparu du dossier : git remet les fichiers dans l'état de la
branche où l'on se place. Rien n'est perdu tant que la branche existe.

### Exercice 1 — une branche pour corriger l'arrondi (2 points)

1. Créez la branche **`correction-arrondi`** à partir de `main` et placez-vous dessus ;
2. la cellule écrit la nouvelle version de `indicateurs.py` (les taux sont arrondis à une décimale) ;
3. indexez et commitez ce changement avec le message **`Arrondit les taux à une décimale`**.

Restez sur la branche `correction-arrondi` à la fin de la cellule.
'''),
        *exercise("ex1-branche", r'''
# 1. À vous : créez la branche correction-arrondi et placez-vous dessus.
### BEGIN SOLUTION
git("switch", "-c", "correction-arrondi")
### END SOLUTION
# 2. La nouvelle version du fichier (écrite pour vous) :
ecrire("indicateurs.py", lire("indicateurs.py").replace(
    "return 100 * numerateur / denominateur", "return round(100 * numerateur / denominateur, 1)"))
# 3. À vous : indexez et commitez le changement.
### BEGIN SOLUTION
git("add", "indicateurs.py")
git("commit", "-m", "Arrondit les taux à une décimale")
### END SOLUTION
git("log", "--oneline", "--all", "--graph")
''', r'''
noms = sortie_git("branch", "--format=%(refname:short)").split()
assert "correction-arrondi" in noms, f"La branche correction-arrondi n'existe pas (branches : {noms}). Indice : git(\"switch\", \"-c\", \"correction-arrondi\")."
courante = sortie_git("branch", "--show-current").strip()
assert courante == "correction-arrondi", f"Vous êtes sur {courante!r} : restez sur correction-arrondi."
assert int(sortie_git("rev-list", "--count", "correction-arrondi")) == 3, "correction-arrondi devrait avoir 3 commits (les 2 de main + le vôtre)."
assert int(sortie_git("rev-list", "--count", "main")) == 2, "main ne doit pas bouger : avez-vous commité sur main par erreur ?"
assert sortie_git("log", "-1", "--format=%s", "correction-arrondi").strip() == "Arrondit les taux à une décimale", "Le message attendu est « Arrondit les taux à une décimale »."
print("Bravo, c'est juste !")
### BEGIN HIDDEN TESTS
assert sortie_git("show", "correction-arrondi:indicateurs.py") == ''' + repr(INDICATEURS_ARRONDI) + r'''
assert sortie_git("show", "main:indicateurs.py") == ''' + repr(INDICATEURS_V1) + r'''
assert sortie_git("rev-parse", "correction-arrondi~1") == sortie_git("rev-parse", "main")
assert sortie_git("status", "--porcelain") == ""
### END HIDDEN TESTS
'''),
        md(r'''
### Exercice 2 — lister les branches (1 point)

Écrivez `branches(depot)` qui renvoie la **liste triée** des noms des branches locales du dépôt.
Indice : `git branch --format=%(refname:short)` écrit un nom par ligne, sans étoile.
'''),
        *exercise("ex2-lister", r'''
def branches(depot):
    ### BEGIN SOLUTION
    return sorted(sortie_git("branch", "--format=%(refname:short)", depot=depot).split())
    ### END SOLUTION
''', r'''
resultat = branches(DEPOT)
assert isinstance(resultat, list), "La fonction doit renvoyer une liste."
assert not any("*" in nom or " " in nom for nom in resultat), "Les noms ne doivent contenir ni étoile ni espace : utilisez --format=%(refname:short)."
assert resultat == ["correction-arrondi", "main"], f"Attendu ['correction-arrondi', 'main'], obtenu {resultat}."
print("Bravo, c'est juste !")
### BEGIN HIDDEN TESTS
autre = nouveau_depot("controle-branches", [("a.txt", "a\n", "départ")])
for nom in ["zeta", "alpha", "essai-2"]:
    sortie_git("branch", nom, depot=autre)
assert branches(autre) == ["alpha", "essai-2", "main", "zeta"]
### END HIDDEN TESTS
'''),
        md(r'''
## 2. Fusionner une branche

On se place sur la branche qui **reçoit** (souvent `main`) et on lance `git merge autre-branche`.

* Si `main` n'a pas bougé depuis la création de la branche, git avance simplement l'étiquette `main`
  jusqu'au dernier commit de la branche : c'est une fusion **en avance rapide** (*fast-forward*), sans
  nouveau commit.
* Si les deux branches ont chacune de nouveaux commits, git crée un **commit de fusion**, qui a deux
  parents, et combine les changements des deux côtés.

### Exercice 3 — fusion en avance rapide (1 point)

Revenez sur `main` et fusionnez-y `correction-arrondi`. Vérifiez ensuite avec
`git("log", "--oneline", "--graph", "--all")`.
'''),
        *exercise("ex3-fast-forward", r'''
# À vous : revenez sur main, puis fusionnez-y correction-arrondi.
### BEGIN SOLUTION
git("switch", "main")
git("merge", "correction-arrondi")
### END SOLUTION
git("log", "--oneline", "--graph", "--all")
''', r'''
courante = sortie_git("branch", "--show-current").strip()
assert courante == "main", f"Vous êtes sur {courante!r} : placez-vous sur main avant de fusionner (git(\"switch\", \"main\"))."
assert sortie_git("rev-parse", "main") == sortie_git("rev-parse", "correction-arrondi"), "main ne pointe pas sur le dernier commit de correction-arrondi. Indice : git(\"merge\", \"correction-arrondi\")."
print("Bravo, c'est juste !")
### BEGIN HIDDEN TESTS
assert int(sortie_git("rev-list", "--count", "main")) == 3
assert len(sortie_git("rev-list", "--parents", "-n", "1", "main").split()) == 2, "fusion en avance rapide : pas de commit de fusion"
assert "round(" in lire("indicateurs.py")
### END HIDDEN TESTS
'''),
        md(r'''
### Exemple guidé — un commit de fusion

Cette fois, les deux branches avancent : sur `documentation` on ajoute une note de méthode, pendant que
sur `main` on complète le README. La fusion crée un commit à deux parents ; l'option `-m` donne son
message (sinon git ouvrirait un éditeur).
'''),
        code(r'''
git("switch", "-c", "documentation")
ecrire("METHODO.md", "# Méthode\n\nLes taux sont exprimés en % et arrondis à une décimale.\n")
git("add", "METHODO.md")
git("commit", "-m", "Ajoute la note de méthode")
git("switch", "main")
ecrire("README.md", lire("README.md") + "Source : enquête fictive, 2023.\n")
git("add", "README.md")
git("commit", "-m", "Précise la source dans le README")
git("merge", "documentation", "-m", "Fusionne la documentation")
git("log", "--oneline", "--graph", "--all")
'''),
        md(r'''
## 3. Les conflits de fusion

Quand les deux branches ont modifié **les mêmes lignes** d'un fichier, git ne peut pas choisir à votre
place : la fusion s'arrête sur un **conflit**. Git écrit alors les deux versions dans le fichier, entre
des marqueurs :

```
<<<<<<< HEAD
SEUIL = 0.01
=======
SEUIL = 0.10
>>>>>>> seuil-eleve
```

Au-dessus de `=======`, la version de la branche où vous êtes (`HEAD`) ; en dessous, celle de la
branche que vous fusionnez. Pour résoudre :

1. éditer le fichier pour garder la bonne version (ou un mélange des deux), **en supprimant les trois
   lignes de marqueurs** ;
2. `git add fichier` pour dire à git que le conflit est résolu ;
3. `git commit` (ici `git commit -m "..."`) pour terminer la fusion.

Si vous êtes perdu, `git merge --abort` annule la fusion et remet tout comme avant.

La cellule suivante prépare un conflit : sur la branche `seuil-eleve`, une collègue passe le seuil à
0.10 et ajoute une fonction ; sur `main`, vous passez le seuil à 0.01 et changez l'année. Puis on fusionne.
'''),
        code(r'''
git("switch", "main")
git("switch", "-c", "seuil-eleve")
ecrire("indicateurs.py", lire("indicateurs.py").replace("SEUIL = 0.05", "SEUIL = 0.10")
       + "\n\ndef depasse_le_seuil(valeur):\n    return valeur > SEUIL\n")
git("commit", "-am", "Relève le seuil et ajoute depasse_le_seuil")
git("switch", "main")
ecrire("indicateurs.py", lire("indicateurs.py").replace("SEUIL = 0.05", "SEUIL = 0.01").replace("ANNEE = 2023", "ANNEE = 2024"))
git("commit", "-am", "Abaisse le seuil et passe à 2024")
git("merge", "seuil-eleve", verifier=False)   # s'arrête sur un conflit : c'est voulu
git("status", "--short")                      # UU = modifié des deux côtés, non fusionné
print(lire("indicateurs.py"))
'''),
        md(r'''
Remarquez : l'année (`ANNEE = 2024`, changée seulement sur `main`) et la nouvelle fonction
`depasse_le_seuil` (ajoutée seulement sur `seuil-eleve`) ont été fusionnées sans conflit. Seule la ligne
`SEUIL`, modifiée des deux côtés, est en conflit.

### Exercice 4 — résoudre le conflit (3 points)

Après discussion, l'équipe retient le seuil de la collègue : **`SEUIL = 0.10`**. Résolvez le conflit :

1. écrivez le contenu résolu de `indicateurs.py` (par exemple avec `lire`, puis du traitement de texte
   Python, puis `ecrire`) : la ligne `SEUIL = 0.10`, plus aucun marqueur `<<<<<<<`, `=======`, `>>>>>>>`,
   et tout le reste du fichier conservé (`ANNEE = 2024`, la fonction `depasse_le_seuil`…) ;
2. `git add` le fichier ;
3. terminez la fusion par un commit de message **`Fusionne seuil-eleve en gardant 0.10`**.
'''),
        *exercise("ex4-conflit", r'''
# À vous : écrivez le contenu résolu (lire, corriger, ecrire), puis git add, puis git commit.
### BEGIN SOLUTION
lignes_gardees = []
cote = None
for ligne in lire("indicateurs.py").splitlines(keepends=True):
    if ligne.startswith("<<<<<<<"):
        cote = "nous"
    elif ligne.startswith("=======") and cote == "nous":
        cote = "eux"
    elif ligne.startswith(">>>>>>>"):
        cote = None
    elif cote != "nous":  # hors conflit, ou côté seuil-eleve : on garde
        lignes_gardees.append(ligne)
ecrire("indicateurs.py", "".join(lignes_gardees))
git("add", "indicateurs.py")
git("commit", "-m", "Fusionne seuil-eleve en gardant 0.10")
### END SOLUTION
print(lire("indicateurs.py"))
git("log", "--oneline", "--graph", "--all")
''', r'''
contenu = lire("indicateurs.py")
for marqueur in ["<<<<<<<", "=======", ">>>>>>>"]:
    assert marqueur not in contenu, f"Il reste un marqueur {marqueur} dans indicateurs.py : supprimez les lignes de marqueurs."
assert "SEUIL = 0.10" in contenu.splitlines(), "La ligne SEUIL = 0.10 doit être dans le fichier."
assert "SEUIL = 0.01" not in contenu, "Il reste la ligne SEUIL = 0.01 : l'équipe a choisi 0.10."
non_fusionnes = sortie_git("diff", "--name-only", "--diff-filter=U")
assert non_fusionnes == "", f"Fichiers encore en conflit : {non_fusionnes.split()}. Indice : git(\"add\", \"indicateurs.py\")."
parents = sortie_git("rev-list", "--parents", "-n", "1", "HEAD").split()[1:]
assert len(parents) == 2, "Le dernier commit devrait être un commit de fusion (deux parents). Indice : git(\"commit\", \"-m\", ...) après git add."
assert sortie_git("log", "-1", "--format=%s").strip() == "Fusionne seuil-eleve en gardant 0.10", "Le message attendu est « Fusionne seuil-eleve en gardant 0.10 »."
print("Bravo, c'est juste !")
### BEGIN HIDDEN TESTS
lignes = contenu.splitlines()
assert "ANNEE = 2024" in lignes, "le changement d'année fait sur main doit être conservé"
assert "def depasse_le_seuil(valeur):" in lignes, "la fonction ajoutée sur seuil-eleve doit être conservée"
assert "    return round(100 * numerateur / denominateur, 1)" in lignes
assert lignes.count("SEUIL = 0.10") == 1
assert sortie_git("rev-parse", "seuil-eleve").strip() in parents
assert sortie_git("show", "HEAD:indicateurs.py") == contenu, "le fichier résolu doit être celui commité"
assert sortie_git("status", "--porcelain") == ""
compile(contenu, "indicateurs.py", "exec")
### END HIDDEN TESTS
'''),
        md(r'''
### Exercice 5 — la branche courante (1 point)

Écrivez `branche_courante(depot)` qui renvoie le nom (texte, sans retour à la ligne) de la branche sur
laquelle se trouve le dépôt. Indice : `git branch --show-current`, puis `.strip()`.
'''),
        *exercise("ex5-courante", r'''
def branche_courante(depot):
    ### BEGIN SOLUTION
    return sortie_git("branch", "--show-current", depot=depot).strip()
    ### END SOLUTION
''', r'''
nom = branche_courante(DEPOT)
assert isinstance(nom, str), "La fonction doit renvoyer un texte (str)."
assert nom == "main", f"Le dépôt de l'atelier est sur main, votre fonction renvoie {nom!r} (pensez à .strip())."
print("Bravo, c'est juste !")
### BEGIN HIDDEN TESTS
autre = nouveau_depot("controle-courante", [("a.txt", "a\n", "départ")])
sortie_git("switch", "-c", "travail-en-cours", depot=autre)
assert branche_courante(autre) == "travail-en-cours"
### END HIDDEN TESTS
'''),
        md(r'''
## 4. À vous d'expliquer

### Question (2 points, corrigée par un formateur)

Expliquez avec vos mots ce qu'est un conflit de fusion et pourquoi git ne le résout pas tout seul.
Donnez ensuite deux habitudes d'équipe qui rendent les conflits plus rares ou plus faciles à résoudre.
'''),
        free_text("q-conflits", r'''
Un conflit survient quand deux branches ont modifié les mêmes lignes d'un même fichier (ou l'une a
modifié un fichier que l'autre a supprimé). Git sait combiner des changements à des endroits différents,
mais pour les mêmes lignes il faudrait savoir quelle version est la bonne : c'est une décision métier
(ici le seuil 0.10 ou 0.01), que seule l'équipe peut prendre. Git arrête donc la fusion et montre les deux
versions entre marqueurs.
Habitudes : des branches courtes, fusionnées souvent ; récupérer régulièrement main dans sa branche ;
des commits petits et ciblés ; se répartir le travail par fichiers ou fonctions ; en parler avant de
modifier une même partie ; relire les demandes de fusion.
'''),
        md(r'''
## Pour finir

Vous savez créer des branches, fusionner en avance rapide ou par un commit de fusion, et résoudre un
conflit. Sur une vraie forge (GitLab, GitHub), on ajoute `git clone`, `git pull` et `git push` pour
partager le dépôt, et les fusions passent par des *merge requests* relues par l'équipe.

La cellule ci-dessous supprime le dossier temporaire.
'''),
        code(CLEANUP),
    ])


if __name__ == "__main__":
    for folder, build in [("01-premiers-commits", premiers_commits), ("02-branches-et-fusions", branches_et_fusions)]:
        target = SOURCE / folder
        target.mkdir(parents=True, exist_ok=True)
        write(build(), target / f"{folder}.ipynb")
        print("wrote", target)
