#!/usr/bin/env bash
# README quick start, second command: set up if needed (tools/setup_env.sh), check the layer rules
# (import-linter contracts in .importlinter) and run the test suite. Arguments go to pytest
# (default: every test). The real test data is read from ../shared/data beside the clone.
set -euo pipefail
# shellcheck source=tools/setup_env.sh
. "$(dirname "${BASH_SOURCE[0]}")/setup_env.sh"
cd "$MOTIONKIT_ROOT"
python -c "import motionkit, torch, mmengine; print('motionkit', motionkit.__version__, 'torch', torch.__version__, 'mmengine', mmengine.__version__)"
lint-imports --no-cache
if [ "$#" -eq 0 ]; then
  # One pytest worker (pytest-xdist) per core, at most 8 (MOTIONKIT_TEST_WORKERS overrides), each
  # with one torch thread: workers with a thread per core each fight over the cores and run many
  # times slower.
  workers="${MOTIONKIT_TEST_WORKERS:-$(python -c 'import os; print(min(8, len(os.sched_getaffinity(0))))')}"
  export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" MKL_NUM_THREADS="${MKL_NUM_THREADS:-1}"
  set -- tests -q -p no:cacheprovider --timeout=1800 --durations=25 -n "$workers" --dist worksteal
fi
exec python -m pytest "$@"
