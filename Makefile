# Two commands on a fresh machine: `make up` starts the platform, `make test` passes the tests.
# Each installs what it needs: the Python environment (.venv), the Node parts (node_modules),
# and, for the tests, the Debian packages they drive (chromium, ...).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
REQUIREMENTS := $(wildcard images/*/requirements.txt)
# Learners' servers run this environment under their own Unix accounts, so its interpreter must be
# one every account can reach: Debian's (a pyenv Python under /root is closed to them).
PYTHON ?= $(or $(wildcard /usr/bin/python3),python3)
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
# Debian packages the tests need: a browser for the end-to-end tests, PostgreSQL for the gradebook
# tests, Podman and debootstrap to build and run the learner images without a Docker engine.
# The grading sandbox (bubblewrap, util-linux's setpriv) is needed by the platform itself.
PLATFORM_DEBS := bubblewrap util-linux
TEST_DEBS := $(PLATFORM_DEBS) chromium postgresql podman runc debootstrap uidmap slirp4netns fuse-overlayfs
PYTEST_ARGS ?=

.PHONY: up test install lint system-deps platform-deps bench clean

$(VENV)/.installed: pyproject.toml $(REQUIREMENTS) hub_config/ipython/ipython_kernel_config.py
	test -x $(PY) || { $(if $(filter /usr/bin/%,$(PYTHON)),$(MAKE) --no-print-directory system-deps TEST_DEBS=python3-venv &&) \
	  $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
	# The project, and exactly the learner images' requirements (what the courses are proven with).
	$(PY) -m pip install --quiet -e '.[hub,test]' $(addprefix -r ,$(REQUIREMENTS))
	# jsonschema's optional IRI checker compiles a grammar at import (~1 CPU-second in every Jupyter server
	# start and in the hub); nothing here validates IRIs. Same removal in images/base (benchmarks/spawn_storm.py).
	$(PY) -m pip uninstall --quiet --yes rfc3987-syntax
	# Learner kernels load the self-check extension (the images put the same file in /etc/ipython).
	mkdir -p $(VENV)/etc/ipython && cp hub_config/ipython/ipython_kernel_config.py $(VENV)/etc/ipython/
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# JupyterLab "Soumettre" extension: built against the installed JupyterLab, put where learner labs load it.
# (`jupyter labextension build` would fetch @jupyterlab/core-meta from the network: use the builder's CLI.)
LABEXT := $(VENV)/share/jupyter/labextensions/@autoformation/submit
LABEXT_SOURCES := jupyterlab/package.json jupyterlab/package-lock.json $(wildcard jupyterlab/src/* jupyterlab/style/*)

jupyterlab/node_modules/.installed: jupyterlab/package.json jupyterlab/package-lock.json
	cd jupyterlab && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(LABEXT)/.built: $(LABEXT_SOURCES) jupyterlab/node_modules/.installed $(VENV)/.installed
	rm -rf build/labextension
	core=$$($(PY) -c 'import jupyterlab, pathlib; print(pathlib.Path(jupyterlab.__file__).parent / "staging")') && \
	  cd jupyterlab && node node_modules/@jupyterlab/builder/lib/build-labextension.js --core-path "$$core" .
	rm -rf $(LABEXT) && mkdir -p $(dir $(LABEXT)) && cp -r build/labextension $(LABEXT)
	touch $@

install: $(VENV)/.installed node_modules/.installed $(LABEXT)/.built

up: install platform-deps
	$(VENV)/bin/autoformation up

platform-deps:
	@$(MAKE) --no-print-directory system-deps TEST_DEBS="$(PLATFORM_DEBS)"

system-deps:
	@missing=$$(for p in $(TEST_DEBS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages: $$missing"; \
	  $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

lint: install
	$(VENV)/bin/ruff check src tests $(wildcard benchmarks)

test: install system-deps lint
	$(PY) -m pytest $(PYTEST_ARGS)

bench: install system-deps
	$(PY) benchmarks/grading.py
	$(PY) benchmarks/challenges.py
	$(PY) benchmarks/spawn_storm.py

clean:
	rm -rf $(VENV) node_modules jupyterlab/node_modules data build test-artifacts
