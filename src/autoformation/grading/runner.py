"""The grading runner: pid 1 of the sandbox, the only judge of a submission.

It runs the learner's cells in a kernel of their own (a child process, under resource limits) and
runs every test cell in *its own* interpreter, which learner code never touches: names the test
needs come out of the kernel as plain data (values.py) or as handles whose operations happen in
the kernel and return plain data again. So a kernel hook, a forged output, an `__eq__` that always
answers True or a replaced `isinstance` cannot change a verdict, and hidden tests never enter the
kernel (only the arguments of the calls they make).

Started by executor.py as `python -I runner.py` inside bubblewrap; reads one JSON request on stdin,
writes one JSON reply on a private copy of stdout no other process inherits or can reach (it makes
itself non-dumpable before the kernel starts). Standalone: only values.py and kernel_side.py beside it.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import ctypes
import io
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import values  # noqa: E402

MIME = "application/x-autoformation-value"
HIDDEN = re.compile(r"^\s*### (BEGIN|END) HIDDEN TESTS\s*$")
HIDDEN_FAILURE = "Un test caché a échoué : votre réponse ne convient pas dans tous les cas."
HIDDEN_HINT = "Un test caché a échoué : "  # + the trainer's hint
# pandas uses pyarrow when it is installed, and pyarrow's default allocator reserves about 1 GB of address
# space: under the sandbox's address-space limit the kernel then hangs creating its threads. The system
# allocator reserves nothing ahead. (For the runner's own pandas too.)
ARROW_POOL = "system"
os.environ["ARROW_DEFAULT_MEMORY_POOL"] = ARROW_POOL
BUILTIN_NAMES = frozenset(dir(builtins))
MAX_REPLY_BYTES = 64 * 1024 * 1024
DEBUG = False


class KernelTimeout(Exception):
    pass


class KernelDied(Exception):
    pass


class RemoteError(Exception):
    """An error raised by learner code the runner cannot rebuild as a library exception."""


# --- the learner's kernel --------------------------------------------------------------------------
class Kernel:
    def __init__(self, workdir: str, runtime: str, limits: dict):
        from jupyter_client import BlockingKernelClient
        from jupyter_client.connect import write_connection_file

        self.limits = limits
        os.makedirs(runtime, exist_ok=True)
        conn, _ = write_connection_file(os.path.join(runtime, "kernel.json"), transport="ipc",
                                        ip=os.path.join(runtime, "kernel-ipc"))
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": workdir, "LANG": "C.UTF-8",
               "JUPYTER_RUNTIME_DIR": runtime, "MPLBACKEND": "agg", "PYDEVD_DISABLE_FILE_VALIDATION": "1",
               "ARROW_DEFAULT_MEMORY_POOL": ARROW_POOL}
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-m", "ipykernel_launcher", "-f", conn, "--HistoryManager.enabled=False"],
            cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=lambda: set_limits(limits), close_fds=True,
        )
        import zmq

        # Bigger messages drop the connection instead of filling this process's memory.
        context = zmq.Context()
        context.setsockopt(zmq.MAXMSGSIZE, MAX_REPLY_BYTES)
        self.client = BlockingKernelClient(connection_file=conn, context=context)
        self.client.load_connection_file()
        self.client.start_channels()
        self.wait_ready(60)

    def wait_ready(self, timeout: float) -> None:
        """The kernel answers kernel_info on the shell *and* its status reaches us on iopub (a subscription
        is only live some time after connecting: until then the kernel's messages are lost)."""
        deadline = time.monotonic() + timeout
        sent: set[str] = set()
        shell_ok = iopub_ok = False
        while time.monotonic() < deadline:
            if not self.alive():
                raise KernelDied
            sent.add(self.client.kernel_info())
            until = time.monotonic() + 0.5
            while time.monotonic() < until and not (shell_ok and iopub_ok):
                if self.client.shell_channel.socket.poll(20):
                    reply = self.client.get_shell_msg(timeout=0)
                    shell_ok = shell_ok or reply.get("parent_header", {}).get("msg_id") in sent
                if self.client.iopub_channel.socket.poll(20):
                    msg = self.client.get_iopub_msg(timeout=0)
                    iopub_ok = iopub_ok or msg.get("parent_header", {}).get("msg_id") in sent
            if shell_ok and iopub_ok:
                return
        raise RuntimeError("the kernel did not start")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def execute(self, code: str, timeout: float, store_history: bool = True) -> tuple[str, list]:
        """(status, our mime payloads published meanwhile); iopub is drained and otherwise ignored."""
        import zmq

        msg_id = self.client.execute(code, silent=False, store_history=store_history, allow_stdin=False)
        deadline = time.monotonic() + timeout
        status, payloads, idle = None, [], False
        poller = zmq.Poller()
        poller.register(self.client.iopub_channel.socket, zmq.POLLIN)
        poller.register(self.client.shell_channel.socket, zmq.POLLIN)
        while status is None or not idle:
            left = deadline - time.monotonic()
            if left <= 0:
                raise KernelTimeout
            if not self.alive():
                raise KernelDied
            ready = dict(poller.poll(min(left, 0.5) * 1000))
            if self.client.iopub_channel.socket in ready:
                msg = self.client.get_iopub_msg(timeout=0)
                if msg.get("parent_header", {}).get("msg_id") == msg_id:
                    content = msg.get("content", {})
                    if msg["msg_type"] == "status" and content.get("execution_state") == "idle":
                        idle = True
                    elif msg["msg_type"] == "display_data" and MIME in content.get("data", {}):
                        payloads.append(content["data"][MIME])
            if self.client.shell_channel.socket in ready:
                reply = self.client.get_shell_msg(timeout=0)
                if reply.get("parent_header", {}).get("msg_id") == msg_id:
                    status = reply.get("content", {}).get("status", "error")
        return status, payloads

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.client.stop_channels()
        with contextlib.suppress(Exception):
            self.proc.kill()


# --- learner values, seen from the runner ----------------------------------------------------------
class Remote:
    """Asks the kernel, returns plain data. One per grading."""

    def __init__(self, kernel: Kernel, timeout: float):
        self.kernel, self.timeout = kernel, timeout
        self.generation = 0  # bumped by anything that may change learner state

    def ask(self, **request):
        if request.get("op") != "name":
            self.generation += 1
        code = f"__import__('sys').modules['_autoformation_rpc'].answer({json.dumps(json.dumps(request))})"
        status, payloads = self.kernel.execute(code, self.timeout, store_history=False)
        if not payloads or not isinstance(payloads[-1], str) or len(payloads[-1]) > MAX_REPLY_BYTES:
            raise RemoteError("la valeur n'a pas pu être lue dans votre noyau")
        try:
            reply = json.loads(payloads[-1])
            if "error" in reply:
                err = self.error(reply["error"])
            else:
                return values.decode(reply["value"], self.handle)
        except (ValueError, TypeError, KeyError, RecursionError, AttributeError, ImportError) as bad:
            raise RemoteError(f"valeur illisible ({type(bad).__name__})") from None
        raise err  # the learner's own exception (AttributeError keeps hasattr() right)

    def handle(self, data: dict):
        if type(data.get("id")) is not int:
            raise ValueError("bad handle")
        return Handle(self, data)

    def error(self, data: dict) -> Exception:
        """The learner's exception as the library's own class when it has one (tests catch those)."""
        message = str(data.get("message", ""))[:2000]
        cls = RemoteError
        claim = data.get("class") or {}
        if claim.get("t") == "import":
            with contextlib.suppress(Exception):
                found = values.import_object(claim["module"], claim["v"])
                if isinstance(found, type) and issubclass(found, Exception):
                    cls = found
        remote = self.handle(data["handle"]) if isinstance(data.get("handle"), dict) else None
        try:
            err = cls.__new__(cls)
            err.args = (message,)
        except Exception:
            err = RemoteError(message)
        if remote is not None and cls is not RemoteError:
            # Attributes the runner's copy lacks (e.g. requests' `response`) are read from the learner's.
            with contextlib.suppress(Exception):
                proxy_cls = type(cls.__name__, (cls,), {"__getattr__": lambda self, name: getattr(remote, name),
                                                         "__module__": cls.__module__})
                err = proxy_cls.__new__(proxy_cls)
                err.args = (message,)
        return err


class Handle:
    """A learner object that is not data: every operation happens in the kernel."""

    __slots__ = ("_remote", "_id", "_type", "_class")

    def __init__(self, remote: Remote, data: dict):
        object.__setattr__(self, "_remote", remote)
        object.__setattr__(self, "_id", data["id"])
        object.__setattr__(self, "_type", str(data.get("type", "?"))[:200])
        claim, cls = data.get("class") or {}, None
        if claim.get("t") == "import":
            with contextlib.suppress(Exception):
                cls = values.import_object(claim["module"], claim["v"])
        object.__setattr__(self, "_class", cls if isinstance(cls, type) else None)

    def _ask(self, op, **kw):
        return object.__getattribute__(self, "_remote").ask(op=op, h=object.__getattribute__(self, "_id"), **kw)

    @property
    def __class__(self):  # isinstance(model, Pipeline) works on the class the object claims
        return object.__getattribute__(self, "_class") or Handle

    def __getattr__(self, name):
        return self._ask("getattr", attr=name)

    def __call__(self, *args, **kwargs):
        return self._ask("call", args=[encode_arg(a) for a in args],
                         kwargs=[[k, encode_arg(v)] for k, v in kwargs.items()])

    def __getitem__(self, key):
        return self._ask("getitem", key=encode_arg(key))

    def __len__(self):
        n = self._ask("len")
        if type(n) is not int:
            raise TypeError("len() of a learner object is not an int")
        return n

    def __iter__(self):
        items = self._ask("iter")
        if type(items) is not list:
            raise TypeError("learner object is not iterable")
        return iter(items)

    def __contains__(self, item):
        return self._ask("contains", item=encode_arg(item)) is True

    def __bool__(self):
        return self._ask("bool") is True

    def __str__(self):
        return str(self._ask("str"))

    def __repr__(self):
        return str(self._ask("repr"))

    def __eq__(self, other):  # identity only: a learner object's own __eq__ never decides
        return self is other

    def __hash__(self):
        return hash(object.__getattribute__(self, "_id"))


def encode_arg(value):
    return values.encode(value, lambda h: _handle_ref(h))


def _handle_ref(obj):
    if type(obj) is Handle or isinstance(obj, Handle):
        return {"t": "handle", "id": object.__getattribute__(obj, "_id")}
    raise values.NotPlain(f"{type(obj).__name__} cannot be sent to the learner's kernel")


class TestNamespace(dict):
    """Globals of the test cells: trusted imports and the tests' own names first, then the learner's
    values, fetched at each use (a name read twice is asked twice: learner state may have changed)."""

    def __init__(self, remote: Remote, trusted: dict):
        super().__init__({"__builtins__": builtins, "__name__": "__tests__"})
        self.remote, self.trusted = remote, trusted
        self.fetched: dict = {}  # name -> (generation, value): read again only once learner code ran

    def __missing__(self, name):
        if name in BUILTIN_NAMES or name.startswith("__"):
            raise KeyError(name)
        if name in self.trusted:
            try:
                exec(self.trusted.pop(name), self)
                return self[name]
            except Exception:  # noqa: BLE001 (not importable here: the learner's value, as under nbgrader)
                pass
        cached = self.fetched.get(name)
        if cached and cached[0] == self.remote.generation:
            return cached[1]
        try:
            value = self.remote.ask(op="name", name=name)
        except NameError:
            raise KeyError(name) from None
        self.fetched[name] = (self.remote.generation, value)
        return value


class NoLearner:
    """The Remote of a grading without learner code: no learner names to find."""

    generation = 0

    def ask(self, **_):
        raise NameError("no learner code in this grading")


def assigned_names(code: str) -> list[str]:
    """Top-level names a test cell binds: later learner cells may use them, as under nbgrader."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    names = []
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        else:
            continue
        for target in targets:
            for sub in ast.walk(target):
                if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                    names.append(sub.id)
    return list(dict.fromkeys(names))


def share_names(code: str, ns: dict, remote: Remote) -> None:
    if isinstance(remote, NoLearner):
        return
    for name in assigned_names(code):
        if name in ns:
            with contextlib.suppress(Exception):
                remote.ask(op="set", name=name, value=encode_arg(ns[name]))


def getsource(obj, _original=None):
    """inspect.getsource on a learner function: its source, from the kernel."""
    if type(obj) is Handle:
        return str(obj._ask("source"))
    return _original(obj)


def install_inspect_shim() -> None:
    import functools
    import inspect

    inspect.getsource = functools.partial(getsource, _original=inspect.getsource)


def trusted_imports(source: str) -> dict:
    """The import statements of the trainer's notebook, by the name each binds: run here, on first use,
    so `pd`, `train_test_split`... are the runner's own, whatever the learner rebinds those names to."""
    lazy: dict = {}
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return lazy
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)) and not getattr(node, "level", 0):
            for alias in node.names:
                if alias.name == "*":
                    continue
                bound = alias.asname or alias.name.split(".")[0]
                one = type(node)(**{**{f: getattr(node, f) for f in node._fields}, "names": [alias]})
                lazy[bound] = compile(ast.fix_missing_locations(ast.Module([one], [])), "<imports>", "exec")
    return lazy


