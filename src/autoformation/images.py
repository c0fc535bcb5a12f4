"""`autoformation images build [NAME ...]`: build the learner container images from images/.

The base image (images/base) is built first, then each course image on top of it. Images are
tagged `autoformation-<name>:<courses.version>` (the names the spawners use) and, with
``--registry``, also `<registry>/autoformation-<name>:<version>` for pushing to a cluster.

Engine: a working Docker engine if there is one, else Podman. With ``--local-podman`` (what the
tests use on machines without Docker and without a registry), Podman is set up in a project
folder: runc, ulimits under the host's hard limits, its own storage, and a `debian:bookworm-slim`
made with debootstrap. Builds are cached: an image whose inputs (the files it copies) are
unchanged since it was built is not rebuilt.

Each build gets only what its Dockerfile copies (a staged context laid out like the repository),
so .venv, node_modules and data/ are never sent, and a course image's release is exactly the
released material of the courses using it (data/release/<course>/, `autoformation courses release`).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from autoformation.catalogue import CourseError, load_catalogue
from autoformation.notebooks import IGNORED_FOLDERS, hash_tree
from autoformation.settings import PROJECT_ROOT, SettingsError, load

IMAGES_DIR = PROJECT_ROOT / "images"
BASE = "base"
BASE_OS = "docker.io/library/debian:bookworm-slim"
INPUTS_LABEL = "org.autoformation.inputs"
HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")
BUILD_CA = "/run/autoformation-ca.crt"  # where the host's CA bundle is mounted during builds
# Files of the repository the base image copies (besides images/base/).
BASE_INPUTS = ("pyproject.toml", "README.md", "src/autoformation", "hub_config/ipython/ipython_kernel_config.py",
               "hub_config/jupyter", "hub_config/jupyter-learner",
               "build/labextension")  # the "Soumettre" button, built by `make install`
HUB = "hub"  # the chart's hub image (images/hub): built from the project, not from base
BOOK = "book"  # the built book's HTML (images/book), for the hub pod's init container
HUB_INPUTS = ("pyproject.toml", "README.md", "src/autoformation")


class ImageError(RuntimeError):
    """A build could not run or failed; the message names the image and the failing step."""


# --- engines -------------------------------------------------------------------------------------


@dataclass
class Engine:
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)
    build_options: list[str] = field(default_factory=list)  # e.g. CA mount, --network=host

    @property
    def name(self) -> str:
        return Path(self.command[0]).name

    def environ(self) -> dict[str, str]:
        return {**os.environ, **self.env}

    def run(self, *args: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
        result = subprocess.run([*self.command, *args], env=self.environ(), capture_output=True, text=True, **kwargs)
        if check and result.returncode != 0:
            raise ImageError(f"{self.name} {' '.join(args[:2])} failed: {result.stderr.strip()[-2000:]}")
        return result

    def image_label(self, image: str, label: str) -> str | None:
        """The image's label value, or None if the image is not there."""
        result = self.run("image", "inspect", "--format", f'{{{{index .Config.Labels "{label}"}}}}', image, check=False)
        if result.returncode != 0:
            return None
        return result.stdout.strip()

    def has_image(self, image: str) -> bool:
        return self.run("image", "inspect", image, check=False).returncode == 0


