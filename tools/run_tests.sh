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
  set -- tests -q -p no:cacheprovider --timeout=900 --durations=25
fi
exec python -m pytest "$@"
