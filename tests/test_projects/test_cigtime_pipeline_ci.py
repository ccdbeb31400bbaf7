"""The one-command CigTime pipeline at test size (``--preset ci``): every stage runs, its table
reproduces the values recorded in projects/cigtime/ci_reference.json within their tolerances (a
change that moves the table fails here), and a second call reuses every stage.

Re-record after an intended change of the numbers (and say why in the commit):

    python projects/cigtime/run_pipeline.py --preset ci --work-dir /tmp/cigtime_ci
    python projects/cigtime/results_table.py /tmp/cigtime_ci/results.json --record projects/cigtime/ci_reference.json
"""
import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT


def test_ci_preset_reproduces_recorded_table(tmp_path):
    if not os.path.isdir('/usr/share/wordnet'):
        pytest.skip('WordNet 3.0 (Debian wordnet-base) is not installed: METEOR cannot run')
    env = dict(os.environ, MOTIONKIT_CACHE=str(tmp_path / 'cache'), OMP_NUM_THREADS='1')
    work = tmp_path / 'work'
    cmd = [sys.executable, 'projects/cigtime/run_pipeline.py', '--preset', 'ci', '--work-dir', str(work)]
    out = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=1500)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert '**Test split**' in out.stdout and '**Validation split**' in out.stdout
    results = json.loads((work / 'results.json').read_text())
    assert set(results['runs']['0']) == {'val', 'test'}
    assert results['phrasing']['test_seen_in_train'] == 0.0
    check = subprocess.run([sys.executable, 'projects/cigtime/results_table.py', str(work / 'results.json'),
                            '--check', 'projects/cigtime/ci_reference.json'],
                           cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout[-2000:] + check.stderr[-3000:]
    again = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    assert again.stdout.count('reusing') >= 8 + 2 * 6 + 5, again.stdout[-2000:]
    assert json.loads((work / 'results.json').read_text())['runs'] == results['runs']