def split_test(source: str) -> tuple[str, str]:
    before, hidden, after = split_test_parts(source)
    return "\n".join(p for p in (before, after) if p), hidden


def split_test_parts(source: str) -> tuple[str, str, str]:
    """(visible lines before the hidden block, the hidden lines, visible lines after it): a success
    message printed after the hidden tests is printed only if they pass."""
    parts, inside, seen_hidden = ([], [], []), False, False
    for line in source.splitlines():
        match = HIDDEN.match(line)
        if match:
            inside = match.group(1) == "BEGIN"
            seen_hidden = True
            continue
        parts[1 if inside else (2 if seen_hidden else 0)].append(line)
    return tuple("\n".join(part) for part in parts)


def hidden_hint(err: BaseException, hidden: str) -> str | None:
    """The failed hidden assert's message if the trainer wrote it as a plain string (a hint for learners)."""
    if not isinstance(err, AssertionError) or not str(err):
        return None
    try:
        tree = ast.parse(hidden)
    except SyntaxError:
        return None
    hints = {node.msg.value for node in ast.walk(tree) if isinstance(node, ast.Assert)
             and isinstance(node.msg, ast.Constant) and isinstance(node.msg.value, str)}
    return str(err) if str(err) in hints else None


@contextlib.contextmanager
def alarm(seconds: int):
    def ring(*_):
        raise KernelTimeout

    old = signal.signal(signal.SIGALRM, ring)
    signal.alarm(max(1, int(seconds)))
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _run_visible(code: str, ns: TestNamespace, timeout: int, out: io.StringIO) -> dict | None:
    """Run a visible part of a test; the error output when it fails (its message is for the learner)."""
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()), alarm(timeout):
            exec(compile(code, "<test>", "exec"), ns)
    except KernelTimeout:
        raise
    except Exception as err:  # noqa: BLE001
        return error_output(type(err).__name__, traceback.format_exc()[-3000:] if DEBUG else str(err)[:2000])
    return None


