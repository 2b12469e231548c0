# Two commands on a fresh Debian/Ubuntu machine:
#   make run    install, then run the live engine on its embedded default (Balanced preset)
#   make test   install, then run the whole test suite
VENV ?= .venv
PY := $(VENV)/bin/python
# PyTorch's CPU-only wheels: PyPI's torch for Linux is the CUDA build (gigabytes the app
# never uses). Where this index cannot be reached, pip falls back to the other indexes.
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
SYSTEM_PACKAGES := libportaudio2 jackd2 xvfb libxtst6 espeak-ng liblilv-0-0 lilv-utils x42-plugins \
                   lsp-plugins-lv2 zam-plugins
# the transcriber's held-out takes: fluidsynth through TimGM6mb (its recommends pull Qt)
LEAN_PACKAGES := fluidsynth timgm6mb-soundfont
ARGS ?=

.PHONY: run test install system-deps lint bench

run: install
	$(VENV)/bin/musicmill run $(ARGS)

test: install
	$(PY) -m pytest $(ARGS)

lint: install
	$(VENV)/bin/ruff check .

bench: install
	$(VENV)/bin/musicmill bench engine

install: system-deps $(VENV)/.installed

# apt-get as root; otherwise print the exact command and stop.
system-deps:
	@$(call apt_install,$(SYSTEM_PACKAGES),)
	@$(call apt_install,$(LEAN_PACKAGES),--no-install-recommends)

define apt_install
missing=""; for p in $(1); do \
  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
done; \
if [ -n "$$missing" ]; then \
  if [ "$$(id -u)" = 0 ]; then \
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2) $$missing; \
  else \
    echo "missing system packages:$$missing"; \
    echo "run: sudo apt-get install -y $(2)$$missing"; exit 1; \
  fi; \
fi
endef

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# the CPU wheel (torch==2.13.0+cpu satisfies the ==2.13.0 pin); an unpinned torch would
	# pull a multi-GB CUDA build
	$(PY) -m pip install -q --retries 1 --extra-index-url $(TORCH_INDEX) torch==2.13.0
	$(PY) -m pip install -q -e ".[test,gui]"
	# reference peers for the tests, without their deps: torchcrepe would pull torchaudio
	# and another torch, basic-pitch TensorFlow; librosa is only needed for the pieces
	# torchcrepe and basic-pitch import (Basic Pitch runs its shipped ONNX model)
	$(PY) -m pip install -q --no-deps torchcrepe==0.0.24 librosa==0.11.0 basic-pitch==0.4.0
	touch $@
