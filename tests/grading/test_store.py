"""The submission queue: persistent, claimed atomically, a result written once."""

from __future__ import annotations

import threading

import pytest

from autoformation.grading.store import DONE, GRADING, QUEUED, CellResult, GradeResult, Store


@pytest.fixture
def store(tmp_path):
    return Store(f"sqlite:///{tmp_path / 'grading' / 'grading.sqlite'}")


def result(score=2.0):
    return GradeResult("graded", "Votre notebook a été corrigé.", score, 3.0, [CellResult("q1", score, 3.0)],
                       "<html></html>")


def test_submissions_are_graded_in_order_and_once(store):
    first = store.submit("alice", "ml", "01-a", "nb.ipynb", b"{}")
    second = store.submit("bruno", "ml", "01-a", "nb.ipynb", b"{}")
    claimed = store.claim()
    assert claimed.id == first and claimed.status == GRADING and claimed.attempts == 1
    assert store.claim().id == second
    assert store.claim() is None
    assert store.finish(first, result(2.0))
    assert not store.finish(first, result(3.0))  # a late duplicate does not overwrite
    done = store.get(first)
    assert done.status == DONE and done.score == 2.0
    assert [(e.grade_id, e.points) for e in done.exercises] == [("q1", 2.0)]


def test_a_stopped_service_loses_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'grading.sqlite'}"
    before = Store(url)
    ids = [before.submit("alice", "ml", "01-a", "nb.ipynb", b"{}") for _ in range(3)]
    before.claim()  # being graded when the service stops
    after = Store(url)  # a new process
    assert after.recover() == 1
    assert [s.status for s in after.submissions()] == [QUEUED] * 3
    assert after.claim().id == ids[0]


def test_concurrent_workers_never_claim_the_same_submission(store):
    for i in range(20):
        store.submit(f"learner{i}", "ml", "01-a", "nb.ipynb", b"{}")
    claimed, lock = [], threading.Lock()

    def worker():
        while (sub := store.claim()) is not None:
            with lock:
                claimed.append(sub.id)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == list(range(1, 21))


def test_listings_are_per_learner(store):
    store.submit("alice", "ml", "01-a", "nb.ipynb", b"{}")
    store.submit("bruno", "nlp", "01-b", "nb.ipynb", b"{}")
    assert [s.user for s in store.submissions(user="alice")] == ["alice"]
    assert [s.course for s in store.submissions(course="nlp")] == ["nlp"]
    assert store.pending() == 2


def test_one_learners_assignment_is_never_graded_twice_at_once(store):
    first = store.submit("alice", "ml", "01-a", "nb.ipynb", b"{}")
    second = store.submit("alice", "ml", "01-a", "nb.ipynb", b"{}")
    other = store.submit("bruno", "ml", "01-a", "nb.ipynb", b"{}")
    assert store.claim().id == first
    assert store.claim().id == other  # alice's second waits; bruno does not wait behind it
    assert store.claim() is None
    store.finish(first, GradeResult("graded", "", 1, 1))
    assert store.claim().id == second


def test_the_migrations_build_exactly_the_schema_the_code_uses(db_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from autoformation.grading.store import Base

    store = Store(db_url)
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = [d for d in compare_metadata(context, Base.metadata) if "af_alembic_version" not in str(d)]
    assert diff == []


def test_a_database_from_before_migrations_is_upgraded_and_keeps_its_submissions(tmp_path):
    import sqlalchemy as sa
    from alembic import command
    from alembic.config import Config

    from autoformation.grading.store import MIGRATIONS

    url = f"sqlite:///{tmp_path / 'grading.sqlite'}"
    engine = sa.create_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:  # what `create_all` of the first releases made: the same tables, no version
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
        conn.execute(sa.text("DROP TABLE af_alembic_version"))
        conn.execute(sa.text(
            "INSERT INTO af_submission (user, course, assignment, notebook, content, release_version, created_at, "
            "status, attempts, result, message, score, max_score, feedback_html) VALUES ('alice', 'ml', '01-a', "
            "'nb.ipynb', x'7b7d', '2026.10', '2026-11-01 09:00:00', 'done', 1, 'graded', '', 2, 3, '')"))
    engine.dispose()
    store = Store(url)
    (kept,) = store.submissions(user="alice")
    assert (kept.course, kept.score, kept.status) == ("ml", 2.0, DONE)
    columns = {c["name"] for c in sa.inspect(store.engine).get_columns("af_submission")}
    assert "release_version" not in columns
    assert store.submit("alice", "ml", "01-a", "nb.ipynb", b"{}") > kept.id
