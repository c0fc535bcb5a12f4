"""What a trainer sees of a course (`grading/report.py`): rows, pass rates, the CSV. Fast, on a SQLite store."""

from __future__ import annotations

import csv
import io

from autoformation.catalogue import load_catalogue
from autoformation.grading.report import CSV_COLUMNS, Learner, course_report, to_csv
from autoformation.grading.store import CellResult, GradeResult, Store

from ..conftest import ROOT

(DEMO,) = load_catalogue(ROOT / "tests" / "fixtures" / "courses")


def graded(store: Store, user: str, **points: float) -> int:
    sub_id = store.submit(user, "demo", "01-bases", "bases.ipynb", b"{}")
    store.claim()
    cells = [CellResult(g, p, {"test_moyenne": 2, "test_compter": 1}[g]) for g, p in points.items()]
    store.finish(sub_id, GradeResult("graded", "", sum(points.values()), 4, cells))
    return sub_id


def test_rows_rates_and_csv_follow_the_latest_graded_submissions(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'grading.sqlite'}")
    graded(store, "alice", test_moyenne=0, test_compter=1)
    latest = graded(store, "alice", test_moyenne=2, test_compter=1)
    graded(store, "bruno", test_moyenne=0, test_compter=1)
    graded(store, "eric", test_moyenne=2, test_compter=1)  # not followed by this trainer
    store.record_material("alice", {"demo": "2026.11"})
    followed = [Learner("alice", ["promo-a"]), Learner("bruno", ["promo-a"]), Learner("claude", ["promo-a"])]

    report = course_report(store, DEMO, followed)
    assert report.submitted() == ["alice", "bruno"]
    (stats,) = report.stats
    assert stats.scores == [3, 1] and stats.max_score == 4 and stats.manual == ["explication"]
    assert dict(stats.pass_rates) == {"test_moyenne": 50, "test_compter": 100}

    rows = list(csv.DictReader(io.StringIO(to_csv(report))))
    assert list(rows[0]) == CSV_COLUMNS
    assert [r["learner"] for r in rows] == ["alice", "bruno", "claude"]  # eric is not this trainer's
    alice = rows[0]
    assert (alice["submission"], alice["score"], alice["version"]) == (str(latest), "3", "2026.11")
    assert alice["exercises"] == "test_moyenne=2 test_compter=1"
    assert rows[2]["score"] == "" and rows[2]["submission"] == ""
