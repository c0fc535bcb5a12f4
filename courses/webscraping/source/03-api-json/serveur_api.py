"""Un petit serveur d'API, à la manière des API de l'INSEE, pour s'entraîner sans internet.

Les données (dossier data/) sont inventées. Le serveur tourne dans le notebook, à l'adresse 127.0.0.1 :

    api = ServeurAPI(jeton="...")     # démarre le serveur ; api.base est son adresse
    api.journal                       # une entrée (dictionnaire) par requête reçue
    api.arreter()                     # arrête le serveur

Adresses servies (toutes demandent l'en-tête « Authorization: Bearer <jeton> », sinon 401) :

    /api/departements                             la liste des départements (JSON)
    /api/communes?departement=29                  les communes d'un département, page par page (JSON) ;
                                                  la clé "next" donne l'adresse de la page suivante
    /api/export/population.csv                    les populations légales (CSV séparé par des « ; »)

Options, pour imiter les difficultés d'un vrai service :

    taille_page   nombre de communes par page ;
    limite        au plus `limite` requêtes servies par fenêtre de `fenetre` secondes ; au-delà, le
                  serveur répond 429 avec un en-tête Retry-After (en secondes, éventuellement décimales) ;
    pannes        une requête sur `pannes` reçoit une réponse 503 (0 : jamais) ;
    hors_service  toutes les requêtes reçoivent 503 ;
    sature        toutes les requêtes reçoivent 429 (Retry-After: 0.05) ;
    chevauchement chaque page (sauf la première) recommence par la dernière commune de la page précédente,
                  comme le font des API dont les données bougent pendant qu'on les lit ;
    export_departements  si donné (liste de codes), l'export CSV ne contient que ces départements.
"""

from __future__ import annotations

import csv
import hashlib
import http.server
import json
import math
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

DOSSIER_DONNEES = Path(__file__).resolve().parent / "data"


def _lire(nom: str, sep: str = ",") -> list[dict]:
    with (DOSSIER_DONNEES / nom).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter=sep))