def _works(command: list[str], env: dict[str, str] | None = None) -> bool:
    """Is there an engine behind this client? (`docker` may be a client with no daemon.)"""
    if not shutil.which(command[0]):
        return False
    try:
        result = subprocess.run([*command, "info"], env={**os.environ, **(env or {})}, capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def local_podman(state_dir: Path) -> Engine:
    """Podman with its configuration and storage in `state_dir` (idempotent).

    runc (crun fails on hybrid cgroups), default ulimits below the host's hard limits
    (containers fail to start otherwise), file-based events (no systemd journal here).
    """
    import resource

    if not shutil.which("podman"):
        raise ImageError("podman is not installed (apt-get install podman runc debootstrap)")
    state_dir = Path(state_dir).resolve()  # podman wants absolute paths
    state_dir.mkdir(parents=True, exist_ok=True)
    hard_nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    hard_nproc = resource.getrlimit(resource.RLIMIT_NPROC)[1]
    nofile = 1024 if hard_nofile == resource.RLIM_INFINITY else min(1024, hard_nofile)
    nproc = 4096 if hard_nproc == resource.RLIM_INFINITY else min(4096, hard_nproc)
    runtime = shutil.which("runc") or "runc"
    conf = state_dir / "containers.conf"
    conf.write_text(
        "[containers]\n"
        f'default_ulimits = ["nofile={nofile}:{nofile}", "nproc={nproc}:{nproc}"]\n'
        "[engine]\n"
        f'runtime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n'
        f'[engine.runtimes]\nrunc = ["{runtime}"]\n'
    )
    storage = state_dir / "storage.conf"
    storage.write_text(
        f'[storage]\ndriver = "overlay"\ngraphroot = "{state_dir / "storage"}"\nrunroot = "{state_dir / "run"}"\n'
    )
    env = {"CONTAINERS_CONF": str(conf), "CONTAINERS_STORAGE_CONF": str(storage)}
    return Engine(["podman"], env=env)


def find_engine(state_dir: Path, prefer_local_podman: bool = False) -> Engine:
    """A working Docker engine, else Podman (set up in `state_dir` when asked or when it is the only way)."""
    if not prefer_local_podman and _works(["docker"]):
        return Engine(["docker"])
    if not prefer_local_podman and _works(["podman"]):
        return Engine(["podman"])
    engine = local_podman(state_dir)
    if not _works(engine.command, engine.env):
        detail = engine.run("info", check=False).stderr.strip()[-1000:]
        raise ImageError(f"no working container engine: docker has no engine and podman fails: {detail}")
    return engine


def ensure_base_os(engine: Engine, state_dir: Path, log=print) -> None:
    """`debian:bookworm-slim` for machines that cannot pull: debootstrap once, then import (cached)."""
    if engine.has_image(BASE_OS):
        return
    if not shutil.which("debootstrap"):
        raise ImageError(f"{BASE_OS} is not available and debootstrap is not installed to make it")
    rootfs = state_dir / "debootstrap-bookworm"
    done = rootfs / ".autoformation-complete"
    if not done.exists():
        shutil.rmtree(rootfs, ignore_errors=True)
        log(f"making {BASE_OS} with debootstrap (once per machine) ...")
        start = time.monotonic()
        result = subprocess.run(
            ["debootstrap", "--variant=minbase", "bookworm", str(rootfs), "http://deb.debian.org/debian"],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise ImageError(f"debootstrap failed: {_tail(result.stdout + result.stderr)}")
        # Like the official slim image: the apt sources a build's `apt-get update` needs.
        (rootfs / "etc/apt/sources.list").write_text(
            "deb http://deb.debian.org/debian bookworm main\n"
            "deb http://deb.debian.org/debian bookworm-updates main\n"
            "deb http://deb.debian.org/debian-security bookworm-security main\n"
        )
        shutil.rmtree(rootfs / "var/cache/apt/archives", ignore_errors=True)
        (rootfs / "var/cache/apt/archives/partial").mkdir(parents=True, exist_ok=True)
        done.touch()
        log(f"debootstrap done in {time.monotonic() - start:.0f} s")
    tar = subprocess.Popen(
        ["tar", "-C", str(rootfs), "--exclude", "./.autoformation-complete", "-c", "."], stdout=subprocess.PIPE
    )
    result = subprocess.run(
        [*engine.command, "import", "--change", 'CMD ["bash"]', "-", BASE_OS],
        stdin=tar.stdout,
        env=engine.environ(),
        capture_output=True,
        text=True,
    )
    tar.wait()
    if result.returncode != 0 or tar.returncode != 0:
        raise ImageError(f"importing {BASE_OS} failed: {result.stderr.strip()[-1000:]}")


# --- what to build -------------------------------------------------------------------------------


def image_names(images_dir: Path = IMAGES_DIR) -> list[str]:
    """Every image folder (one with a Dockerfile), base first: the build order."""
    names = sorted(p.parent.name for p in images_dir.glob("*/Dockerfile"))
    return ([BASE] if BASE in names else []) + [n for n in names if n != BASE]


def tag(name: str, version: str, registry: str = "") -> str:
    prefix = f"{registry.rstrip('/')}/" if registry else ""
    return f"{prefix}autoformation-{name}:{version}"


def _digest_paths(paths: list[tuple[str, Path]]) -> str:
    """A digest of files and folders (their labels in the build context, their relative names and contents)."""
    digest = hashlib.sha256()
    for label, path in paths:
        digest.update(label.encode() + b"\0" + bytes.fromhex(hash_tree(path)))
    return digest.hexdigest()


@dataclass
class Build:
    """One image to build: its staged context files (destination in the context -> source)."""

    name: str
    files: list[tuple[str, Path]]
    base_digest: str = ""  # the course images' inputs include the base image's

    def digest(self) -> str:
        return hashlib.sha256((self.base_digest + _digest_paths(self.files)).encode()).hexdigest()


def plan(names: list[str], release_dir: Path, courses_dir: Path, images_dir: Path = IMAGES_DIR,
         challenges_dir: Path | None = None, book_html: Path | None = None) -> list[Build]:
    """The builds for `names` (and base, which every course image needs), in dependency order. A course
    image also carries the released Funathon challenges that run in it (`image:` in challenge.yaml). The
    book's image needs the book built (`book_html`); with no names, it is built when the book is."""
    available = image_names(images_dir)
    unknown = [n for n in names if n not in available]
    if unknown:
        raise ImageError(f"no image '{unknown[0]}' (images/ has: {', '.join(available)})")
    built_book = book_html is not None and (book_html / "index.html").is_file()
    wanted = names or [n for n in available if n != BOOK or built_book]
    builds = []
    if BOOK in wanted:
        if not built_book:
            raise ImageError(f"image '{BOOK}': the book is not built in {book_html}: run `autoformation book build`")
        builds.append(Build(BOOK, [(f"images/{BOOK}", images_dir / BOOK), ("data/book", book_html)]))
    if HUB in wanted:  # not a learner image: the project and the courses' sources, no base
        challenges = [("challenges", challenges_dir)] if challenges_dir is not None and challenges_dir.is_dir() else []
        builds.append(Build(HUB, [(f"images/{HUB}", images_dir / HUB), ("courses", courses_dir), *challenges]
                            + [(p, PROJECT_ROOT / p) for p in HUB_INPUTS]))
    courses_wanted = [n for n in available if n in wanted and n not in (BASE, HUB, BOOK)]
    if not courses_wanted and BASE not in wanted:
        return builds
    missing = [p for p in BASE_INPUTS if not (PROJECT_ROOT / p).exists()]
    if missing:
        raise ImageError(f"the base image needs {', '.join(missing)}: run `make install` first "
                         "(it builds the JupyterLab extension)")
    base_files = [(f"images/{BASE}", images_dir / BASE)] + [(p, PROJECT_ROOT / p) for p in BASE_INPUTS]
    builds.append(Build(BASE, base_files))
    try:
        catalogue = load_catalogue(courses_dir)
    except CourseError as err:
        raise ImageError(f"cannot read the courses: {err}") from None
    for name in courses_wanted:
        courses = [c.id for c in catalogue if c.image == name]
        files = [(f"images/{BASE}/requirements.txt", images_dir / BASE / "requirements.txt")]
        files.append((f"images/{name}", images_dir / name))
        for course in courses:
            release = release_dir / course
            if not release.is_dir():
                raise ImageError(
                    f"image '{name}': no released material for course '{course}' in {release} "
                    "(run `autoformation courses release` first, or pass --release-dir)"
                )
            files.append((f"data/release/{course}", release))
        for challenge in _challenges(challenges_dir):
            released = release_dir / "defis" / challenge.id
            if challenge.image == name and released.is_dir():  # public data and starters, never the labels
                files.append((f"data/release/defis/{challenge.id}", released))
        builds.append(Build(name, files))
    return builds


def _challenges(challenges_dir: Path | None) -> list:
    if challenges_dir is None or not challenges_dir.is_dir():
        return []
    from autoformation.challenges import ChallengeError, load_challenges

    try:
        return load_challenges(challenges_dir)
    except ChallengeError as err:
        raise ImageError(f"cannot read the challenges: {err}") from None


def _stage(build: Build, context: Path) -> None:
    for dest, src in build.files:
        target = context / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            # What the digest leaves out is not staged either.
            shutil.copytree(src, target, ignore=shutil.ignore_patterns(*IGNORED_FOLDERS), dirs_exist_ok=True)
        else:
            shutil.copy2(src, target)
    for needed in ("data/release", "challenges"):  # COPY needs them even when empty
        (context / needed).mkdir(parents=True, exist_ok=True)
    # An image does not depend on this machine's permissions (`make up` as root closes courses/ to others).
    for path in [context, *context.rglob("*")]:
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() or path.stat().st_mode & 0o100 else 0o644)


def _tail(text: str, lines: int = 25) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _failed_step(output: str) -> str:
    """The last `STEP i/n: ...` line (podman) or `#n [i/n] ...` line (docker) of a build log."""
    steps = [line for line in output.splitlines() if line.startswith("STEP ") or "] RUN " in line or "] COPY " in line]
    return steps[-1].strip() if steps else "(before the first step)"


def build_one(engine: Engine, build: Build, version: str, registry: str, extra: list[str], log=print) -> float:
    """Build one image; returns seconds taken. Raises ImageError naming the image and step."""
    name = tag(build.name, version)
    with tempfile.TemporaryDirectory(prefix=f"autoformation-{build.name}-") as tmp:
        context = Path(tmp)
        _stage(build, context)
        args = [
            "build",
            "--file", str(context / "images" / build.name / "Dockerfile"),
            "--tag", name,
            "--label", f"{INPUTS_LABEL}={build.digest()}",
            "--build-arg", f"BASE_IMAGE={tag(BASE, version)}",
            *engine.build_options,
            *extra,
        ]  # fmt: skip
        if registry:
            args += ["--tag", tag(build.name, version, registry)]
        start = time.monotonic()
        process = subprocess.Popen(
            [*engine.command, *args, str(context)],
            env=engine.environ(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        output: deque[str] = deque(maxlen=4000)
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line.rstrip("\n"))
            if line.startswith("STEP ") or line.startswith("#"):
                log(f"    [{build.name} {time.monotonic() - start:5.0f} s] {line.strip()[:150]}")
        process.wait()
        elapsed = time.monotonic() - start
    if process.returncode != 0:
        text = "\n".join(output)
        raise ImageError(
            f"building image '{build.name}' ({name}) failed after {elapsed:.0f} s at: {_failed_step(text)}\n"
            f"last lines of the build output:\n{_tail(text)}"
        )
    return elapsed


def build_images(
    engine: Engine,
    builds: list[Build],
    version: str,
    registry: str = "",
    extra: list[str] | None = None,
    force: bool = False,
    log=print,
) -> dict[str, float | None]:
    """Build in order; returns seconds per image (None: up to date, not rebuilt)."""
    times: dict[str, float | None] = {}
    base_digest = ""
    total = len(builds)
    start = time.monotonic()
    for i, build in enumerate(builds, 1):
        if build.name != BASE:
            build.base_digest = base_digest
        digest = build.digest()
        if build.name == BASE:
            base_digest = digest
        name = tag(build.name, version)
        if not force and engine.image_label(name, INPUTS_LABEL) == digest:
            log(f"[{i}/{total}] {name}: up to date")
            times[build.name] = None
            continue
        log(f"[{i}/{total}] {name}: building ({time.monotonic() - start:.0f} s elapsed)")
        times[build.name] = build_one(engine, build, version, registry, extra or [], log=log)
        log(f"[{i}/{total}] {name}: built in {times[build.name]:.0f} s")
    return times


def harness_options(ca_bundle: Path = HOST_CA) -> list[str]:
    """Build options for machines behind a TLS-inspecting proxy: the host's CA bundle for pip, host network."""
    options = ["--network=host"]
    if ca_bundle.is_file():
        options += ["--volume", f"{ca_bundle}:{BUILD_CA}:ro", "--build-arg", f"PIP_CERT={BUILD_CA}"]
    return options


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="autoformation images", description="Build the learner container images.")
    sub = parser.add_subparsers(dest="action", required=True)
    b = sub.add_parser("build", help="build images (all by default; base first)")
    b.add_argument("names", nargs="*", metavar="NAME", help="image folders under images/ (default: all)")
    b.add_argument("--config", help="settings file (default: hub_config/settings.yaml)")
    b.add_argument("--release-dir", help="released course material (default: DATA/release)")
    b.add_argument("--registry", default=None, help="also tag for this registry (default: kubernetes.image_registry)")
    b.add_argument("--no-registry-tag", action="store_true", help="only the short local names")
    b.add_argument(
        "--local-podman",
        action="store_true",
        help="use Podman set up in DATA/containers (runc, ulimits, debootstrap base image)",
    )
    b.add_argument(
        "--host-ca",
        action="store_true",
        help="mount this machine's CA bundle for pip and use the host network during builds",
    )
    b.add_argument("--force", action="store_true", help="rebuild even when the inputs are unchanged")
    b.add_argument("--build-option", action="append", default=[], metavar="OPT",
                   help="extra option for `docker/podman build` (repeatable)")  # fmt: skip
    args = parser.parse_args(argv)
    try:
        settings = load(args.config)
        state_dir = settings.data_dir / "containers"
        engine = find_engine(state_dir, prefer_local_podman=args.local_podman)
        if args.host_ca or os.environ.get("AUTOFORMATION_IMAGES_HOST_CA") == "1":
            engine.build_options += harness_options()
        extra = args.build_option + os.environ.get("AUTOFORMATION_IMAGES_BUILD_OPTIONS", "").split()
        release_dir = Path(args.release_dir) if args.release_dir else settings.release_dir
        from .book import build_dir

        builds = plan(args.names, release_dir, settings.courses_dir, challenges_dir=settings.challenges_dir,
                      book_html=build_dir(settings) / "_build" / "html")
        if engine.env:  # our own Podman: it cannot pull, so make the Debian base here
            ensure_base_os(engine, state_dir)
        registry = "" if args.no_registry_tag else (args.registry or settings.kubernetes.image_registry)
        print(f"building with {engine.name}: {', '.join(b.name for b in builds)}")
        times = build_images(engine, builds, settings.courses.version, registry, extra, args.force)
    except (ImageError, SettingsError) as err:
        print(f"autoformation images: {err}", file=sys.stderr)
        return 1
    built = {n: t for n, t in times.items() if t is not None}
    print(f"done: {len(built)} built, {len(times) - len(built)} up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