def run_test(source: str, ns: TestNamespace, timeout: int) -> tuple[bool, list]:
    """(passed, outputs): the visible parts' prints and messages; of the hidden part, only a trainer's hint."""
    before, hidden, after = split_test_parts(source)
    out = io.StringIO()
    failed = _run_visible(before, ns, timeout, out)
    outputs = [stream(out.getvalue())] if out.getvalue() else []
    if failed:
        return False, outputs + [failed]
    if hidden.strip():
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()), alarm(timeout):
                exec(compile(hidden, "<test>", "exec"), ns)
        except KernelTimeout:
            raise
        except Exception as err:  # noqa: BLE001 (nothing of a hidden test goes out: no message, no traceback)
            if DEBUG:  # trainers' own diagnosis (`courses check`), never the service
                return False, outputs + [error_output(type(err).__name__, traceback.format_exc()[-3000:])]
            hint = hidden_hint(err, hidden)
            return False, outputs + [error_output("AssertionError", HIDDEN_HINT + hint if hint else HIDDEN_FAILURE)]
    out = io.StringIO()
    failed = _run_visible(after, ns, timeout, out)
    outputs += [stream(out.getvalue())] if out.getvalue() else []
    return not failed, outputs + ([failed] if failed else [])


def stream(text: str) -> dict:
    return {"output_type": "stream", "name": "stdout", "text": text[:20000]}


