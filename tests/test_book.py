"""The companion book: built from a small fixture course (and from the real courses when present)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import html
import json
import re
import shutil
from functools import partial
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest
from tornado.httpclient import AsyncHTTPClient

from autoformation import book, settings
from autoformation.book.execute import ExecutionError, Job, run
from autoformation.book.serve import listen_address, make_app
from autoformation.catalogue import load_catalogue
from tests.conftest import ROOT, free_port, write_settings

FIXTURE_COURSES = Path(__file__).parent / "book_fixtures" / "courses"
HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.S)


def book_settings(root: Path, courses_dir: Path) -> settings.Settings:
    return settings.load(write_settings(root, courses={"source_dir": str(courses_dir)}))


# --- what the built site must satisfy ------------------------------------------------------------------


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.links.append(value)
            if name == "id" and value:
                self.ids.add(value)


def _parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def broken_links(html_dir: Path) -> list[str]:
    """Every relative href/src of every page must name an existing file (and anchor, when it has one)."""
    # _static/ holds theme templates (Jinja, not pages).
    pages = {p: _parse(p) for p in html_dir.rglob("*.html") if "_static" not in p.relative_to(html_dir).parts}
    broken = []
    for page, parsed in pages.items():
        for link in parsed.links:
            parts = urlsplit(link)
            if parts.scheme or link.startswith("//"):
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                broken.append(f"{page.relative_to(html_dir)} -> {link}")
            elif parts.fragment and target.suffix == ".html" and target in pages:
                if unquote(parts.fragment) not in pages[target].ids:
                    broken.append(f"{page.relative_to(html_dir)} -> {link} (no such anchor)")
    return broken


def site_texts(build_root: Path):
    """(file, text) for every built file, as a reader or a crawler would see its text."""
    for path in build_root.rglob("*"):
        if not path.is_file() or path.suffix in (".png", ".svg", ".woff", ".woff2", ".ico", ".gif", ".jpg"):
            continue
        raw = path.read_text(encoding="utf-8", errors="replace")
        texts = [raw, html.unescape(re.sub(r"<[^>]+>", "", raw))]
        if path.suffix == ".ipynb":
            nb = json.loads(raw)
            texts.append("\n".join(
                "".join(c["source"]) + json.dumps(c.get("outputs", []), ensure_ascii=False) for c in nb["cells"]
            ))
        yield path, "\n".join(texts)


def hidden_lines(courses: list) -> set[str]:
    """Lines of hidden tests that appear nowhere in the visible parts of the sources."""
    hidden, visible = set(), ""
    for course in courses:
        for assignment in course.assignments:
            for path in assignment.notebooks:
                for cell in nbformat.read(path, as_version=4).cells:
                    for block in HIDDEN.findall(cell.source):
                        hidden |= {line.strip() for line in block.splitlines() if len(line.strip()) > 8}
                    visible += HIDDEN.sub("", cell.source) + "\n"
    return {line for line in hidden if line not in visible}


def _typographic(text: str) -> str:
    """Undo Sphinx's smart quotes, to compare with the sources."""
    return text.replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"')


def check_site(html_dir: Path, courses: list, hub_url: str) -> None:
    nav = (html_dir / "intro.html").read_text(encoding="utf-8")  # index.html only redirects to the root page
    positions = []
    for course in courses:
        course_page = html_dir / "cours" / course.id / "index.html"
        assert course_page.is_file(), f"no page for course {course.id}"
        text = _typographic(html.unescape(course_page.read_text(encoding="utf-8")))
        assert course.title in text and course.level in text
        assert all(html.unescape(o) in text for o in course.objectives)
        positions.append(nav.find(f"cours/{course.id}/index.html"))
        for assignment in course.assignments:
            for nb in assignment.notebooks:
                page = html_dir / "cours" / course.id / assignment.id / f"{nb.stem}.html"
                assert page.is_file(), f"no page for {course.id}/{assignment.id}/{nb.name}"
                launch = f'href="{hub_url}/hub/user-redirect/lab/tree/{course.id}/{assignment.id}/{nb.name}"'
                assert launch in page.read_text(encoding="utf-8"), f"{page}: no launch link {launch}"
            if len(assignment.notebooks) > 1:
                assert (html_dir / "cours" / course.id / assignment.id / "index.html").is_file()
    assert -1 not in positions and positions == sorted(positions), "the table of contents follows the catalogue"
    assert broken_links(html_dir) == []


def check_no_hidden_tests(build_root: Path, courses: list) -> None:
    lines = hidden_lines(courses)
    assert lines, "the courses have hidden tests to look for"
    leaks = [(str(path), line) for path, text in site_texts(build_root) for line in lines if line in text]
    assert leaks == []


