"""Build the "CMU+Bandai" real text-motion dataset (HumanML3D format) from BVH mocap.

Sources (``shared/data``, see its README sections 2 and 3):

* ``cmu_mocap/index.tsv``: one row per BVH (``file``, ``conversion`` = rig, ``description`` =
  caption, ``bvh_fps``, ``cmu_site_listed_fps``). Three rigs: ``cgspeed_mb`` (84 files),
  ``cgspeed_daz`` (14) and ``amc2bvh_raw`` (2, whose header says 30 fps while CMU lists 120 fps).
* ``bandai_namco_motion_samples/labels.tsv``: ``file`` and a short ``text`` (``wave left hand
  (youthful style)``), rig ``bandai``, 30 fps.

Every clip is retargeted onto ``t2m22`` at 20 fps (:func:`.retarget.retarget_bvh`). Clips longer than
196 (feature) frames are cut into equal consecutive windows of at most 196 frames (HumanML3D keeps
motions of 40..196 frames, Guo et al. 2022; a window of ``n`` feature frames stores ``n + 1`` joint
frames), each with the clip's caption and put into the canonical frame on
its own (as HumanML3D processes each segment); clips shorter than 40 frames are left out. Windows and
the two conversions of one CMU clip share the clip's split (split key ``cmu_<clip>``), so the test
split never holds a window of a training clip.

A header frame rate that disagrees with CMU's listed capture rate raises
:class:`FrameRateMismatchWarning` and the header value is used, unless ``fps_overrides`` names the
file (the CLI's ``--fps-override FILE=FPS``).
"""
from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import warnings
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from motionkit.motion.humanml3d import HumanML3DFeatures
from motionkit.utils.io import file_sha256

from .bvh import read_bvh
from .humanml3d_writer import HumanML3DWriter, atomic_write_bytes
from .retarget import RIG_MAPS, canonicalize_t2m22, retarget_bvh

__all__ = ['build_cmu_bandai', 'cmu_bandai_sources', 'split_windows', 'FrameRateMismatchWarning',
           'resolve_fps_overrides', 'MIN_MOTION_FRAMES', 'MAX_MOTION_FRAMES']

#: HumanML3D's motion length range at 20 fps (T2M loader: 40 <= T < 200, cropped to 196).
MIN_MOTION_FRAMES = 40
MAX_MOTION_FRAMES = 196

_CONVERSION_TAG = {'cgspeed_mb': '', 'cgspeed_daz': 'daz_', 'amc2bvh_raw': 'amc_'}
_LICENSES = {
    'cmu': 'CMU Graphics Lab Motion Capture Database (mocap.cs.cmu.edu), free for research and commercial '
           'use; acknowledge NSF EIA-0196217',
    'bandai': 'Bandai Namco Research Motiondataset, CC BY-NC 4.0 (Kobayashi et al. 2023, arXiv:2306.08861)',
}


class FrameRateMismatchWarning(UserWarning):
    """A BVH header's frame rate disagrees with the capture rate listed for the clip."""


def split_windows(num_frames: int, max_len: int = MAX_MOTION_FRAMES,
                  min_len: int = MIN_MOTION_FRAMES) -> list[tuple[int, int]]:
    """``[start, end)`` windows cutting ``num_frames`` into ``ceil(T / max_len)`` near-equal parts.

    Every window has between ``T // n`` and ``ceil(T / n)`` frames, i.e. at most ``max_len`` and, for
    ``T > max_len``, at least ``max_len / 2``. A clip shorter than ``min_len`` gives no window.
    """
    if num_frames < min_len:
        return []
    n = max(1, math.ceil(num_frames / max_len))
    bounds = [round(k * num_frames / n) for k in range(n + 1)]
    return list(zip(bounds[:-1], bounds[1:]))




def _read_tsv(path: Path) -> list[dict]:
    if not path.exists():
        raise FileNotFoundError(f'index file not found: {path}')
    with open(path, encoding='utf-8', newline='') as f:
        return list(csv.DictReader(f, delimiter='\t'))


