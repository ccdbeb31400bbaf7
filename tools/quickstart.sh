#!/usr/bin/env bash
# README quick start, first command: set up (tools/setup_env.sh) and run the CigTime pipeline on
# the embedded SynthMotion data. Arguments go to projects/cigtime/run_pipeline.py.
set -euo pipefail
# shellcheck source=tools/setup_env.sh
. "$(dirname "${BASH_SOURCE[0]}")/setup_env.sh"
cd "$MOTIONKIT_ROOT"
exec python projects/cigtime/run_pipeline.py "$@"
