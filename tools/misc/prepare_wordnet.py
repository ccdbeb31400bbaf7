"""Lay out WordNet 3.0 for NLTK from the Debian packages, for offline METEOR (``nltk`` variant).

NLTK's ``meteor_score`` needs the WordNet corpus under ``<NLTK_DATA>/corpora/wordnet/``; no PyPI
package ships it and NLTK refuses reader paths outside its data path. Debian ships the same
WordNet 3.0 database (``apt-get install -y wordnet-base wordnet-sense-index`` puts it in
``/usr/share/wordnet``) but without the ``lexnames`` file that NLTK's reader opens first, so this
script copies the database files and writes ``lexnames`` (the 45 lexicographer files of
WordNet 3.0, as listed in the ``lexnames(5WN)`` manual page).

Usage::

    apt-get install -y wordnet-base wordnet-sense-index
    python tools/misc/prepare_wordnet.py --out ~/nltk_data        # then: export NLTK_DATA=~/nltk_data

``--out`` defaults to ``$NLTK_DATA`` (first entry) or ``~/nltk_data``. The script is idempotent
and checks the result by loading it through NLTK.
"""
import argparse
import os
import shutil
import sys
from pathlib import Path

# WordNet 3.0 lexicographer files: (number, name, syntactic category 1=noun 2=verb 3=adj 4=adv),
# from the lexnames(5WN) manual page of WordNet 3.0.
LEXNAMES = [
    'adj.all', 'adj.pert', 'adv.all', 'noun.Tops', 'noun.act', 'noun.animal', 'noun.artifact',
    'noun.attribute', 'noun.body', 'noun.cognition', 'noun.communication', 'noun.event',
    'noun.feeling', 'noun.food', 'noun.group', 'noun.location', 'noun.motive', 'noun.object',
    'noun.person', 'noun.phenomenon', 'noun.plant', 'noun.possession', 'noun.process',
    'noun.quantity', 'noun.relation', 'noun.shape', 'noun.state', 'noun.substance', 'noun.time',
    'verb.body', 'verb.change', 'verb.cognition', 'verb.communication', 'verb.competition',
    'verb.consumption', 'verb.contact', 'verb.creation', 'verb.emotion', 'verb.motion',
    'verb.perception', 'verb.possession', 'verb.social', 'verb.stative', 'verb.weather', 'adj.ppl'
]
_CATEGORY = {'noun': 1, 'verb': 2, 'adj': 3, 'adv': 4}

# Files NLTK's WordNetCorpusReader reads (data/index per part of speech, exception lists, sense
# index and counts); ``lexnames`` is generated.
REQUIRED = [f'{kind}.{pos}' for kind in ('data', 'index') for pos in ('noun', 'verb', 'adj', 'adv')]
REQUIRED += [f'{pos}.exc' for pos in ('noun', 'verb', 'adj', 'adv')]
OPTIONAL = ['index.sense', 'cntlist', 'cntlist.rev', 'sentidx.vrb', 'sents.vrb', 'frames.vrb']


def lexnames_text() -> str:
    """The ``lexnames`` file: ``NN<TAB>name<TAB>category`` per line."""
    return ''.join(f'{i:02d}\t{name}\t{_CATEGORY[name.split(".")[0]]}\n'
                   for i, name in enumerate(LEXNAMES))


def check_source(src: Path) -> None:
    missing = [name for name in REQUIRED if not (src / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f'WordNet database files missing from {src}: {missing}. Install them with '
            '`apt-get install -y wordnet-base wordnet-sense-index` or pass --src.')
    header = (src / 'data.noun').read_text(encoding='latin-1')[:2000]
    if 'WordNet 3.0' not in header:
        raise ValueError(f'{src}/data.noun is not WordNet 3.0 (METEOR as published uses 3.0)')


def prepare(src: Path, out: Path) -> Path:
    """Copy ``src`` (a WordNet ``dict`` dir) to ``out/corpora/wordnet`` and write ``lexnames``."""
    check_source(src)
    dst = out / 'corpora' / 'wordnet'
    dst.mkdir(parents=True, exist_ok=True)
    for name in REQUIRED + OPTIONAL:
        if (src / name).is_file():
            shutil.copyfile(src / name, dst / name)
    tmp = dst / '.lexnames.part'
    tmp.write_text(lexnames_text())
    os.replace(tmp, dst / 'lexnames')
    return dst


def verify(out: Path) -> str:
    """Load WordNet through NLTK from ``out`` only; return its version."""
    import nltk
    from nltk.corpus.reader.wordnet import WordNetCorpusReader
    # NLTK >= 3.9 only opens files under its data path: register ``out`` first.
    if str(out) not in nltk.data.path:
        nltk.data.path.insert(0, str(out))
    reader = WordNetCorpusReader(nltk.data.find('corpora/wordnet', paths=[str(out)]), None)
    if not reader.synsets('walk'):
        raise RuntimeError(f'WordNet at {out} loads but finds no synsets for "walk"')
    return reader.get_version()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--src', default='/usr/share/wordnet', help='WordNet 3.0 dict directory')
    default_out = (os.environ.get('NLTK_DATA', '').split(os.pathsep)[0]
                   or str(Path.home() / 'nltk_data'))
    parser.add_argument('--out', default=default_out, help='NLTK data directory to write into')
    args = parser.parse_args(argv)
    dst = prepare(Path(args.src), Path(args.out).expanduser())
    version = verify(Path(args.out).expanduser())
    print(f'WordNet {version} ready at {dst}; use it with NLTK_DATA={Path(args.out).expanduser()}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