def cmu_bandai_sources(cmu_root: str | os.PathLike | None, bandai_root: str | os.PathLike | None) -> list[dict]:
    """The clips to import: one dict per BVH with ``path``, ``rel`` (``cmu_mocap/bvh/02_01.bvh``),
    ``dataset``, ``rig``, ``caption``, ``group``, ``id`` and ``listed_fps`` (CMU only).

    Raises:
        FileNotFoundError / ValueError: a missing index, BVH file or column, or an unknown rig.
    """
    out = []
    if cmu_root is not None:
        cmu_root = Path(cmu_root)
        for k, row in enumerate(_read_tsv(cmu_root / 'index.tsv'), 2):
            for col in ('clip_id', 'file', 'conversion', 'description', 'cmu_site_listed_fps'):
                if col not in row or row[col] is None:
                    raise ValueError(f'{cmu_root / "index.tsv"}, line {k}: missing column {col!r}')
            rig = row['conversion']
            if rig not in RIG_MAPS or rig not in _CONVERSION_TAG:
                raise ValueError(f'{cmu_root / "index.tsv"}, line {k}: unknown conversion {rig!r} '
                                 f'(known: {sorted(_CONVERSION_TAG)})')
            path = cmu_root / row['file']
            if not path.exists():
                raise FileNotFoundError(f'{cmu_root / "index.tsv"}, line {k}: BVH not found: {path}')
            clip = row['clip_id']
            out.append(dict(path=path, rel=f'{cmu_root.name}/{row["file"]}', dataset='cmu', rig=rig,
                            caption=row['description'].strip(), group=f'cmu_{clip}',
                            id=f'cmu_{_CONVERSION_TAG[rig]}{clip}', clip=clip,
                            listed_fps=float(row['cmu_site_listed_fps'])))
    if bandai_root is not None:
        bandai_root = Path(bandai_root)
        for k, row in enumerate(_read_tsv(bandai_root / 'labels.tsv'), 2):
            for col in ('file', 'text'):
                if col not in row or row[col] is None:
                    raise ValueError(f'{bandai_root / "labels.tsv"}, line {k}: missing column {col!r}')
            path = bandai_root / row['file']
            if not path.exists():
                raise FileNotFoundError(f'{bandai_root / "labels.tsv"}, line {k}: BVH not found: {path}')
            stem = Path(row['file']).stem.replace('dataset-', 'd')
            out.append(dict(path=path, rel=f'{bandai_root.name}/{row["file"]}', dataset='bandai', rig='bandai',
                            caption=row['text'].strip(), group=f'bandai_{stem}', id=f'bandai_{stem}',
                            clip=Path(row['file']).stem, listed_fps=None))
    return out


def resolve_fps_overrides(overrides: Mapping[str, float] | None, sources: Sequence[dict]) -> dict[str, float]:
    """Map ``FILE -> fps`` overrides onto source ``rel`` paths.

    A key matches a source whose absolute path or ``rel`` path ends with it (``16_01.bvh`` matches
    ``bvh_other/16_01.bvh``; use more of the path if it is ambiguous).

    Raises:
        ValueError: a key matches no file or several files, or an fps is not > 0.
    """
    resolved: dict[str, float] = {}
    for key, fps in (overrides or {}).items():
        fps = float(fps)
        if not (fps > 0 and math.isfinite(fps)):
            raise ValueError(f'fps override {key}={fps}: the frame rate must be > 0')
        norm = key.replace('\\', '/')
        hits = [s['rel'] for s in sources
                if s['path'].as_posix() == norm or s['path'].as_posix().endswith('/' + norm.lstrip('/'))
                or s['rel'] == norm]
        if not hits:
            raise ValueError(f'fps override {key!r} matches no BVH file of the build')
        if len(hits) > 1:
            raise ValueError(f'fps override {key!r} matches several files {hits}: give more of the path')
        resolved[hits[0]] = fps
    return resolved


