import importlib.util
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope='session')
def wordnet_dir(tmp_path_factory):
    """An NLTK data dir with WordNet 3.0, built from the Debian packages when needed."""
    import nltk
    try:
        nltk.data.find('corpora/wordnet')
        return None  # already on nltk's search path
    except LookupError:
        pass
    if not Path('/usr/share/wordnet/data.noun').is_file():
        pytest.skip('WordNet missing: apt-get install -y wordnet-base wordnet-sense-index '
                    '(or run tools/misc/prepare_wordnet.py)')
    spec = importlib.util.spec_from_file_location(
        'prepare_wordnet', REPO / 'tools' / 'misc' / 'prepare_wordnet.py')
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = tmp_path_factory.mktemp('nltk_data')
    mod.prepare(Path('/usr/share/wordnet'), out)
    return str(out)


@pytest.fixture(scope='session')
def java():
    if shutil.which('java') is None:
        pytest.skip('no Java runtime: coco-caption METEOR / PTB tokeniser need one')
    pytest.importorskip('pycocoevalcap', reason='pip install pycocoevalcap==1.2')
