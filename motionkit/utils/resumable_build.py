"""The resumable, atomic dataset-folder build that every motionkit builder follows (SynthMotion,
CigTime triplets, ...).

A build writes ``<out>/.partial/config.json`` first, then one JSON record per item under
``<out>/.partial/<group>/<index>.json`` (each written atomically, after the item's own files), and
``<out>/manifest.json`` last, after which ``.partial/`` is removed. So:

- an interrupted build resumes where it stopped (items with a record are skipped);
- a finished folder is never rebuilt, and one built with another config (finished or not) is an
  error naming the folder, never silently overwritten or mixed;
- a reader that finds ``manifest.json`` finds every file the manifest lists.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any, Callable, List

from .io import atomic_write_bytes

__all__ = ['ResumableBuild']


def _dumps(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(',', ':'), ensure_ascii=False, default=str)


class ResumableBuild:
    """One dataset folder built item by item.

    Args:
        out_dir: the folder.
        config: what the build is made from (JSON-serialisable); stored in ``.partial/config.json``
            and in the manifest, and compared on every resume.
        what: the kind of build, for messages (e.g. ``'SynthMotion build'``).

    Example:
        >>> build = ResumableBuild(out, cfg, 'SynthMotion build')
        >>> if not build.finished():
        ...     build.start()
        ...     records = build.items('motions', n, make_item, desc='SynthMotion')
        ...     build.finish(dict(name='SynthMotion', counts=...))
    """

    def __init__(self, out_dir: str | os.PathLike, config: dict, what: str) -> None:
        self.out = Path(out_dir)
        self.config = config
        self.what = what
        self.partial = self.out / '.partial'
        self.manifest_path = self.out / 'manifest.json'

    def finished(self) -> bool:
        """True when the folder holds a finished build of this config.

        Raises:
            FileExistsError: it holds a finished build of another config.
        """
        if not self.manifest_path.exists():
            return False
        old = json.loads(self.manifest_path.read_text())
        if old.get('config') != self.config:
            raise FileExistsError(f'{self.out}: holds a finished {self.what} with another config '
                                  f'({old.get("config")}); use another output folder or delete it')
        return True

    def check_unfinished(self) -> None:
        """Raise ``FileExistsError`` when ``.partial/`` belongs to a build of another config."""
        cfg_file = self.partial / 'config.json'
        if cfg_file.exists() and json.loads(cfg_file.read_text()) != self.config:
            raise FileExistsError(f'{self.out}: holds an unfinished {self.what} with another config '
                                  f'({json.loads(cfg_file.read_text())}); delete {self.partial} to '
                                  'start over')

    def start(self) -> None:
        """Create the folder and record the config (checking an unfinished build's first)."""
        self.check_unfinished()
        self.out.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(self.partial / 'config.json', _dumps(self.config).encode())

    def record_path(self, group: str, index: int) -> Path:
        return self.partial / group / f'{index:06d}.json'

    def items(self, group: str, count: int, build_item: Callable[[int], Any], progress: bool = True,
              desc: str | None = None) -> List[Any]:
        """Build items ``0 .. count - 1`` of ``group`` that have no record yet (``build_item(i)``
        writes the item's files and returns its JSON record), with a progress bar; returns every
        record in order."""
        try:
            from tqdm import tqdm
        except ImportError:  # pragma: no cover
            tqdm = None
        bar = tqdm(total=count, desc=desc or self.what, disable=not progress) if tqdm else None
        for i in range(count):
            path = self.record_path(group, i)
            if not path.exists():
                atomic_write_bytes(path, _dumps(build_item(i)).encode())
            if bar:
                bar.update(1)
        if bar:
            bar.close()
        return [json.loads(self.record_path(group, i).read_text()) for i in range(count)]

    def finish(self, manifest: dict) -> None:
        """Write ``manifest.json`` (with the config) atomically, then drop ``.partial/``."""
        manifest = dict(manifest, config=self.config)
        atomic_write_bytes(self.manifest_path,
                           (json.dumps(manifest, sort_keys=True, indent=1) + '\n').encode())
        shutil.rmtree(self.partial, ignore_errors=True)
