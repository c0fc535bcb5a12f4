"""A determined learner against the grader: forged verdicts, leaked hidden tests, changes to the host.

Every case submits a *wrong* answer to an exercise together with an attack that, if it worked, would
make it pass (or leak, or change the host), and asserts the exact outcome: that exercise scores 0,
the others keep their honest grade, nothing of a hidden test in the feedback in any encoding, and
nothing changed on the host (venv, checkout, data folder, /tmp, /dev/shm). An honest submission graded
after all of them gets its right score.
"""

from __future__ import annotations

import base64
import os
import re
import socket
import zlib
from pathlib import Path

import nbformat
import pytest

from autoformation.grading.feedback import HIDDEN_BLOCK
from tests.grading.test_autograde import (  # noqa: F401 (fixtures)
    CORRECT,
    LIMITS,
    SOURCE,
    course,
    grade,
    platform,
    points,
    submission,
)

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
WRONG_DOUBLE = "def double(x):\n    return 4\n"
HONEST = {"ex1-tests": 2.0, "ex2-tests": 3.0, "ex3-tests": 1.0}

# name -> (answers, expected points): the attacked exercise gets 0, the others their honest grade.
FORGE = {
    "ast_transformer_drops_asserts": WRONG_DOUBLE + (
        "import ast\nclass Gomme(ast.NodeTransformer):\n    def visit_Assert(self, node):\n"
        "        return ast.Pass()\nget_ipython().ast_transformers.append(Gomme())"),
    "input_transformer_drops_asserts": WRONG_DOUBLE + (
        "get_ipython().input_transformers_cleanup.append(\n"
        "    lambda lines: [l for l in lines if 'assert' not in l])"),
    "input_transformer_post": WRONG_DOUBLE + (
        "get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])"),
    "run_cell_always_succeeds": WRONG_DOUBLE + (
        "ip = get_ipython()\nfrom IPython.core.interactiveshell import ExecutionResult\n"
        "ip.run_cell = lambda *a, **k: ExecutionResult(None)"),
    "showtraceback_silenced": WRONG_DOUBLE + (
        "ip = get_ipython()\nip.showtraceback = lambda *a, **k: None\n"
        "ip._showtraceback = lambda *a, **k: None\nip.set_custom_exc((BaseException,), lambda *a, **k: None)"),
    "forged_iopub_outputs": WRONG_DOUBLE + (
        "from IPython.display import publish_display_data\nip = get_ipython()\n"
        "def ok(*a):\n    publish_display_data({'text/plain': '2'})\n    print('Bravo, c\\'est juste !')\n"
        "ip.events.register('pre_run_cell', ok)\nip.events.register('post_run_cell', ok)"),
    "eq_always_true": ("class Tout:\n    def __eq__(self, other):\n        return True\n"
                       "    __hash__ = object.__hash__\ndef double(x):\n    return Tout()"),
    "int_subclass": ("class Faux(int):\n    def __eq__(self, other):\n        return True\n"
                     "    __hash__ = int.__hash__\ndef double(x):\n    return Faux(4)"),
    "float_subclass_ne": ("class F(float):\n    def __eq__(self, o):\n        return True\n"
                          "    def __ne__(self, o):\n        return False\n    __hash__ = float.__hash__\n"
                          "def double(x):\n    return F(0)"),
    "builtins_replaced": WRONG_DOUBLE + (
        "import builtins\nbuiltins.isinstance = lambda *a: True\nbuiltins.abs = lambda x: 0\n"
        "builtins.AssertionError = type('AssertionError', (Exception,), {})"),
    "builtin_names_shadowed": WRONG_DOUBLE + "isinstance = lambda *a: True\nlen = lambda x: 1\nprint = None",
    "rpc_module_replaced": WRONG_DOUBLE + (
        "import sys, json\nfrom IPython.display import publish_display_data\n"
        "sys.modules['_autoformation_rpc'].answer = lambda req: publish_display_data(\n"
        "    {'application/x-autoformation-value': json.dumps({'value': True})})"),
    "rpc_claims_int_class": WRONG_DOUBLE + (
        "import sys\nrpc = sys.modules['_autoformation_rpc']\n"
        "rpc._values._encode_importable = lambda v: {'t': 'import', 'module': 'builtins', 'v': 'int'}\n"
        "class Objet:\n    pass\ndef double(x):\n    return Objet()"),
    "rpc_answers_garbage": WRONG_DOUBLE + (
        "import sys\nfrom IPython.display import publish_display_data\n"
        "sys.modules['_autoformation_rpc'].answer = lambda req: publish_display_data(\n"
        "    {'application/x-autoformation-value': '{\"value\": {\"t\": \"import\", \"module\": \"os\", "
        "\"v\": \"system\"}}' * 3})"),
    "rpc_pickle_payload": WRONG_DOUBLE + (
        "import sys, json, pickle, base64\nfrom IPython.display import publish_display_data\n"
        "sys.modules['_autoformation_rpc'].answer = lambda req: publish_display_data(\n"
        "    {'application/x-autoformation-value': json.dumps({'value': {'t': 'pickle', "
        "'v': base64.b64encode(pickle.dumps(4)).decode()}})})"),
    "kill_runner": WRONG_DOUBLE + "import os, signal\nfor s in (signal.SIGKILL, signal.SIGTERM, signal.SIGSTOP):\n"
                                  "    os.kill(1, s)",
    "ptrace_runner": WRONG_DOUBLE + (
        "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
        "assert libc.ptrace(16, 1, 0, 0) == 0, 'ptrace refusé'"),
    "write_runner_memory": WRONG_DOUBLE + "open('/proc/1/mem', 'wb').write(b'x')",
    "replace_runner_source": WRONG_DOUBLE + "open('/opt/correcteur/runner.py', 'a').write('\\nVERDICT = True\\n')",
    "write_venv": WRONG_DOUBLE + (
        "import os, sys\nopen(os.path.join(sys.prefix, 'lib', 'evil.pth'), 'w').write('import os')"),
    "sitecustomize_in_tmp": WRONG_DOUBLE + (
        "import os\nos.makedirs('/tmp/py', exist_ok=True)\n"
        "open('/tmp/py/sitecustomize.py', 'w').write('import builtins; builtins.isinstance = lambda *a: True')\n"
        "open('/home/apprenant/sitecustomize.py', 'w').write('raise SystemExit')"),
    "tamper_trainer_files": WRONG_DOUBLE + "open('/srv/exercice/communes.csv', 'a').write('x,1\\n')",
    "read_shadow": WRONG_DOUBLE + "open('/etc/shadow').read()",
    "git_show_checkout": WRONG_DOUBLE + (
        "import subprocess\nout = subprocess.run(['git', '-C', '{root}', 'show', 'HEAD:courses'], "
        "capture_output=True, text=True)\nassert out.returncode == 0, out.stderr"),
    "host_unix_socket": WRONG_DOUBLE + (
        "import socket\ns = socket.socket(socket.AF_UNIX)\ns.connect('{socket}')"),
    "setuid_root": WRONG_DOUBLE + "import os\nos.setuid(0)",
    # 200 MB on the kernel's channel: the runner drops it instead of holding it in memory.
    "huge_message": WRONG_DOUBLE + (
        "from IPython.display import publish_display_data\n"
        "publish_display_data({'application/x-autoformation-value': 'x' * (200 * 1024 * 1024)})"),
}