def error_output(ename: str, evalue: str) -> dict:
    return {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": [f"{ename}: {evalue}"]}


# --- limits and isolation -------------------------------------------------------------------------
def set_limits(limits: dict) -> None:
    mb = 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limits["memory_mb"] * mb,) * 2)
    resource.setrlimit(resource.RLIMIT_CPU, (limits["cpu_seconds"], limits["cpu_seconds"] + 5))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["max_file_mb"] * mb,) * 2)
    resource.setrlimit(resource.RLIMIT_NPROC, (limits["max_processes"],) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.setsid()


def make_private() -> int:
    """The reply channel: stdout moved to a non-inheritable fd; this process made non-dumpable so that
    no other process of the sandbox (same uid) can ptrace it or open its /proc/<pid>/fd."""
    libc = ctypes.CDLL(None, use_errno=True)
    # Die with bwrap: its --die-with-parent was cleared when setpriv changed our uid.
    if libc.prctl(1, signal.SIGKILL, 0, 0, 0) != 0:  # PR_SET_PDEATHSIG
        raise OSError(ctypes.get_errno(), "cannot set the parent-death signal")
    if libc.prctl(4, 0, 0, 0, 0) != 0:  # PR_SET_DUMPABLE
        raise OSError(ctypes.get_errno(), "cannot become non-dumpable")
    reply_fd = os.dup(1)
    os.set_inheritable(reply_fd, False)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (1, 2):
        os.dup2(devnull, fd)
    return reply_fd


# --- one grading ----------------------------------------------------------------------------------
def grade(request: dict) -> dict:
    global DEBUG
    limits, workdir, exercise = request["limits"], request["workdir"], request["exercise"]
    DEBUG = request.get("debug") is True
    for entry in os.scandir(exercise):  # the learner's working copy (the tmpfs root is not ours to chmod)
        target = os.path.join(workdir, entry.name)
        (shutil.copytree if entry.is_dir() else shutil.copyfile)(entry.path, target)
    trusted = trusted_imports(request.get("imports", ""))
    install_inspect_shim()
    os.chdir(exercise)  # tests read the trainer's files, which learner code cannot change (read-only)
    # No learner code (a challenge's scorer on checked predictions): no kernel to start or to ask.
    kernel = Kernel(workdir, request["runtime"], limits) if any(c["kind"] == "code" for c in request["cells"]) \
        else None
    tests, status, outcome, at = {}, {}, "done", None
    started = time.monotonic()
    try:
        if kernel is not None:
            with open(os.path.join(HERE, "values.py")) as f1, open(os.path.join(HERE, "kernel_side.py")) as f2:
                sources = (("_autoformation_values", f1.read()), ("_autoformation_rpc", f2.read()))
            boot = ("import sys as _s, types as _t\n"
                    f"for _n, _src in {sources!r}:\n"
                    "    _m = _t.ModuleType(_n); _s.modules[_n] = _m; exec(_src, _m.__dict__)\n"
                    "del _s, _t, _n, _src, _m\n")
            kernel.execute(boot, 60, store_history=False)
        ns = TestNamespace(Remote(kernel, limits["cell_timeout"]) if kernel else NoLearner(), trusted)
        for index, cell in enumerate(request["cells"]):
            at = index
            if cell["kind"] == "test":
                passed, outputs = run_test(cell["source"], ns, limits["cell_timeout"])
                share_names(split_test(cell["source"])[0], ns, ns.remote)
                tests[str(index)] = {"passed": passed, "outputs": outputs}
            elif cell["kind"] == "code":
                status[str(index)], _ = kernel.execute(cell["source"], limits["cell_timeout"])
                ns.remote.generation += 1  # learner code ran: the values the tests read may have changed
        at = None
    except KernelTimeout:
        outcome = "timeout"
    except KernelDied:
        outcome = "dead"
    finally:
        if kernel is not None:
            kernel.stop()
    return {"outcome": outcome, "cell": at, "status": status, "tests": tests,
            "seconds": round(time.monotonic() - started, 2)}


def main() -> int:
    request = json.loads(sys.stdin.buffer.read())
    reply_fd = make_private()
    try:
        reply = grade(request)
    except Exception as err:  # noqa: BLE001
        reply = {"outcome": "error", "error": "".join(traceback.format_exception_only(err))[:1000]}
    with os.fdopen(reply_fd, "wb") as out:
        out.write(json.dumps(reply).encode())
    os._exit(0)  # pid 1: whatever learner code left behind dies with us


if __name__ == "__main__":
    sys.exit(main())