# --- the fixture course ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fixture_book(tmp_path_factory):
    root = tmp_path_factory.mktemp("book")
    courses_dir = root / "courses"
    shutil.copytree(FIXTURE_COURSES, courses_dir)
    conf = book_settings(root, courses_dir)
    lines = []
    result = book.build(conf, {"quick": True}, report=lines.append)
    return conf, result, lines


@pytest.mark.slow
def test_book_builds_with_every_course_page_and_launch_link(fixture_book):
    conf, result, lines = fixture_book
    courses = load_catalogue(conf.courses_dir)
    assert result.html_dir == book.serve_dir(conf)
    assert sorted(result.executed) == sorted(result.notebooks) and len(result.notebooks) == 3
    assert any(re.match(r"\[1/3\] essai/01-calculs/01-calculs.ipynb: executed in [\d.]+ s", line) for line in lines)
    check_site(result.html_dir, courses, conf.platform.url())
    # Hand-written part and glossary, with cross-references resolved.
    assert (result.html_dir / "plateforme" / "soumettre.html").is_file()
    glossary = (result.html_dir / "glossaire.html").read_text(encoding="utf-8")
    assert 'id="term-notebook"' in glossary
    page = (result.html_dir / "cours/essai/01-calculs/01-calculs.html").read_text(encoding="utf-8")
    assert "glossaire.html#term-notebook" in page
    # A page per Funathon challenge: its subject, data and how to submit, linked to the platform.
    challenge = (result.html_dir / "defis" / "prix-immobilier.html").read_text(encoding="utf-8")
    assert "Estimer le prix" in challenge and "test.csv" in challenge
    assert f"{conf.platform.url()}/services/grading/challenges/prix-immobilier" in challenge


@pytest.mark.slow
def test_notebook_pages_are_learner_versions_with_folded_solutions(fixture_book):
    conf, result, _ = fixture_book
    page = (result.html_dir / "cours/essai/01-calculs/01-calculs.html").read_text(encoding="utf-8")
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    assert "raise NotImplementedError()" in text  # the learner's stub
    assert "Afficher la solution" in page and "return sum(liste)" in text  # the solution, folded
    assert re.search(r'class="[^"]*dropdown[^"]*"', page) and "auto-vérification" in text  # free-text answer
    # Executed outputs are shown; --quick reached the notebook's parameters cell.
    assert "Valeurs lues : [4, 7]" in text and "Bravo, c'est juste !" in text
    assert "injected-parameters" not in page and "nbgrader" not in page
    # The visible tests are there, found by the same text extraction that finds no hidden test.
    assert 'total([1, 2]) devrait valoir 3' in text


@pytest.mark.slow
def test_no_hidden_test_anywhere_in_the_built_site(fixture_book):
    conf, result, _ = fixture_book
    courses = load_catalogue(conf.courses_dir)
    assert 'assert total([5, 6, 7]) == 18, "cache : total de trois nombres"' in hidden_lines(courses)
    check_no_hidden_tests(book.build_dir(conf) / "_build", courses)
    check_no_hidden_tests(book.build_dir(conf) / "source", courses)
    # The leak check does catch a leak: plant one and look again.
    planted = result.html_dir / "planted.html"
    planted.write_text(
        "<pre><span>assert</span> total([5, 6, 7]) == 18, &quot;cache : total de trois nombres&quot;</pre>"
    )
    try:
        with pytest.raises(AssertionError):
            check_no_hidden_tests(book.build_dir(conf) / "_build", courses)
    finally:
        planted.unlink()


@pytest.mark.slow
def test_failing_notebook_breaks_the_build_and_only_it_reruns_once_fixed(tmp_path, capsys):
    courses_dir = tmp_path / "courses"
    shutil.copytree(FIXTURE_COURSES, courses_dir)
    conf = book_settings(tmp_path, courses_dir)
    assert book.main(["build", "--config", conf.source]) == 0
    capsys.readouterr()

    broken = courses_dir / "essai/source/02-textes/02-lettres.ipynb"
    nb = nbformat.read(broken, as_version=4)
    nb.cells[1].source = 'phrase = "le chat dort"\nphrase.compter_lettres()'
    nbformat.write(nb, broken)
    assert book.main(["build", "--config", conf.source]) == 1
    err = capsys.readouterr().err
    assert "essai/02-textes/02-lettres.ipynb" in err and "cell 1" in err and "AttributeError" in err, err

    nb.cells[1].source = 'phrase = "le chat dort"  # corrigé'
    nbformat.write(nb, broken)
    assert book.main(["build", "--config", conf.source]) == 0
    out = capsys.readouterr().out
    assert "[3/3] essai/02-textes/02-lettres.ipynb: executed in" in out
    assert "[1/3] essai/01-calculs/01-calculs.ipynb: cached" in out
    assert "[2/3] essai/02-textes/01-mots.ipynb: cached" in out
    assert "1 of 3 notebook(s) executed" in out


