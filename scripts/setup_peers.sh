#!/usr/bin/env bash
# Build .venv-peers, the environment of the RLeXplore exploration peers (bonuses e3b, re3, rnd-rllte;
# rlspectral.sb3.rllte_peers): a copy of .venv plus rllte-core 1.0.1. rllte-core pins matplotlib==3.6.0,
# huggingface-hub==0.14.1, seaborn, torchvision, ... which conflict with ours and which its reward modules do not
# need, so it goes in without its dependencies (--no-deps), with the two its reward modules import: termcolor and
# pynvml 11.5.0 (the version rllte pins; newer pynvml releases are a shim around nvidia-ml-py). Nothing in .venv changes.
#
#   bash scripts/setup_peers.sh                 # then: .venv-peers/bin/python -m scripts.exploration_benchmark ...
#   RLLTE_SPEC=/path/rllte_core-1.0.1-py3-none-any.whl bash scripts/setup_peers.sh   # from a local wheel
#
# A copied venv keeps its console scripts pointing at .venv's interpreter: call .venv-peers/bin/python -m <tool>.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${1:-.venv-peers}"
if [ ! -x .venv/bin/python ]; then echo "no .venv here: create it first (python -m venv .venv; .venv/bin/python -m pip install -e '.[dev]')" >&2; exit 1; fi
if [ -e "$VENV" ]; then echo "$VENV exists: remove it first to rebuild it" >&2; exit 1; fi
cp -a .venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --no-deps -e .
"$VENV/bin/python" -m pip install --quiet --no-deps "${RLLTE_SPEC:-rllte-core==1.0.1}" termcolor "pynvml==11.5.0"
"$VENV/bin/python" -c "from rllte.xplore.reward import E3B, RE3, RND; print('$VENV: rllte reward modules import')"