class ServeurAPI:
    def __init__(self, jeton: str = "jeton-formation", taille_page: int = 5, limite: int | None = None,
                 fenetre: float = 0.3, pannes: int = 0, hors_service: bool = False, sature: bool = False,
                 chevauchement: bool = False, export_departements: list | None = None):
        self.jeton, self.taille_page = jeton, taille_page
        self.limite, self.fenetre, self.pannes = limite, fenetre, pannes
        self.hors_service, self.sature, self.chevauchement = hors_service, sature, chevauchement
        self.journal: list[dict] = []
        self._verrou = threading.Lock()
        self._servies: list[float] = []  # instants des requêtes servies (pour la limite de débit)
        self._recues = 0
        self._curseurs: dict[str, tuple[str, int]] = {}
        self._communes = _lire("communes.csv")
        self._departements = _lire("departements.csv")
        self._export = (DOSSIER_DONNEES / "population_legale.csv").read_text(encoding="utf-8")
        if export_departements is not None:
            entete, *lignes = self._export.splitlines(keepends=True)
            gardes = [str(d) for d in export_departements]
            self._export = entete + "".join(ligne for ligne in lignes if ligne[:2] in gardes)
        serveur_api = self

        class Gestionnaire(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                serveur_api._repondre(self)

            def log_message(self, format, *args):
                pass  # pas de journal bavard dans le notebook

        self._serveur = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Gestionnaire)
        self._serveur.daemon_threads = True
        self.base = f"http://127.0.0.1:{self._serveur.server_port}"
        threading.Thread(target=self._serveur.serve_forever, daemon=True).start()

    # --- utilisation ------------------------------------------------------------------------------
    def arreter(self) -> None:
        self._serveur.shutdown()
        self._serveur.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.arreter()

    def __repr__(self):
        return f"ServeurAPI({self.base}, {len(self.journal)} requêtes reçues)"

    # --- le service -------------------------------------------------------------------------------
    def _curseur(self, departement: str, debut: int) -> str:
        jeton = hashlib.sha1(f"{self.base}|{departement}|{debut}".encode()).hexdigest()[:10]
        self._curseurs[jeton] = (departement, debut)
        return jeton

    def _decider(self, chemin: str, params: dict, autorisation: str):
        """(statut, en-têtes, corps, type) de la réponse ; appelé sous le verrou."""
        maintenant = time.perf_counter()
        if autorisation != f"Bearer {self.jeton}":
            return 401, {"WWW-Authenticate": "Bearer"}, {"erreur": "jeton d'accès absent ou invalide"}, "json"
        self._recues += 1
        if self.hors_service or (self.pannes and self._recues % self.pannes == 0):
            return 503, {}, {"erreur": "service momentanément indisponible, réessayez plus tard"}, "json"
        if self.sature:
            return 429, {"Retry-After": "0.05"}, {"erreur": "trop de requêtes"}, "json"
        if self.limite is not None:
            self._servies = [t for t in self._servies if maintenant - t < self.fenetre]
            if len(self._servies) >= self.limite:
                attente = self.fenetre - (maintenant - self._servies[0])
                attente = math.ceil(attente * 100) / 100 + 0.01
                return 429, {"Retry-After": f"{attente:.2f}"}, {"erreur": "trop de requêtes"}, "json"
        statut, corps, genre = self._router(chemin, params)
        if statut == 200:
            self._servies.append(maintenant)
        return statut, {}, corps, genre

    def _router(self, chemin: str, params: dict):
        if chemin == "/api/departements":
            # Comme certaines vraies API, celle-ci écrit en nombres les codes qui ressemblent à des nombres.
            return 200, [{"code": int(d["code"]) if d["code"].isdigit() else d["code"], "nom": d["nom"],
                          "region": d["region"]} for d in self._departements], "json"
        if chemin == "/api/export/population.csv":
            return 200, self._export, "csv"
        if chemin != "/api/communes":
            return 404, {"erreur": f"adresse inconnue : {chemin}"}, "json"
        if "curseur" in params:
            if params["curseur"] not in self._curseurs:
                return 400, {"erreur": "curseur inconnu"}, "json"
            departement, debut = self._curseurs[params["curseur"]]
        elif "departement" in params:
            departement, debut = params["departement"], 0
        else:
            return 400, {"erreur": "paramètre departement manquant"}, "json"
        lignes = [c for c in self._communes if c["departement"] == departement]
        if not lignes:
            return 404, {"erreur": f"département inconnu : {departement}"}, "json"
        fin = debut + self.taille_page
        page = [{"code": c["code_commune"], "nom": c["nom"], "departement": c["departement"],
                 "superficie_km2": float(c["superficie_km2"]), "date_maj": c["date_maj"]} for c in lignes[debut:fin]]
        suivant = None
        if fin < len(lignes):
            reprise = fin - 1 if self.chevauchement else fin
            suivant = f"{self.base}/api/communes?" + urlencode({"curseur": self._curseur(departement, reprise)})
        return 200, {"departement": departement, "nombre_total": len(lignes), "communes": page, "next": suivant}, "json"

    def _repondre(self, requete: http.server.BaseHTTPRequestHandler) -> None:
        url = urlparse(requete.path)
        params = {cle: valeurs[-1] for cle, valeurs in parse_qs(url.query).items()}
        autorisation = requete.headers.get("Authorization", "")
        with self._verrou:
            statut, entetes, corps, genre = self._decider(url.path, params, autorisation)
            self.journal.append({"chemin": url.path, "params": params, "autorisation": autorisation,
                                 "agent": requete.headers.get("User-Agent", ""), "statut": statut,
                                 "instant": time.perf_counter(), "retry_after": entetes.get("Retry-After")})
        if genre == "csv":
            donnees, type_contenu = corps.encode("utf-8"), "text/csv; charset=utf-8"
        else:
            donnees, type_contenu = json.dumps(corps, ensure_ascii=False).encode("utf-8"), "application/json"
        requete.send_response(statut)
        requete.send_header("Content-Type", type_contenu)
        requete.send_header("Content-Length", str(len(donnees)))
        for cle, valeur in entetes.items():
            requete.send_header(cle, valeur)
        requete.end_headers()
        requete.wfile.write(donnees)

