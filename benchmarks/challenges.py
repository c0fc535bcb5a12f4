"""Benchmarks of the Funathon challenges (run: `make bench`, or `python benchmarks/challenges.py`).

Baseline, measured in the same run: reading, checking and scoring one predictions file alone, in this
process (the organisers' score.py called directly). Against it:
1. Scoring throughput: N files of the prix-immobilier challenge through the service's path (checked,
   queued in the grading database, scored in the grading sandbox by the challenges' worker).
2. The leaderboard with 300 teams × 50 submissions in the database: the JSON the page refreshes from,
   p50 and p95 of computing it again (query + ranking), without HTTP; the service then serves it from
   memory until a submission is scored or chosen, or the challenge closes.

Each figure is printed with its ratio to the baseline.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from autoformation.challenges import (  # noqa: E402
    check_predictions,
    load_challenge,
    read_labels,
    release_challenge,
    scorer,
)
from autoformation.grading import executor  # noqa: E402
from autoformation.grading.challenges import Scorer, leaderboard  # noqa: E402
from autoformation.grading.store import Store  # noqa: E402
from autoformation.settings import Settings  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=8, help="prediction files to score (default 8)")
    parser.add_argument("--teams", type=int, default=300)
    parser.add_argument("--per-team", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-defis-") as tmp:
        tmp = Path(tmp)
        settings = Settings()
        settings.platform.data_dir = str(tmp / "data")
        executor.staging_dir = str(tmp)
        challenge = load_challenge(ROOT / "challenges" / "prix-immobilier")
        release_challenge(challenge, settings.challenges_release_dir, settings.challenges_hidden_dir)
        labels = read_labels(settings.challenges_hidden_dir / challenge.id / "labels.csv", challenge)
        rng = random.Random(1)
        files = ["id,prix\n" + "".join(f"{i},{v * rng.uniform(0.8, 1.2):.0f}\n" for i, v in labels.items())
                 for _ in range(args.n)]

        # Baseline: one file read, checked and scored alone, in process.
        score = scorer(challenge)
        start = time.perf_counter()
        predictions, problems = check_predictions(files[0].encode(), challenge, set(labels))
        score(predictions, labels)
        alone = time.perf_counter() - start
        assert not problems

        # 1. The service's path: check, queue, sandboxed scoring.
        store = Store(f"sqlite:///{tmp / 'grading.sqlite'}")
        worker = Scorer(settings, store, {challenge.id: challenge})
        start = time.perf_counter()
        for content in files:
            checked, _ = check_predictions(content.encode(), challenge, set(labels))
            store.submit_predictions(challenge.id, "equipe-bench", "bench", json.dumps(checked).encode())
        while (sub := store.claim_predictions()) is not None:
            store.finish_predictions(sub.id, *worker.score(sub))
        scoring = time.perf_counter() - start
        per_file = scoring / args.n

        # 2. The leaderboard with many teams and submissions.
        board_store = Store(f"sqlite:///{tmp / 'board.sqlite'}")
        with board_store.session.begin() as db:
            from autoformation.grading.store import ChallengeSubmission

            now = datetime.now(UTC).replace(tzinfo=None)
            for team in range(args.teams):
                for _ in range(args.per_team):
                    value = rng.uniform(8, 40)
                    db.add(ChallengeSubmission(challenge=challenge.id, team=f"equipe-{team:03d}", user="x",
                                               content=b"", created_at=now, status="done", result="scored",
                                               public={"mape": value, "rmse": value * 4000},
                                               private={"mape": value + rng.uniform(-2, 2), "rmse": 1.0}))
        timings = []
        for _ in range(20):
            start = time.perf_counter()
            rows = leaderboard(challenge, board_store.challenge_scores(challenge.id), "public", None)
            timings.append(time.perf_counter() - start)
        assert len(rows) == args.teams

    print(f"Baseline: one predictions file read, checked and scored alone   {alone * 1000:8.1f} ms (1.00x)")
    print(f"Scoring {args.n} files through the service's path (sandboxed)     {per_file * 1000:8.1f} ms/file, "
          f"{1 / per_file:.2f} files/s ({per_file / alone:.1f}x the baseline per file)")
    print(f"Leaderboard, {args.teams} teams x {args.per_team} submissions        p50 "
          f"{percentile(timings, 0.5) * 1000:7.1f} ms ({percentile(timings, 0.5) / alone:.1f}x), "
          f"p95 {percentile(timings, 0.95) * 1000:7.1f} ms ({percentile(timings, 0.95) / alone:.1f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
