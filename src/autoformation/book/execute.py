"""Run the courses' solution notebooks with papermill, once per content change.

Each notebook runs in a scratch copy of its assignment folder (it reads its data by relative path, and
may write files: the course sources stay untouched). The executed notebook is stored in a cache keyed on
the notebook, every file of its assignment folder and the parameters, so an unchanged notebook is not
run again.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import nbformat
import papermill
from nbclient.exceptions import CellTimeoutError
from papermill.exceptions import PapermillExecutionError

from ..notebooks import grade_id, hash_tree

KERNEL = "python3"
CACHE_VERSION = "1"  # bump when what is stored changes


class ExecutionError(RuntimeError):
    """A notebook failed; the message names the notebook and the cell."""


@dataclass
class Job:
    label: str  # e.g. "ml/01-premiers-modeles/01-premiers-modeles.ipynb"
    notebook: Path  # the nbgrader source notebook (solution version)


def has_parameters_cell(notebook: Path) -> bool:
    nb = nbformat.read(notebook, as_version=4)
    return any("parameters" in c.metadata.get("tags", []) for c in nb.cells)


def cache_key(notebook: Path, parameters: dict) -> str:
    """Hash of the notebook, the files of its assignment folder (names and contents) and the parameters.

    Sibling notebooks are left out: a notebook reads data, not the other notebooks of its assignment. So
    are hidden files and folders, which the scratch copy leaves out too.
    """

    def skip(rel: PurePosixPath) -> bool:
        hidden = any(part.startswith(".") for part in rel.parts)
        return hidden or (rel.suffix == ".ipynb" and rel != PurePosixPath(notebook.name))

    salt = json.dumps([CACHE_VERSION, notebook.name, parameters], sort_keys=True, default=str)
    return hash_tree(notebook.parent, salt=salt, skip=skip)


def _cell_label(nb, index: int | None) -> str:
    if index is None or not 0 <= index < len(nb.cells):
        return "cellule inconnue"
    cell = nb.cells[index]
    name = grade_id(cell)
    first = next((line for line in cell.source.splitlines() if line.strip()), "")
    return f"cell {index}" + (f" ({name})" if name else "") + (f": {first.strip()[:80]}" if first else "")


def _running_cell(output: Path) -> int | None:
    """Which cell papermill was running when it stopped: the last one it started (it saves the notebook
    on the way out, and marks a timed-out cell "completed", so the status does not tell)."""
    try:
        nb = nbformat.read(output, as_version=4)
    except (OSError, ValueError):
        return None
    started = [i for i, cell in enumerate(nb.cells) if cell.metadata.get("papermill", {}).get("start_time")]
    return started[-1] if started else None


def run(job: Job, parameters: dict, work_dir: Path, timeout: int) -> nbformat.NotebookNode:
    """Execute one notebook in a scratch copy of its folder; raise ExecutionError naming the cell."""
    scratch = work_dir / job.label.replace("/", "__")
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.copytree(job.notebook.parent, scratch, ignore=shutil.ignore_patterns(".*", "__pycache__"))
    source = nbformat.read(job.notebook, as_version=4)
    output = scratch / f".executed-{job.notebook.name}"
    try:
        papermill.execute_notebook(
            str(scratch / job.notebook.name),
            str(output),
            parameters=parameters if has_parameters_cell(job.notebook) else {},
            kernel_name=KERNEL,
            cwd=str(scratch),
            execution_timeout=timeout,
            progress_bar=False,
            log_output=False,
        )
    except PapermillExecutionError as err:
        # papermill's index counts its injected-parameters cell; the error names the source cell.
        executed = nbformat.read(output, as_version=4)
        index = err.cell_index
        injected = [i for i, c in enumerate(executed.cells) if "injected-parameters" in c.metadata.get("tags", [])]
        if injected and index > injected[0]:
            index -= 1
        raise ExecutionError(
            f"{job.label}: {_cell_label(source, index)} raised {err.ename}: {err.evalue}"
        ) from None
    except CellTimeoutError:
        index = _running_cell(output)
        injected = index is not None and has_parameters_cell(job.notebook) and bool(parameters)
        raise ExecutionError(
            f"{job.label}: {_cell_label(source, index - 1 if injected else index)} "
            f"ran longer than {timeout} s (cell time limit)"
        ) from None
    return nbformat.read(output, as_version=4)


def execute_all(jobs: list[Job], cache_dir: Path, work_dir: Path, parameters: dict, timeout: int,
                report=print) -> tuple[dict[str, nbformat.NotebookNode], list[str]]:
    """Executed notebook per job label, and the labels that actually ran (the others came from the cache)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    results, executed = {}, []
    for n, job in enumerate(jobs, 1):
        params = parameters if has_parameters_cell(job.notebook) else {}
        cached = cache_dir / f"{cache_key(job.notebook, params)}.ipynb"
        prefix = f"[{n}/{len(jobs)}] {job.label}"
        if cached.is_file():
            results[job.label] = nbformat.read(cached, as_version=4)
            report(f"{prefix}: cached")
            continue
        report(f"{prefix}: executing...")
        start = time.monotonic()
        nb = run(job, params, work_dir, timeout)
        tmp = cached.with_suffix(".tmp")
        nbformat.write(nb, tmp)
        tmp.replace(cached)  # only complete runs enter the cache
        results[job.label] = nb
        executed.append(job.label)
        report(f"{prefix}: executed in {time.monotonic() - start:.1f} s")
    return results, executed