def secrets_of(source: Path) -> list[str]:
    """Every hidden test line, and its reversed, base64 and zlib+base64 forms."""
    nb = nbformat.read(source, as_version=4)
    lines = [line.strip() for cell in nb.cells for block in HIDDEN_BLOCK.findall(cell.source)
             for line in block.splitlines() if len(line.strip()) >= 8]
    forms = []
    for line in lines:
        raw = line.encode()
        forms += [line, line[::-1], base64.b64encode(raw).decode()[:24],
                  base64.b64encode(zlib.compress(raw)).decode()[:24]]
    return forms


def assert_nothing_leaked(html: str):
    text = html.replace("&quot;", '"').replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">")
    for form in secrets_of(SOURCE):
        assert form not in text, form


def snapshot(*roots: Path) -> dict[str, tuple[int, int]]:
    """Size and modification time of every file (a write changes them)."""
    seen = {}
    for root in roots:
        for path, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if d not in ("test-artifacts", "__pycache__", ".pytest_cache",
                                                          "node_modules"))
            for name in sorted(files):
                full = os.path.join(path, name)
                try:
                    st = os.lstat(full)
                except OSError:
                    continue
                seen[full] = (st.st_size, st.st_mtime_ns)
    return seen


def listing(path: str) -> set[str]:
    """Entries a sandbox could have left: owned by a sandbox uid, or named like its staging or a kernel's."""
    from autoformation.grading.executor import SANDBOX_UIDS, STAGING_PREFIX

    found = set()
    for entry in os.scandir(path) if os.path.isdir(path) else ():
        try:
            owner = entry.stat(follow_symlinks=False).st_uid
        except OSError:
            continue
        if owner in SANDBOX_UIDS or entry.name.startswith((STAGING_PREFIX, "kernel-")):
            found.add(entry.name)
    return found


