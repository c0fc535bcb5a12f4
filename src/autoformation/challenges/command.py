"""`autoformation defis list|check|release`: the organisers' side of the Funathon challenges."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from .. import settings as settings_module
from ..notebooks import BEGIN_SOLUTION
from . import (
    ChallengeError,
    level_file,
    load_challenges,
    parcours_notebooks,
    parcours_steps,
    read_labels,
    release_challenge,
    split_scores,
)


def check(challenge, work: Path) -> list[str]:
    """What keeps a challenge from being run: its release in a scratch folder, the scorer on the baseline
    and on a perfect prediction (the best value of its metric), the starter notebooks run to the end,
    nothing hidden in what learners get."""
    released = release_challenge(challenge, work / "release", work / "hidden")
    problems = []
    labels = read_labels(work / "hidden" / challenge.id / "labels.csv", challenge)
    public = set(json.loads((work / "hidden" / challenge.id / "split.json").read_text())["public"])
    perfect = split_scores(challenge, dict(labels), labels, public)
    baseline = released["baseline"]
    for part in ("public", "private"):
        if set(perfect[part]) != set(challenge.columns):
            problems.append(f"{challenge.id}: score.py returns {sorted(perfect[part])}, "
                            f"the leaderboard columns are {challenge.columns}")
        elif not challenge.better(perfect[part][challenge.metric], baseline[part][challenge.metric]):
            problems.append(f"{challenge.id}: a perfect prediction does not beat the baseline on {challenge.metric} "
                            f"({perfect[part][challenge.metric]} vs {baseline[part][challenge.metric]})")
    target = work / "release" / challenge.id
    problems += run_starters(challenge, target)
    if (target / "labels.csv").exists():
        problems.append(f"{challenge.id}: labels.csv is in the release")
    for path in target.rglob("*.csv"):
        header = path.read_text(encoding="utf-8").splitlines()[0].split(",")
        if path.name != "train.csv" and challenge.target in header:
            problems.append(f"{challenge.id}: {path.name} in the release has the target column '{challenge.target}'")
    return problems


def run_starters(challenge, released: Path) -> list[str]:
    """Every starter notebook, with its answers, runs to the end on the released data (papermill), as a
    participant's would (its final `defi.soumettre` says it cannot reach the platform, which is no error
    here); the learners' version of it has no answer left and does not get through its steps untouched."""
    import papermill

    problems = []
    steps = parcours_steps(challenge)
    sources = parcours_notebooks(challenge)
    for level in challenge.levels:
        if level not in sources:
            problems.append(f"{challenge.id}: level '{level}' has no starter notebook parcours/{level_file(level)}")
    for level, source in sources.items():
        if not steps.get(level):
            problems.append(f"{challenge.id}: parcours/{source.name} has no self-checked step (graded test cell)")
        learner = released / source.name
        if BEGIN_SOLUTION in learner.read_text(encoding="utf-8"):
            problems.append(f"{challenge.id}: the released {learner.name} still holds an answer")
        for notebook, must_pass in ((source, True), (learner, False)):
            out = released / f".{source.stem}.out.ipynb"
            try:
                papermill.execute_notebook(str(notebook), str(out), cwd=str(released), kernel_name="python3",
                                           progress_bar=False, execution_timeout=300)
                if not must_pass:
                    problems.append(f"{challenge.id}: the released {learner.name} runs to the end with no answer")
            except Exception as err:  # noqa: BLE001 - papermill's own error names the cell
                if must_pass:
                    problems.append(f"{challenge.id}: parcours/{source.name} does not run to the end: "
                                    f"{str(err)[-500:]}")
            finally:
                out.unlink(missing_ok=True)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="autoformation defis", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["list", "check", "release"])
    parser.add_argument("--config", help="settings file (default: $AUTOFORMATION_CONFIG or hub_config/settings.yaml)")
    args = parser.parse_args(argv)
    try:
        settings = settings_module.load(args.config)
        challenges = load_challenges(settings.challenges_dir)
    except (settings_module.SettingsError, ChallengeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.action == "list":
        for c in challenges:
            phases = ", ".join(f"{p.name} {p.start:%Y-%m-%d}→{p.end:%Y-%m-%d}" for p in c.phases)
            print(f"{c.id:24} {c.kind:15} {c.metric} ({'min' if c.minimize else 'max'})  {phases}  {c.title}")
        return 0
    status = 0
    for challenge in challenges:
        try:
            if args.action == "check":
                with tempfile.TemporaryDirectory(prefix="defi-check-") as tmp:
                    problems = check(challenge, Path(tmp))
                for problem in problems:
                    print(f"ERROR {problem}", file=sys.stderr)
                print(f"{challenge.id}: {'ok' if not problems else 'FAILED'}")
                status = status or (1 if problems else 0)
            else:
                done = release_challenge(challenge, settings.challenges_release_dir, settings.challenges_hidden_dir)
                state = "up to date" if done["up_to_date"] else "released"
                print(f"{challenge.id}: {state} in {done['release']} ({done['test_rows']} rows to predict, "
                      f"{done['public_rows']} on the public leaderboard)")
        except ChallengeError as err:
            print(f"error: {err}", file=sys.stderr)
            status = 1
    return status