@pytest.mark.slow
def test_cell_timeout_names_the_notebook_and_cell(tmp_path):
    folder = tmp_path / "lent"
    folder.mkdir()
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("import time\ntime.sleep(30)"),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.write(nb, folder / "lent.ipynb")
    with pytest.raises(ExecutionError, match=r"lent/lent.ipynb: cell 1: import time ran longer than 2 s"):
        run(Job("lent/lent.ipynb", folder / "lent.ipynb"), {}, tmp_path / "work", timeout=2)


def test_bad_toc_template_is_named(tmp_path):
    book_dir = tmp_path / "book"
    shutil.copytree(ROOT / "book", book_dir)
    (book_dir / "_toc.yml").write_text("format: jb-book\nroot: intro\nparts: []\n")
    from autoformation.book.site import BookError, write_sources

    with pytest.raises(BookError, match="generated: courses"):
        write_sources(book_dir, tmp_path / "source", [], {}, "http://hub")


def test_service_serves_the_book_under_its_prefix(tmp_path):
    """The service answers under its prefix: a French notice before the book is built, the book after."""
    html_dir = tmp_path / "html"
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    async def fetch_all():
        client = AsyncHTTPClient()
        get = partial(client.fetch, raise_error=False, follow_redirects=False)
        server = make_app(html_dir, "/services/book/").listen(port, "127.0.0.1")
        missing = await get(f"{base}/services/book/")
        server.stop()
        html_dir.mkdir()
        (html_dir / "index.html").write_text("<h1>Livre</h1>")
        (html_dir / "cours").mkdir()
        (html_dir / "cours" / "page.html").write_text("<p>Page</p>")
        server = make_app(html_dir, "/services/book/").listen(port, "127.0.0.1")
        paths = ("/services/book/", "/services/book", "/services/book/cours/page.html",
                 "/services/book/absente.html", "/autre/")
        answers = [missing] + [await get(f"{base}{path}") for path in paths]
        server.stop()
        return answers

    # In a thread of its own: the browser tests' Playwright keeps an event loop in this one.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        missing, index, bare, page, absent, outside = pool.submit(asyncio.run, fetch_all()).result()
    assert missing.code == 404 and "autoformation book build" in missing.body.decode()
    assert index.code == 200 and b"Livre" in index.body
    assert bare.code == 301 and bare.headers["Location"] == "/services/book/"
    assert page.code == 200 and b"Page" in page.body
    assert absent.code == 404 and outside.code == 404


def test_service_port_comes_from_the_hub(monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:9123")
    assert listen_address(None) == ("127.0.0.1", 9123)
    assert listen_address(9200) == ("127.0.0.1", 9200)
    monkeypatch.delenv("JUPYTERHUB_SERVICE_URL")
    assert listen_address(None, 9300) == ("127.0.0.1", 9300)  # the settings' book.port


# --- the real courses -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_book_builds_with_the_real_courses(tmp_path):
    courses_dir = ROOT / "courses"
    courses = load_catalogue(courses_dir)
    if not courses:
        pytest.skip("courses/ has no course.yaml yet")
    conf = book_settings(tmp_path, courses_dir)
    result = book.build(conf, {"quick": True}, report=lambda line: None)
    check_site(result.html_dir, courses, conf.platform.url())
    check_no_hidden_tests(book.build_dir(conf) / "_build", courses)


@pytest.mark.slow
def test_the_sspcloud_export_points_at_book_pages_that_are_served(fixture_book):
    """`autoformation catalogue export`: each notebook's `articleUrl` is its page of the built book, served
    by the book service (200); the book carries the Onyxia init script and the learner package's wheel."""
    from autoformation.sspcloud import INIT_SCRIPT, export

    conf, result, _ = fixture_book
    assert (result.html_dir / INIT_SCRIPT).read_text().startswith("#!/bin/bash")
    assert list((result.html_dir / "telechargements").glob("autoformation-*.whl"))
    port = free_port()
    conf.platform.public_url = f"http://127.0.0.1:{port}"
    urls = [part["articleUrl"] for resource in export(conf) for part in resource["parts"]]
    assert len(urls) == 3 + 4  # the fixture course's notebooks, then the challenges' parcours (their book pages)

    async def fetch_all():
        client = AsyncHTTPClient()
        server = make_app(result.html_dir, "/services/book/").listen(port, "127.0.0.1")
        answers = [await client.fetch(url, raise_error=False) for url in urls]
        server.stop()
        return answers

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        answers = pool.submit(asyncio.run, fetch_all()).result()
    assert [(a.effective_url, a.code) for a in answers] == [(u, 200) for u in urls]