@pytest.fixture(scope="module")
def host(platform, tmp_path_factory):  # noqa: F811
    sock_dir = tmp_path_factory.mktemp("sock")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(sock_dir / "hub.sock"))
    server.listen(1)
    # The data folder minus the gradebook, which grading writes on purpose.
    roots = [ROOT / ".venv", ROOT / "src", ROOT / "courses", Path(platform["settings"].data_dir) / "homes"]
    before = (snapshot(*roots), listing("/tmp"), listing("/dev/shm"))
    yield {"socket": str(sock_dir / "hub.sock"), "roots": roots, "before": before}
    server.close()


def attack(name: str, host) -> nbformat.NotebookNode:
    code = FORGE[name].replace("{root}", str(ROOT)).replace("{socket}", host["socket"])
    return submission(ex1_solution=code)


@pytest.mark.parametrize("name", sorted(FORGE))
def test_attack_earns_nothing_and_leaks_nothing(course, platform, host, name):  # noqa: F811
    result = grade(course, platform, attack(name, host))
    # Attacks on the whole kernel may also cost the learner their other exercises, or time out.
    assert result.status in ("graded", "timeout"), result.message
    got = points(result)
    assert got["ex1-tests"] == 0.0 and all(got[k] <= HONEST[k] for k in HONEST), (name, got)
    assert_nothing_leaked(result.feedback_html)


LEAKS = {
    # Hidden tests never enter the learner's kernel; whatever it prints while grading is dropped.
    "history_printed": "print(In, Out)\nprint(get_ipython().user_ns.get('_ih'))",
    "event_hook_prints_sources": (
        "import base64, zlib\nip = get_ipython()\n"
        "ip.events.register('pre_run_cell', lambda info: print(base64.b64encode(zlib.compress("
        "info.raw_cell.encode())).decode(), info.raw_cell[::-1]))"),
    "arguments_echoed": (
        "import sys\ndef majuscules(mots):\n    print('ARGS', mots, file=sys.stderr)\n"
        "    raise ValueError(repr(mots)[::-1])"),
}


@pytest.mark.parametrize("name", sorted(LEAKS))
def test_feedback_carries_no_hidden_test(course, platform, host, name):  # noqa: F811
    nb = submission(ex3_solution=CORRECT["ex3-solution"] + "\n" + LEAKS[name])
    result = grade(course, platform, nb)
    assert result.status == "graded"
    assert_nothing_leaked(result.feedback_html)
    assert "['bé', 'x']"[::-1] not in result.feedback_html and "ARGS ['b" not in result.feedback_html


def test_learner_html_is_sanitised(course, platform):  # noqa: F811
    nb = submission()
    for cell in nb.cells:
        if cell.id == "ex1-solution":
            cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": (
                "<script>window.parent.location='https://pirate.example'</script>"
                "<img src=x onerror=\"alert(1)\"><div style=\"position:fixed;top:0;left:0;width:100%;"
                "height:100%;z-index:9999\">Note : 6/6</div><b>mon graphique</b>")})]
    result = grade(course, platform, nb)
    assert result.score == 6.0
    page = result.feedback_html
    # Disallowed tags come out as inert text; no script runs, no handler, no overlay.
    assert "<script>window.parent" not in page and not re.search(r"<img[^>]*onerror", page)
    assert "z-index:9999" not in page and "<div>Note : 6/6</div>" in page
    assert "mon graphique" in page


def test_host_unchanged_and_honest_grade_after_the_attacks(course, platform, host):  # noqa: F811
    result = grade(course, platform, submission())
    assert (result.score, points(result)) == (6.0, HONEST)
    before_hash, before_tmp, before_shm = host["before"]
    after = snapshot(*host["roots"])
    changed = sorted(p for p in set(after) | set(before_hash) if after.get(p) != before_hash.get(p))
    assert not changed
    assert listing("/tmp") - before_tmp == set() and listing("/dev/shm") - before_shm == set()
