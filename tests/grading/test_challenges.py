"""A Funathon challenge end to end: two teams of two, a participant in no team, the real platform.

Members submit from the challenge page (upload) and from their terminal (`autoformation defi soumettre`
with their own token); the sandbox scores; the leaderboard updates without a reload; the quota, a
malformed file, another team's submission and a participant without a team are each refused with their
message; the labels appear nowhere a participant can read.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime

import pytest
import yaml
from playwright.sync_api import expect

from autoformation.challenges import load_challenge, read_labels, release_challenge

from ..conftest import ROOT, api_token, screenshot, sign_in, start_platform, write_realm

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TEAMS = {"ana": "equipe-a", "anouk": "equipe-a", "basile": "equipe-b", "bianca": "equipe-b", "nadia": None}
CHALLENGE = "prix-immobilier"


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    root = tmp_path_factory.mktemp("funathon")
    write_realm(root, {name: ["learners"] + ([team] if team else []) for name, team in TEAMS.items()})
    # The real challenge, with a quota of 2 a day so that the third submission is refused.
    source = root / "challenges" / CHALLENGE
    shutil.copytree(ROOT / "challenges" / CHALLENGE, source)
    data = yaml.safe_load((source / "challenge.yaml").read_text())
    data["quota_per_day"] = 2
    (source / "challenge.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
    release_challenge(load_challenge(source), root / "data" / "release" / "defis", root / "data" / "grading" / "defis")
    platform = start_platform(root, challenges={"source_dir": str(root / "challenges")})
    platform.challenge = load_challenge(source)
    yield platform
    platform.stop()


def predictions_file(platform, tmp_path, factor: float, name: str) -> str:
    """A plausible model: the department's median price per m² from train.csv, times the surface."""
    release = platform.data_dir / "release" / "defis" / CHALLENGE
    per_m2: dict[str, list[float]] = {}
    with (release / "train.csv").open() as f:
        for row in csv.DictReader(f):
            per_m2.setdefault(row["departement"], []).append(float(row["prix"]) / float(row["surface"]))
    median = {d: sorted(v)[len(v) // 2] for d, v in per_m2.items()}
    path = tmp_path / name
    with (release / "test.csv").open() as f, path.open("w") as out:
        out.write("id,prix\n")
        for row in csv.DictReader(f):
            out.write(f"{row['id']},{median[row['departement']] * float(row['surface']) * factor:.0f}\n")
    return str(path)


def api(platform, token: str, path: str, body: bytes | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(f"{platform.url}/services/grading/api/challenges/{CHALLENGE}{path}",
                                     data=body, headers={"Authorization": f"token {token}"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def submit_from_terminal(platform, token: str, path: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "JUPYTERHUB_API_TOKEN": token,
           "AUTOFORMATION_GRADING_URL": f"{platform.url}/services/grading/"}
    return subprocess.run([sys.executable, "-m", "autoformation.cli", "defi", "soumettre", path, "--defi", CHALLENGE],
                          env=env, capture_output=True, text=True, timeout=300)


def write_cell(page, cell, code: str) -> None:
    """Type an answer over a cell's content, as a participant does (select all, then type)."""
    cell.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(code)


def run_all(page) -> None:
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()


def test_two_teams_compete_and_the_board_keeps_its_rules(platform, browser, tmp_path):
    tokens = {name: api_token(browser, platform, name) for name in TEAMS}

    # ana (team A) uploads from the challenge page; the score appears, then her team's row.
    ana = browser.new_context(locale="fr-FR").new_page()
    sign_in(ana, platform, "ana", next_url=f"/services/grading/challenges/{CHALLENGE}")
    ana.wait_for_url(re.compile(rf"/services/grading/challenges/{CHALLENGE}"))
    expect(ana.locator("#leaderboard tr.baseline")).to_have_count(1)
    ana.locator("#upload input[type=file]").set_input_files(predictions_file(platform, tmp_path, 1.0, "a.csv"))
    ana.locator("#upload button").click()
    expect(ana.locator("#upload-result")).to_contain_text("Score public : mape = ", timeout=120_000)
    expect(ana.locator("#leaderboard tr.mine[data-team=equipe-a]")).to_have_count(1, timeout=15_000)

    # anouk (team A) sends a malformed file: refused with its problems, and the quota is untouched.
    status, answer = api(platform, tokens["anouk"], "/submissions", b"id,prix\nV03000,beaucoup\n")
    assert status == 400 and "ne compte pas dans le quota" in answer["message"]
    assert any("n'est pas un nombre" in p for p in answer["problems"])

    # basile (team B) submits twice from his terminal, a worse then a better model; the third is over quota.
    worse = submit_from_terminal(platform, tokens["basile"], predictions_file(platform, tmp_path, 1.3, "b1.csv"))
    assert worse.returncode == 0 and "Équipe equipe-b : score public mape = " in worse.stdout, worse.stderr
    better = submit_from_terminal(platform, tokens["bianca"], predictions_file(platform, tmp_path, 1.0, "b2.csv"))
    assert better.returncode == 0, better.stderr
    over = submit_from_terminal(platform, tokens["basile"], predictions_file(platform, tmp_path, 0.9, "b3.csv"))
    assert over.returncode == 1 and "Quota atteint : 2 soumissions par équipe et par jour" in over.stderr

    # The board: one row per team (its best), the baseline last, team B's row on ana's page without a reload.
    status, board = api(platform, tokens["nadia"], "/leaderboard")
    assert status == 200 and board["part"] == "public" and not board["closed"]
    teams = [r["team"] for r in board["rows"]]
    assert sorted(teams[:2]) == ["equipe-a", "equipe-b"] and board["rows"][-1]["baseline"]
    row_b = next(r for r in board["rows"] if r["team"] == "equipe-b")
    assert row_b["submissions"] == 2 and row_b["score"] == next(
        r["score"] for r in board["rows"] if r["team"] == "equipe-a")  # same model, same score
    expect(ana.locator("#leaderboard tr[data-team=equipe-b]")).to_have_count(1, timeout=15_000)
    screenshot(ana, "challenge-leaderboard")

    # Finals: team B picks its worse model for the private board (its choice); ana picks hers on the page.
    team_b = api(platform, tokens["bianca"], "/submissions")[1]["submissions"]
    worse_id = min(sub["id"] for sub in team_b if sub["result"] == "scored")  # basile's first, 1.3 × the price
    assert api(platform, tokens["bianca"], f"/submissions/{worse_id}/final", b'{"final": true}') == (
        200, {"id": worse_id, "final": True})
    assert api(platform, tokens["ana"], f"/submissions/{worse_id}/final", b'{"final": true}')[0] == 404
    ana.reload()
    ana.locator("#mine input.final").check()
    expect(ana.locator("#final-result")).to_contain_text("choisie pour le classement final")

    # Team B cannot read team A's submission; nadia (no team) reads the board but cannot submit.
    status, mine = api(platform, tokens["ana"], "/submissions")
    refused, ana_sub = sorted(mine["submissions"], key=lambda sub: sub["result"])  # anouk's file, then ana's
    assert (refused["result"], refused["user"], ana_sub["result"]) == ("refused", "anouk", "scored")
    assert mine["team"] == "equipe-a" and ana_sub["private"] is None  # private scores hidden until the end
    assert api(platform, tokens["bianca"], f"/submissions/{ana_sub['id']}")[0] == 404
    status, answer = api(platform, tokens["nadia"], "/submissions", b"id,prix\n")
    assert status == 403 and "aucune équipe" in answer["message"]
    nadia = browser.new_context(locale="fr-FR").new_page()
    sign_in(nadia, platform, "nadia", next_url=f"/services/grading/challenges/{CHALLENGE}")
    expect(nadia.locator("#no-team")).to_be_visible()
    expect(nadia.locator("#upload")).to_have_count(0)

    # anouk works in JupyterLab: the starter notebook is in her home, she runs it all, its last cell submits.
    anouk = browser.new_context(locale="fr-FR").new_page()
    anouk.set_default_timeout(60_000)
    sign_in(anouk, platform, "anouk", next_url="/hub/spawn")
    anouk.wait_for_url(re.compile(r"/user/anouk/"), timeout=120_000)
    anouk.goto(f"{platform.url}/user/anouk/lab/tree/defis/{CHALLENGE}/debutant.ipynb")
    expect(anouk.get_by_text(re.compile(r"Python 3 \(ipykernel\) \| Idle"))).to_be_visible(timeout=120_000)
    # Its two answers are nbgrader's stubs: she writes them, the first one wrong (a mean, not a median).
    stubs = anouk.locator(".jp-CodeCell", has_text="VOTRE CODE ICI")
    expect(stubs).to_have_count(2)
    write_cell(anouk, stubs.nth(1), 'predictions = pd.DataFrame({"id": test["id"], '
                                    '"prix": test["departement"].map(prix_m2) * test["surface"]})')
    write_cell(anouk, stubs.nth(0), 'prix_m2 = (train["prix"] / train["surface"]).groupby(train["departement"]).mean()')
    run_all(anouk)
    # The step's self-check stops her with its hint (and her kernel tells the organisers, see below).
    expect(anouk.locator(".jp-OutputArea", has_text="Prenez la médiane")).to_be_visible(timeout=120_000)
    write_cell(anouk, anouk.locator(".jp-CodeCell", has_text=".mean()"),
               'prix_m2 = (train["prix"] / train["surface"]).groupby(train["departement"]).median()')
    run_all(anouk)
    expect(anouk.locator(".jp-OutputArea").last).to_contain_text("Équipe equipe-a : score public mape = ",
                                                                 timeout=180_000)
    screenshot(anouk, "challenge-notebook-submission")
    # Submitted from the débutant parcours: team A's row is on the débutant board, not the intermédiaire one.
    boards = {level: api(platform, tokens["ana"], "/leaderboard?niveau=" + urllib.parse.quote(level))[1]
              for level in ("débutant", "intermédiaire")}
    assert [(r["team"], r["level"]) for r in boards["débutant"]["rows"] if not r["baseline"]] == [
        ("equipe-a", "débutant")]
    assert [r["team"] for r in boards["intermédiaire"]["rows"]] == ["Référence (moyenne)"]
    assert api(platform, tokens["ana"], "/leaderboard?niveau=" + urllib.parse.quote("<b>"))[0] == 400
    ana.locator("#level-filter").select_option("intermédiaire")
    expect(ana.locator("#leaderboard tr[data-team=equipe-a]")).to_have_count(0)
    expect(ana.locator("#leaderboard tr.baseline")).to_have_count(1)
    ana.locator("#level-filter").select_option("débutant")
    expect(ana.locator("#leaderboard tr.mine[data-team=equipe-a] td").nth(2)).to_have_text("débutant")
    # Then she sends a CSV file of the challenge's folder from JupyterLab itself: a bad one, refused there.
    xsrf = next(c["value"] for c in anouk.context.cookies() if c["name"] == "_xsrf" and "/user/anouk" in c["path"])
    put = anouk.request.put(f"{platform.url}/user/anouk/api/contents/defis/{CHALLENGE}/mauvais.csv",
                            data={"type": "file", "format": "text", "content": "id,prix\nV03000,cher\n"},
                            headers={"X-XSRFToken": xsrf})
    assert put.ok, put.text()
    anouk.goto(f"{platform.url}/user/anouk/lab/tree/defis/{CHALLENGE}/mauvais.csv")
    anouk.get_by_role("button", name="Soumettre au défi").click()
    dialog = anouk.locator("#autoformation-challenge-dialog[data-status=error]")
    expect(dialog).to_contain_text("ne compte pas dans le quota", timeout=60_000)
    expect(dialog).to_contain_text("« cher » n'est pas un nombre")
    screenshot(anouk, "challenge-jupyterlab-refused")
    anouk.context.close()

    # The labels are nowhere a participant can read: the release, homes, the API's answers, the logs.
    labels = read_labels(platform.data_dir / "grading" / "defis" / CHALLENGE / "labels.csv", platform.challenge)
    pairs = [f"{i},{int(v)}" for i, v in list(labels.items())[:100]]
    readable = [p.read_text(errors="replace") for folder in ("release", "homes")
                for p in (platform.data_dir / folder).rglob("*") if p.is_file() and not p.is_symlink()]
    assert any("debutant.ipynb" in str(p) for p in (platform.data_dir / "homes" / "anouk").rglob("*"))
    readable += [json.dumps(board), json.dumps(mine)]
    readable += [p.read_text(errors="replace") for p in (platform.data_dir / "logs").glob("*.log")]
    assert not any(pair in text for pair in pairs for text in readable)
    ana.context.close()
    nadia.context.close()



def test_organisers_follow_the_teams_close_the_challenge_and_see_the_debrief(platform, browser, tmp_path):
    """After the teams' round above: claire (trainers) organises; participants see the private board."""
    learner = browser.new_context().new_page()
    sign_in(learner, platform, "nadia", next_url="/hub/home")
    learner.wait_for_url(re.compile(r"/hub/home"))
    expect(learner.locator(f"#challenge-{CHALLENGE}")).to_contain_text("ouvert jusqu'au")
    countdown = learner.locator(f"#challenge-{CHALLENGE} .countdown")
    expect(countdown).to_have_text(re.compile(r"^encore (\d+ j )?\d+ h \d+ min$"))
    assert learner.request.get(f"{platform.url}/services/grading/trainers/challenges/{CHALLENGE}").status == 403

    page = browser.new_context(locale="fr-FR").new_page()
    sign_in(page, platform, "claire", next_url=f"/services/grading/trainers/challenges/{CHALLENGE}")
    page.wait_for_url(re.compile(rf"/trainers/challenges/{CHALLENGE}"))
    team_a = page.locator("#teams tr[data-team=equipe-a]")
    expect(team_a).to_contain_text("ana, anouk")
    expect(team_a).to_contain_text("n'est pas un nombre")  # anouk's refused file, and why
    expect(page.locator("#teams tr[data-team=equipe-b] td").nth(2)).to_have_text("2")
    # Parcours: team A's kernel reported its failed, then passed, self-checks; basile's kernel reports his
    # failures on step 1 (the very call it makes), until his team shows as stuck there.
    expect(team_a.locator("td.parcours")).to_have_text("débutant : 2 / 2 étapes, terminé")
    basile = api_token(browser, platform, "basile")
    report = json.dumps({"level": "débutant", "step": "verif-1", "passed": False}).encode()
    for _ in range(3):
        assert api(platform, basile, "/steps", report)[0] == 204
    for hostile in ({"level": "débutant", "step": "../verif-1", "passed": False},
                    {"level": ["débutant"], "step": "verif-1", "passed": False},
                    {"level": "débutant", "step": "verif-1", "passed": "oui"}):
        assert api(platform, basile, "/steps", json.dumps(hostile).encode())[0] == 400
    page.reload()
    stuck = page.locator("#teams tr[data-team=equipe-b] td.parcours.stuck-step")
    expect(stuck).to_contain_text("débutant : 0 / 2 étapes — bloquée à « verif-1 » (3 essais depuis")
    csv_text = page.request.get(f"{platform.url}/services/grading/trainers/challenges/{CHALLENGE}.csv").text()
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    assert [(r["user"], r["result"]) for r in rows] == [
        ("ana", "scored"), ("anouk", "refused"), ("basile", "scored"), ("bianca", "scored"), ("anouk", "scored"),
        ("anouk", "refused")]  # the last one from JupyterLab

    page.get_by_role("button", name="Clore le défi et révéler le classement privé").click()
    expect(page.locator("#state")).to_contain_text("Défi clos")
    expect(page.locator("#shifts tr[data-team=equipe-b]")).to_have_count(1)
    expect(page.locator("#debrief svg")).to_have_count(1)
    screenshot(page, "challenge-debrief")

    # Participants now see the private board, their private scores, and cannot submit any more.
    token = api_token(browser, platform, "ana")
    status, board = api(platform, token, "/leaderboard")
    assert board["closed"] and board["part"] == "private"
    # Team B's final was its worse model: the private board ranks it as chosen, below team A.
    assert [r["team"] for r in board["rows"] if not r["baseline"]] == ["equipe-a", "equipe-b"]
    scored = [sub for sub in api(platform, token, "/submissions")[1]["submissions"] if sub["result"] == "scored"]
    assert scored[0]["private"]["mape"] > 0
    # The challenge stays open for practice: nadia (no team) submits "hors concours", ranked apart.
    before = [r["team"] for r in board["rows"]]
    learner.goto(f"{platform.url}/services/grading/challenges/{CHALLENGE}")
    expect(learner.locator("#phase")).to_contain_text("classement final")
    learner.locator("#upload input[type=file]").set_input_files(predictions_file(platform, tmp_path, 1.0, "n.csv"))
    learner.locator("#upload button").click()
    expect(learner.locator("#upload-result")).to_contain_text("hors concours", timeout=120_000)
    status, board = api(platform, token, "/leaderboard")
    assert [r["team"] for r in board["after"]] == ["nadia"] and [r["team"] for r in board["rows"]] == before
    # The catalogue knows the organisers closed it early (the hub asks the grading service, its owner).
    learner.goto(f"{platform.url}/hub/home")
    expect(learner.locator(f"#challenge-{CHALLENGE}")).to_contain_text("clos : classement final")
    page.context.close()
    learner.context.close()


def test_the_scorer_runs_in_the_sandbox_and_a_broken_one_scores_nothing(tmp_path):
    """The organisers' score.py runs in the grading sandbox; when it raises, the submission gets an
    organiser-facing failure (logged), no score, and does not count in the quota."""
    from autoformation.grading import executor
    from autoformation.grading.challenges import Scorer, quota_used
    from autoformation.grading.store import Store
    from autoformation.settings import Settings

    executor.staging_dir = str(tmp_path)
    source = tmp_path / "challenges" / CHALLENGE
    shutil.copytree(ROOT / "challenges" / CHALLENGE, source)
    settings = Settings()
    settings.platform.data_dir = str(tmp_path / "data")
    challenge = load_challenge(source)
    release_challenge(challenge, settings.challenges_release_dir, settings.challenges_hidden_dir)
    labels = read_labels(settings.challenges_hidden_dir / CHALLENGE / "labels.csv", challenge)
    store = Store(f"sqlite:///{tmp_path / 'grading.sqlite'}")
    scorer = Scorer(settings, store, {CHALLENGE: challenge})

    perfect = store.submit_predictions(CHALLENGE, "equipe-a", "ana", json.dumps(labels).encode())
    result, _, public, private = scorer.score(store.claim_predictions())
    assert (result, public["mape"], private["rmse"]) == ("scored", 0.0, 0.0)
    store.finish_predictions(perfect, result, "", public, private)

    (source / "score.py").write_text("def score(predictions, labels):\n    raise ValueError('colonne oubliée')\n")
    broken = store.submit_predictions(CHALLENGE, "equipe-a", "ana", json.dumps(labels).encode())
    result, message, public, private = scorer.score(store.claim_predictions())
    assert result == "failed" and public == private == {} and "organisateurs" in message
    store.finish_predictions(broken, result, message, public, private)
    assert quota_used(challenge, store.challenge_submissions(CHALLENGE), "equipe-a", datetime.now(UTC)) == 1


def test_a_killed_service_loses_no_predictions_and_scores_none_twice(tmp_path):
    from autoformation.grading.store import DONE, GRADING, Store
    from autoformation.settings import load

    from ..conftest import free_port
    from .test_service import Service, wait_for

    source = tmp_path / "challenges" / CHALLENGE
    shutil.copytree(ROOT / "challenges" / CHALLENGE, source)
    scorer = (source / "score.py").read_text()
    (source / "score.py").write_text(scorer.replace("    ids = list(labels)", "    import time\n    time.sleep(1.5)\n"
                                                    "    ids = list(labels)"))  # slow enough to be caught
    settings_file = tmp_path / "settings.yaml"
    settings_file.write_text(yaml.safe_dump({
        "platform": {"data_dir": str(tmp_path / "data")},
        "courses": {"source_dir": str(ROOT / "tests" / "fixtures" / "courses")},
        "grading": {"port": free_port(), "workers": 1},
        "challenges": {"source_dir": str(tmp_path / "challenges")},
    }))
    settings = load(settings_file)
    challenge = load_challenge(source)
    release_challenge(challenge, settings.challenges_release_dir, settings.challenges_hidden_dir)
    labels = read_labels(settings.challenges_hidden_dir / CHALLENGE / "labels.csv", challenge)
    store = Store(settings.grading_db_url())
    ids = [store.submit_predictions(CHALLENGE, f"equipe-{n}", "x", json.dumps({i: v * (1 + n / 10)
                                    for i, v in labels.items()}).encode()) for n in range(4)]
    service = Service(settings_file, tmp_path / "service.log")
    service.start()
    try:
        def mid_queue():
            subs = store.challenge_submissions(CHALLENGE)
            return any(s.status == DONE for s in subs) and any(s.status == GRADING for s in subs)

        wait_for(mid_queue, service, 120, "a file scored while another is being scored")
        service.kill()
        at_kill = {s.id: s for s in store.challenge_submissions(CHALLENGE)}
        assert any(s.status == GRADING for s in at_kill.values())
        service.start()
        wait_for(lambda: all(s.status == DONE for s in store.challenge_submissions(CHALLENGE)), service, 120,
                 "every file scored after the restart")
    finally:
        service.stop()
    subs = {s.id: s for s in store.challenge_submissions(CHALLENGE)}
    assert sorted(subs) == ids  # nothing lost, nothing added
    for sub_id, sub in subs.items():
        assert sub.result == "scored" and sub.public["mape"] >= 0
        if at_kill[sub_id].status == DONE:  # scored before the kill: never scored again
            assert sub.public == at_kill[sub_id].public
    assert [round(subs[i].public["mape"]) for i in ids] == [0, 10, 20, 30]
