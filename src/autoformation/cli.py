"""The `autoformation` command: one entry point, each area owns its sub-commands.

    autoformation up                      start the platform (hub, proxy, identity provider)
    autoformation courses list|check|release
    autoformation book build
    autoformation images build
    autoformation defis list|check|release (organisers of the Funathon)
    autoformation grading cluster-objects --namespace NS (Kubernetes: what grading pods need)
    autoformation catalogue export --format sspcloud (the SSP Cloud's training catalogue)
    autoformation submit NOTEBOOK         (learners, in their environment)
    autoformation defi soumettre FICHIER  (Funathon participants, in their environment)
"""

from __future__ import annotations

import argparse
import importlib
import sys

# sub-command -> module with a `main(argv) -> int`
COMMANDS = {
    "up": ("autoformation.up", "start the platform on this machine"),
    "courses": ("autoformation.courses.command", "list, check and release the courses"),
    "book": ("autoformation.book", "build the companion book"),
    "images": ("autoformation.images", "build the learner container images"),
    "defis": ("autoformation.challenges.command", "list, check and release the Funathon challenges"),
    "grading": ("autoformation.grading.cluster", "Kubernetes objects the grading pods need"),
    "catalogue": ("autoformation.sspcloud", "export the catalogue (SSP Cloud's format, Onyxia launch links)"),
    "submit": ("autoformation.learner", "send a notebook to be graded (from a learner's environment)"),
    "defi": ("autoformation.defi", "send predictions to a Funathon challenge (from a participant's environment)"),
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="autoformation", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        parser.print_help()
        return 0 if not argv or argv[0] in ("-h", "--help") else 2
    module = importlib.import_module(COMMANDS[argv[0]][0])
    return module.main(argv[1:]) or 0


if __name__ == "__main__":
    sys.exit(main())
