"""Read the model index: ``model-index.yml`` -> one ``metafile.yml`` per config family / project.

The format is OpenMMLab's model-index (``Collections`` with ``Paper``/``README``/``Code``, ``Models``
with ``Name``, ``In Collection``, ``Config``, ``Results``, ``Weights``). motionkit adds to a model:

- ``Sha256``: full hex sha256 of the file at ``Weights`` (null when the publisher gives none);
- ``Weights Filename``: the name to save under when the URL does not end with one;
- ``Weights Note``: what the ``Weights`` file is (an archive, a local build, ...);
- ``Converter``: the command that turns the official file into a motionkit checkpoint;
- ``Command``: the command that rebuilds a model trained here (its weights have no URL).
"""
from __future__ import annotations

import os.path as osp
from typing import Dict, List, Optional

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_INDEX = osp.join(REPO_ROOT, 'model-index.yml')
_MODEL_KEYS = {'Name', 'In Collection', 'Config', 'Metadata', 'Results', 'Weights', 'Sha256',
               'Weights Filename', 'Weights Note', 'Converter', 'Command', 'README', 'Paper',
               'Code'}


class MetafileError(ValueError):
    """A metafile or the model index is malformed (duplicate name, unknown key, ...)."""


def _read_yaml(path: str) -> dict:
    import yaml
    if not osp.isfile(path):
        raise FileNotFoundError(f'model index file not found: {path}')
    with open(path) as f:
        data = yaml.safe_load(f) or {}
    if not isinstance(data, dict):
        raise MetafileError(f'{path}: expected a mapping at the top level, got {type(data).__name__}')
    return data


def metafile_paths(index_file: Optional[str] = None) -> List[str]:
    """The metafiles ``model-index.yml`` imports (absolute paths)."""
    index_file = index_file or DEFAULT_INDEX
    root = osp.dirname(osp.abspath(index_file))
    imports = _read_yaml(index_file).get('Import') or []
    return [osp.join(root, p) for p in imports]


def load_metafile(path: str) -> Dict[str, list]:
    """One metafile's collections and models; each model gets ``_metafile`` (its path)."""
    data = _read_yaml(path)
    unknown = set(data) - {'Collections', 'Models'}
    if unknown:
        raise MetafileError(f'{path}: unknown top-level keys {sorted(unknown)}')
    collections = data.get('Collections') or []
    models = data.get('Models') or []
    names = {c.get('Name') for c in collections}
    for i, model in enumerate(models):
        if not isinstance(model, dict) or not model.get('Name'):
            raise MetafileError(f'{path}: Models[{i}] has no Name')
        bad = set(model) - _MODEL_KEYS
        if bad:
            raise MetafileError(f'{path}: model {model["Name"]!r} has unknown keys {sorted(bad)}')
        coll = model.get('In Collection')
        if coll is not None and coll not in names:
            raise MetafileError(f'{path}: model {model["Name"]!r} is "In Collection: {coll}", '
                                f'which this metafile does not define (has {sorted(names)})')
        model['_metafile'] = path
    for coll in collections:
        coll['_metafile'] = path
    return dict(Collections=collections, Models=models)


def load_model_index(index_file: Optional[str] = None) -> Dict[str, list]:
    """Every collection and model of the index; duplicate model names are an error."""
    out: Dict[str, list] = dict(Collections=[], Models=[])
    seen: Dict[str, str] = {}
    for path in metafile_paths(index_file):
        meta = load_metafile(path)
        for model in meta['Models']:
            name = model['Name']
            if name in seen:
                raise MetafileError(f'duplicate model name {name!r}: in {seen[name]} and in {path}')
            seen[name] = path
        out['Collections'] += meta['Collections']
        out['Models'] += meta['Models']
    return out


def find_model(name: str, index_file: Optional[str] = None) -> dict:
    """The metafile entry of the model called ``name`` (raises with the closest names)."""
    models = load_model_index(index_file)['Models']
    for model in models:
        if model['Name'] == name:
            return model
    import difflib
    close = difflib.get_close_matches(name, [m['Name'] for m in models], n=3)
    hint = f'; did you mean {", ".join(close)}?' if close else ''
    raise KeyError(f'no model named {name!r} in {index_file or DEFAULT_INDEX}{hint} '
                   '(list them with `python tools/misc/download.py --list`)')