def build_cmu_bandai(out_dir: str | os.PathLike, shared_root: str | os.PathLike | None = None,
                     cmu_root: str | os.PathLike | None = None, bandai_root: str | os.PathLike | None = None,
                     fps_overrides: Mapping[str, float] | None = None, include: Sequence[str] | None = None,
                     fps: float = 20.0, min_frames: int = MIN_MOTION_FRAMES,
                     max_frames: int = MAX_MOTION_FRAMES, progress: bool = True,
                     root_angular_velocity: str = 'wrapped') -> dict:
    """Build (or resume) the CMU+Bandai HumanML3D-format dataset in ``out_dir``.

    Args:
        out_dir: Output folder (see :mod:`.humanml3d_writer` for the layout).
        shared_root: Folder holding ``cmu_mocap/`` and ``bandai_namco_motion_samples/`` (used for the
            roots not given explicitly).
        cmu_root, bandai_root: The two source folders (either may be omitted to skip it when
            ``shared_root`` is None).
        fps_overrides: ``{file: fps}`` frame rates replacing BVH headers (see
            :func:`resolve_fps_overrides`).
        include: Only import sources whose ``rel`` path ends with one of these strings (tests).
        fps: Output frame rate (20 for HumanML3D).
        min_frames, max_frames: Window rule (HumanML3D: 40 and 196 frames at 20 fps).
        progress: Show a tqdm progress bar.
        root_angular_velocity: Feature encoding (:class:`~motionkit.motion.HumanML3DFeatures`):
            ``'wrapped'`` (default; real clips that turn past 180 degrees decode back to themselves)
            or ``'official'`` (HumanML3D's ``process_file``). Recorded in ``build_config.json`` and
            in every ``manifest.jsonl`` record as ``feature_encoding``.

    Returns:
        Summary dict: ``written`` ids, ``resumed`` ids (already present), ``too_short`` sources,
        ``splits`` counts, ``fps_warnings``.
    """
    if shared_root is not None:
        shared_root = Path(shared_root)
        cmu_root = cmu_root if cmu_root is not None else shared_root / 'cmu_mocap'
        bandai_root = bandai_root if bandai_root is not None else shared_root / 'bandai_namco_motion_samples'
    if cmu_root is None and bandai_root is None:
        raise ValueError('build_cmu_bandai: give shared_root or at least one of cmu_root / bandai_root')
    sources = cmu_bandai_sources(cmu_root, bandai_root)
    if include is not None:
        sources = [s for s in sources if any(s['rel'].endswith(k) for k in include)]
        if not sources:
            raise ValueError(f'build_cmu_bandai: include={list(include)} selects no source file')
    overrides = resolve_fps_overrides(fps_overrides, sources)
    out_dir = Path(out_dir)
    writer = HumanML3DWriter(out_dir, HumanML3DFeatures(root_angular_velocity=root_angular_velocity))
    config = dict(builder='motionkit.datasets.importers.build_cmu_bandai', fps=fps, min_frames=min_frames,
                  max_frames=max_frames, fps_overrides=overrides, feature_encoding=writer.encoding,
                  rig_maps={s['rig']: {k: v if isinstance(v, str) else dict(v)
                                       for k, v in RIG_MAPS[s['rig']].joint_map.items()} for s in sources})
    config_bytes = json.dumps(config, indent=1, sort_keys=True).encode('utf-8')
    config['sha256'] = hashlib.sha256(config_bytes).hexdigest()
    atomic_write_bytes(out_dir / 'build_config.json', json.dumps(config, indent=1, sort_keys=True).encode('utf-8'))

    done_sources: dict[str, list[str]] = {}
    for rec in writer.records.values():
        done_sources.setdefault(rec.get('source', ''), []).append(rec['id'])
    summary: dict = dict(written=[], resumed=[], too_short=[], fps_warnings=[])
    try:
        from tqdm import tqdm
        iterator = tqdm(sources, desc='import BVH', unit='file', disable=not progress)
    except ImportError:  # tqdm is a dependency of mmengine; keep working without it
        iterator = sources
    for src in iterator:
        prev = done_sources.get(src['rel'], [])
        if prev and all(writer.has(i) for i in prev) and \
                len(prev) == writer.records[prev[0]].get('num_windows', -1):
            summary['resumed'] += prev
            continue
        # An override also lets a file whose header Frame Time is implausible be read at all.
        bvh = read_bvh(src['path'], fps=overrides.get(src['rel']))
        fps_source = 'header'
        if src['rel'] in overrides:
            fps_source = 'override'
        elif src['listed_fps'] is not None and abs(bvh.header_fps - src['listed_fps']) > 0.01 * src['listed_fps']:
            msg = (f'{src["path"]}: the BVH header says {bvh.header_fps:.3g} fps (Frame Time '
                   f'{bvh.header_frame_time:g}) but CMU lists the capture at {src["listed_fps"]:g} fps; using '
                   f'the header value. If the header is wrong (amc2bvh writes 30 fps by default), pass '
                   f'--fps-override {src["rel"].split("/", 1)[1]}={src["listed_fps"]:g} '
                   f'(fps_overrides={{"{src["rel"].split("/", 1)[1]}": {src["listed_fps"]:g}}})')
            warnings.warn(msg, FrameRateMismatchWarning, stacklevel=2)
            summary['fps_warnings'].append(msg)
        result = retarget_bvh(bvh, src['rig'], fps=fps, canonicalize=False)
        # The writer stores T joint frames and T - 1 feature frames; the HumanML3D rule (and the loader's
        # filter) applies to the feature frames, so a window holds min_frames + 1 .. max_frames + 1 joints.
        windows = split_windows(result.joints.shape[0], max_frames + 1, min_frames + 1)
        if not windows:
            summary['too_short'].append(dict(source=src['rel'], frames=int(result.joints.shape[0])))
            continue
        sha = file_sha256(src['path'])
        for k, (start, end) in enumerate(windows):
            mid = src['id'] if len(windows) == 1 else f'{src["id"]}_w{k:02d}'
            if writer.has(mid):
                summary['resumed'].append(mid)
                continue
            joints = canonicalize_t2m22(result.joints[start:end].astype(np.float64))
            provenance = dict(
                source=src['rel'], sha256=sha, dataset=src['dataset'], clip=src['clip'], rig=src['rig'],
                conversion=RIG_MAPS[src['rig']].description, header_fps=round(bvh.header_fps, 4),
                source_fps=round(bvh.fps, 4), fps_source=fps_source, listed_fps=src['listed_fps'],
                fps=fps, source_frames=result.info['source_frames'], dropped_tpose=result.info['dropped_tpose'],
                window=[int(start), int(end)], num_windows=len(windows), unit=result.info['unit'],
                unit_scale=result.info['unit_scale'], up_axis=result.info['up_axis'],
                leg_length_m=result.info['leg_length_m'], bone_fix_max_mm=result.info['bone_fix_max_mm'],
                license=_LICENSES[src['dataset']])
            writer.write(mid, joints.astype(np.float32), [src['caption']], provenance, group=src['group'])
            summary['written'].append(mid)
    summary['splits'] = writer.finalize()
    return summary
