"""The layer rules of DESIGN.md hold: import-linter's contracts (.importlinter) are kept, and nothing
in motionkit/ imports the projects/ folder."""
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT


def test_import_linter_contracts_are_kept():
    exe = shutil.which('lint-imports') or str(Path(sys.executable).parent / 'lint-imports')
    if not Path(exe).exists():
        pytest.fail('lint-imports not found: pip install -e ".[all]" installs import-linter')
    proc = subprocess.run([exe, '--no-cache'], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert 'BROKEN' not in proc.stdout and ' 0 broken' in proc.stdout


def test_motionkit_never_imports_projects():
    pattern = re.compile(r'^\s*(from|import)\s+projects\b', re.M)
    offenders = [str(p.relative_to(REPO_ROOT)) for p in (REPO_ROOT / 'motionkit').rglob('*.py')
                 if pattern.search(p.read_text(encoding='utf-8'))]
    assert not offenders, f'motionkit/ must not import projects/: {offenders}'
