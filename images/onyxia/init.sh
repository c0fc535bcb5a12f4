#!/bin/bash
# autoformation on the SSP Cloud: an Onyxia "personal init script" for the jupyter-python service.
# Onyxia runs it at the service's start with init.personalInitArgs (see `autoformation catalogue export`):
#
#   init.sh PLATFORM_URL COURSE CHAPTER     e.g. https://formation.example.org ml 01-premiers-modeles
#   init.sh PLATFORM_URL defis CHALLENGE    a Funathon challenge's data and starter notebooks
#
# It brings the released material from the platform's book (its downloads), installs the learner-side
# package (self-check, `autoformation submit --hub`, `defi.soumettre`) and opens the first notebook.
# Submitting to the platform from here needs a token from its token page: export AUTOFORMATION_TOKEN=...
# (or write it in ~/.config/autoformation/token).
set -euo pipefail

url="${1:?usage: init.sh PLATFORM_URL COURSE CHAPTER}"
course="${2:?usage: init.sh PLATFORM_URL COURSE CHAPTER}"
chapter="${3:?usage: init.sh PLATFORM_URL COURSE CHAPTER}"
url="${url%/}"
downloads="$url/services/book/telechargements"
work="${ROOT_PROJECT_DIRECTORY:-$HOME/work}"
for name in "$course" "$chapter"; do  # they become paths
  if [[ ! "$name" =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]]; then
    echo "autoformation: nom invalide « $name »" >&2
    exit 2
  fi
done
[[ "$url" =~ ^https?:// ]] || { echo "autoformation: adresse invalide « $url »" >&2; exit 2; }

echo "autoformation: installation du module de l'apprenant depuis $downloads"
user=--user  # into the user's site, unless Python is a virtual environment (then into it)
python3 -c 'import sys; sys.exit(sys.prefix == sys.base_prefix)' && user=
python3 -m pip install --quiet $user --no-deps --force-reinstall --no-index --find-links "$downloads/" autoformation

echo "autoformation: $course/$chapter dans $work"
mkdir -p "$work/$course"
python3 - "$downloads/$course/$chapter.tar.gz" "$work/$course" <<'PY'
import io, sys, tarfile, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=120) as answer:
    archive = tarfile.open(fileobj=io.BytesIO(answer.read()), mode="r:gz")
for member in archive.getmembers():  # the material only: files and folders, inside the target
    parts = member.name.split("/")
    if member.name.startswith("/") or ".." in parts or not (member.isfile() or member.isdir()):
        sys.exit(f"autoformation: archive refusée ({member.name})")
    member.mode = 0o755 if member.isdir() else 0o644
archive.extractall(sys.argv[2])
PY

# Self-check in every kernel: a failed exercise test shows its French hint.
mkdir -p "$HOME/.ipython/profile_default"
config="$HOME/.ipython/profile_default/ipython_kernel_config.py"
grep -qs "autoformation.selfcheck" "$config" || \
  echo 'c.InteractiveShellApp.extensions.append("autoformation.selfcheck")  # autoformation' >> "$config"
# Where `autoformation submit`, `soumettre()` and `defi.soumettre` send work, with the learner's own token
# (from the platform's token page, in AUTOFORMATION_TOKEN or ~/.config/autoformation/token).
mkdir -p "$HOME/.config/autoformation"
echo "$url" > "$HOME/.config/autoformation/hub"

# Open the first notebook when JupyterLab starts (its root is the work folder).
first=$(cd "$work" && ls "$course/$chapter"/*.ipynb 2>/dev/null | sort | head -n 1 || true)
if [ -n "$first" ]; then
  mkdir -p "$HOME/.jupyter"
  echo "c.LabApp.default_url = '/lab/tree/$first'" >> "$HOME/.jupyter/jupyter_server_config.py"
fi
if [ "$(id -u)" = 0 ]; then  # run as root: the material and settings are the work folder's owner's
  chown -R --reference="$work" "$work/$course" "$HOME/.ipython" "$HOME/.config/autoformation"
  [ ! -d "$HOME/.jupyter" ] || chown -R --reference="$work" "$HOME/.jupyter"
fi
echo "autoformation: prêt ($work/$first)"
