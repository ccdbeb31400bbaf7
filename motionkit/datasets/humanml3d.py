"""HumanML3D / KIT-ML datasets in the directory layout of Guo et al. (CVPR 2022).

Layout under ``data_root``::

    new_joint_vecs/<id>.npy   (T, D) features (263-D HumanML3D, 251-D KIT)
    new_joints/<id>.npy       (T, J, 3) joint positions (optional)
    texts/<id>.txt            one caption per line: ``caption#word/POS word/POS ...#from#to``
    train.txt val.txt test.txt ...   one motion id per line
    Mean.npy Std.npy          (D,) feature statistics
    manifest.json | manifest.jsonl   optional (motionkit's builders): ``feature_encoding``, how the
                              features were encoded (:func:`read_feature_encoding`)

Index rules of the standard text-to-motion loader (``Text2MotionDatasetV2`` in
EricGuo5513/text-to-motion, also used by MDM and its successors), which published numbers assume:

* a motion is used only if ``min_motion_length <= T < max_motion_length + unit_length``
  (40 <= T < 200 frames for HumanML3D, 24 <= T < 200 for KIT); otherwise it is dropped together
  with all its captions;
* captions with ``from == to == 0`` describe the whole motion and are pooled into one sample;
  the motion yields that sample only if it has at least one such caption;
* a caption with a time span becomes a sample of its own, cut at frames
  ``int(from * fps) : int(to * fps)``; it is dropped when the cut is outside the same length
  limits; NaN times count as 0.

Per-sample rules (random caption, unit-length cropping to multiples of 4 with the single/double
coin, caption tokens padded to ``max_text_len + 2``) live in the transforms ``SampleCaption`` and
``CropMotion``.
"""
from __future__ import annotations

import math
import os.path as osp
from collections import Counter
from typing import List, Optional

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

from motionkit.motion.humanml3d import feature_encoding_from_metadata
from motionkit.motion.statistics import load_mean_std
from motionkit.registry import DATASETS
from .caption_subset import filter_caption_subset

__all__ = ['HumanML3DDataset', 'KITDataset', 'parse_caption_line', 'load_caption_file', 'read_feature_encoding']


def parse_caption_line(line: str, path: str = '<string>', line_no: int = 0) -> dict:
    """Parse one ``caption#word/POS ...#from#to`` line of a HumanML3D ``texts/<id>.txt`` file.

    Returns:
        ``dict(caption=str, tokens=list[str], start=float, end=float)`` (seconds; NaN -> 0.0 as in
        the T2M loader).

    Raises:
        ValueError: naming ``path`` and ``line_no`` when the line does not have exactly 4
            ``#``-separated fields, the caption is empty, a token is not ``word/POS``, or a time
            is not a number.
    """
    where = f'{path}, line {line_no}'
    fields = line.rstrip('\r\n').split('#')
    if len(fields) != 4:
        raise ValueError(f'{where}: expected 4 "#"-separated fields '
                         f'(caption#tokens#from#to), got {len(fields)}: {line.strip()!r}')
    caption, token_field, start_field, end_field = fields
    caption = caption.strip()
    if not caption:
        raise ValueError(f'{where}: empty caption: {line.strip()!r}')
    tokens = token_field.split()
    if not tokens:
        raise ValueError(f'{where}: no word/POS tokens in the second field: {line.strip()!r}')
    bad = [t for t in tokens if '/' not in t]
    if bad:
        raise ValueError(f'{where}: tokens must be word/POS, got {bad[:3]} in {line.strip()!r}')
    times = []
    for name, value in (('from', start_field), ('to', end_field)):
        try:
            t = float(value)
        except ValueError:
            raise ValueError(f'{where}: {name} time {value!r} is not a number') from None
        times.append(0.0 if math.isnan(t) else t)
    if times[0] < 0 or times[1] < 0:
        raise ValueError(f'{where}: negative time span {times[0]}#{times[1]}')
    return dict(caption=caption, tokens=tokens, start=times[0], end=times[1])


def load_caption_file(path: str) -> List[dict]:
    """Parse every non-empty line of a HumanML3D caption file (see :func:`parse_caption_line`).

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: a malformed line, or no caption at all.
    """
    with open(path, encoding='utf-8') as f:
        lines = f.readlines()
    texts = [parse_caption_line(line, path, i + 1) for i, line in enumerate(lines) if line.strip()]
    if not texts:
        raise ValueError(f'{path}: caption file holds no caption')
    return texts


def read_feature_encoding(data_root: str) -> str:
    """``root_angular_velocity`` (``'official'`` / ``'wrapped'``) the features of a dataset folder
    were encoded with, from the ``feature_encoding`` its builder recorded: ``manifest.json``
    (SynthMotion, CigTime triplets) or every line of ``manifest.jsonl`` (the HumanML3D writer of
    the importers). A folder with no record (HumanML3D / KIT-ML as released) is ``'official'``.

    ``decode`` is the same for both encodings; the record matters where new joints are encoded to
    sit beside the stored features (edits, generated motions, statistics).

    Raises:
        ValueError: an unknown encoding, or records of one folder that disagree (naming the file
            and line).
    """
    import json
    path = osp.join(data_root, 'manifest.json')
    if osp.isfile(path):
        with open(path, encoding='utf-8') as f:
            return feature_encoding_from_metadata(json.load(f), path)
    path = osp.join(data_root, 'manifest.jsonl')
    if not osp.isfile(path):
        return 'official'
    found = None
    with open(path, encoding='utf-8') as f:
        for line_no, line in enumerate(f, 1):
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut by an interrupted build (its id is not in the split files)
            value = feature_encoding_from_metadata(rec, f'{path}, line {line_no}')
            if found is not None and value != found:
                raise ValueError(f'{path}, line {line_no}: motion {rec.get("id")!r} was encoded with '
                                 f'{value!r}, earlier motions with {found!r}')
            found = value
    return found or 'official'


@DATASETS.register_module()
class HumanML3DDataset(BaseDataset):
    """Text-annotated motions in the HumanML3D layout (263-D features, ``t2m22`` skeleton).

    Every item is a dict for the pipeline with ``motion_id``, ``sample_id``, ``motion_path``,
    ``joints_path`` (if ``with_joints``), ``text_path``, ``texts`` (list of
    ``dict(caption, tokens, start, end)``), ``start_frame`` / ``end_frame`` (frame window, end
    exclusive), ``length``, and the metainfo entries ``dataset_name``, ``fps``, ``skeleton``,
    ``representation``, ``feature_dim``, ``num_joints``, ``min_motion_length``, ``mean_path``,
    ``std_path`` and ``feature_encoding`` (:func:`read_feature_encoding`: ``'official'`` unless the
    folder's builder recorded otherwise).

    Args:
        data_root: Dataset folder.
        ann_file: Split file with one motion id per line (``train.txt``, ``test.txt``, ...),
            relative to ``data_root`` or absolute.
        data_prefix: Sub-folders: ``motion_path`` (features), ``joints_path``, ``text_path``.
        with_texts: Read ``texts/<id>.txt``. With ``False`` every motion gives one sample with
            no caption (motion-only training, or a copy without texts).
        with_joints: Also point each sample at ``new_joints/<id>.npy`` (checked to exist).
        min_motion_length: Shortest motion / caption span kept, in frames (HumanML3D 40, KIT 24).
        max_motion_length: Longest motion after cropping (196); motions of up to
            ``max_motion_length + unit_length - 1`` frames are kept (T2M's ``< 200``) because the
            unit-length crop brings them to at most ``max_motion_length``.
        unit_length: Unit of the crop rule (4).
        split_segments: Turn time-spanned captions into samples of their own (T2M). With
            ``False`` they are ignored.
        mean_file, std_file: Statistics files relative to ``data_root`` (or absolute); checked at
            construction and recorded as ``mean_path`` / ``std_path`` in the metainfo. ``None``
            skips them (then ``NormalizeMotion`` needs explicit statistics).
        skip_missing: Skip ids whose feature or caption file is missing (the T2M loader does this
            silently for KIT) instead of raising. Skipped ids are counted and logged.
        filter_cfg: ``dict(caption_subset=PATH)`` keeps one sample per caption line listed in
            ``PATH`` (a subtask test set of MotionPrefer's ``testsets`` stage; format and rules in
            :mod:`motionkit.datasets.caption_subset`). ``PATH`` is used as given (not joined
            with ``data_root``).
    """

    METAINFO = dict(dataset_name='HumanML3D', fps=20, skeleton='t2m22',
                    representation='HumanML3DFeatures', feature_dim=263, num_joints=22)
    DEFAULT_MIN_MOTION_LENGTH = 40

    def __init__(self,
                 data_root: str,
                 ann_file: str = 'train.txt',
                 data_prefix: Optional[dict] = None,
                 with_texts: bool = True,
                 with_joints: bool = False,
                 min_motion_length: Optional[int] = None,
                 max_motion_length: int = 196,
                 unit_length: int = 4,
                 split_segments: bool = True,
                 mean_file: Optional[str] = 'Mean.npy',
                 std_file: Optional[str] = 'Std.npy',
                 skip_missing: bool = False,
                 metainfo: Optional[dict] = None,
                 pipeline: Optional[list] = None,
                 test_mode: bool = False,
                 **kwargs) -> None:
        if not data_root or not osp.isdir(data_root):
            raise FileNotFoundError(f'{type(self).__name__}: data_root {data_root!r} is not a '
                                    'directory')
        prefix = dict(motion_path='new_joint_vecs', joints_path='new_joints', text_path='texts')
        if data_prefix:
            unknown = set(data_prefix) - set(prefix)
            if unknown:
                raise KeyError(f'{type(self).__name__}: unknown data_prefix keys {sorted(unknown)};'
                               f' expected some of {sorted(prefix)}')
            prefix.update(data_prefix)
        self.with_texts = with_texts
        self.with_joints = with_joints
        self.min_motion_length = (self.DEFAULT_MIN_MOTION_LENGTH
                                  if min_motion_length is None else int(min_motion_length))
        self.max_motion_length = int(max_motion_length)
        self.unit_length = int(unit_length)
        if self.min_motion_length < 1 or self.max_motion_length < self.min_motion_length:
            raise ValueError(f'{type(self).__name__}: need 1 <= min_motion_length <= '
                             f'max_motion_length, got {self.min_motion_length} and '
                             f'{self.max_motion_length}')
        self.split_segments = split_segments
        self.skip_missing = skip_missing
        self.filter_stats: Counter = Counter()

        meta = dict(metainfo or {})
        meta.setdefault('min_motion_length', self.min_motion_length)
        meta.setdefault('max_motion_length', self.max_motion_length)
        meta.setdefault('unit_length', self.unit_length)
        # Statistics paths are added to the metainfo after BaseDataset.__init__, whose metainfo
        # parser would try to read any string value as a list file.
        stats_paths = {}
        for key, name in (('mean_path', mean_file), ('std_path', std_file)):
            stats_paths[key] = None if name is None else (
                name if osp.isabs(name) else osp.join(data_root, name))
        if (stats_paths['mean_path'] is None) != (stats_paths['std_path'] is None):
            raise ValueError(f'{type(self).__name__}: give both mean_file and std_file, or neither')
        if stats_paths['mean_path'] is not None:
            feature_dim = meta.get('feature_dim', self.METAINFO['feature_dim'])
            try:
                load_mean_std(stats_paths['mean_path'], stats_paths['std_path'], feature_dim)
            except FileNotFoundError as err:
                raise FileNotFoundError(
                    f'{type(self).__name__}: {err}; set mean_file=None, std_file=None to load '
                    'without normalisation statistics') from None

        super().__init__(ann_file=ann_file, metainfo=meta, data_root=data_root,
                         data_prefix=prefix, pipeline=pipeline or [], test_mode=test_mode,
                         **kwargs)
        self._metainfo.update(stats_paths)
        self._metainfo.setdefault('feature_encoding', read_feature_encoding(data_root))

    # ------------------------------------------------------------------ index
    @property
    def max_source_length(self) -> int:
        """Motions and spans shorter than this are kept (200 = 196 + 4 in the T2M loader)."""
        return self.max_motion_length + self.unit_length

    def _length_ok(self, length: int) -> bool:
        return self.min_motion_length <= length < self.max_source_length

    def _read_split(self) -> List[str]:
        if not osp.isfile(self.ann_file):
            raise FileNotFoundError(f'{type(self).__name__}: split file not found: '
                                    f'{self.ann_file}')
        with open(self.ann_file, encoding='utf-8') as f:
            ids = [line.strip() for line in f if line.strip()]
        if not ids:
            raise ValueError(f'{type(self).__name__}: split file {self.ann_file} is empty '
                             '(expected one motion id per line)')
        return ids

    def _motion_length(self, path: str) -> int:
        """Frames in a feature file, read from the ``.npy`` header only."""
        array = np.load(path, mmap_mode='r')
        dim = self._metainfo.get('feature_dim')
        if array.ndim != 2 or (dim is not None and array.shape[1] != dim):
            raise ValueError(f'{type(self).__name__}: {path}: expected (T, {dim}) motion '
                             f'features, got shape {array.shape}')
        return int(array.shape[0])

    def load_data_list(self) -> List[dict]:
        """Build one entry per sample: whole motions with their captions, and caption spans."""
        stats = self.filter_stats
        stats.clear()
        fps = float(self._metainfo['fps'])
        motion_dir = self.data_prefix['motion_path']
        text_dir = self.data_prefix['text_path']
        joints_dir = self.data_prefix['joints_path']
        data_list = []
        for motion_id in self._read_split():
            motion_path = osp.join(motion_dir, motion_id + '.npy')
            text_path = osp.join(text_dir, motion_id + '.txt')
            joints_path = osp.join(joints_dir, motion_id + '.npy')
            missing = [p for p, needed in ((motion_path, True), (text_path, self.with_texts),
                                           (joints_path, self.with_joints))
                       if needed and not osp.isfile(p)]
            if missing:
                if self.skip_missing:
                    stats['missing_files'] += 1
                    continue
                raise FileNotFoundError(
                    f'{type(self).__name__}: {missing[0]} not found (motion id {motion_id!r} '
                    f'listed in {self.ann_file}); pass skip_missing=True to skip such ids'
                    + (' or with_texts=False to load motions without captions'
                       if missing[0] == text_path else ''))
            length = self._motion_length(motion_path)
            if not self._length_ok(length):
                stats['motion_too_short' if length < self.min_motion_length
                      else 'motion_too_long'] += 1
                continue
            base = dict(motion_id=motion_id, motion_path=motion_path,
                        text_path=text_path if self.with_texts else None)
            if self.with_joints:
                base['joints_path'] = joints_path
            if not self.with_texts:
                data_list.append(dict(base, sample_id=motion_id, texts=[], start_frame=0,
                                      end_frame=length, length=length))
                continue
            whole = []
            for k, text in enumerate(load_caption_file(text_path)):
                if text['start'] == 0.0 and text['end'] == 0.0:
                    whole.append(text)
                    continue
                if not self.split_segments:
                    stats['segment_ignored'] += 1
                    continue
                start, end = int(text['start'] * fps), int(text['end'] * fps)
                # length of motion[start:end] with Python slicing, as in the T2M loader
                seg_len = max(0, min(end, length) - min(start, length))
                if not self._length_ok(seg_len):
                    stats['segment_too_short' if seg_len < self.min_motion_length
                          else 'segment_too_long'] += 1
                    continue
                data_list.append(dict(base, sample_id=f'{motion_id}_seg{k}', texts=[text],
                                      start_frame=start, end_frame=min(end, length),
                                      length=seg_len))
            if whole:
                data_list.append(dict(base, sample_id=motion_id, texts=whole, start_frame=0,
                                      end_frame=length, length=length))
            else:
                stats['no_whole_caption'] += 1
        if stats:
            print_log(f'{type(self).__name__} ({self.ann_file}): {len(data_list)} samples; '
                      f'dropped: {dict(stats)}', logger='current')
        if not data_list:
            reasons = ', '.join(f'{k}={v}' for k, v in sorted(stats.items())) or 'none recorded'
            raise ValueError(
                f'{type(self).__name__}: no sample left from split file {self.ann_file}: every '
                f'listed motion was filtered out ({reasons}); length limits are '
                f'{self.min_motion_length} <= T < {self.max_source_length} frames')
        return data_list

    def filter_data(self) -> List[dict]:
        """``filter_cfg=dict(caption_subset=PATH)``: the listed caption lines only."""
        cfg = dict(self.filter_cfg or {})
        subset = cfg.pop('caption_subset', None)
        if cfg:
            raise KeyError(f'{type(self).__name__}: unknown filter_cfg keys {sorted(cfg)}; expected '
                           "'caption_subset'")
        if subset is None:
            return self.data_list
        return filter_caption_subset(self.data_list, str(subset), type(self).__name__)

    def get_data_info(self, idx: int) -> dict:
        """The idx-th entry plus the metainfo the transforms use."""
        info = super().get_data_info(idx)
        meta = self._metainfo
        for key in ('dataset_name', 'fps', 'skeleton', 'representation', 'feature_dim',
                    'num_joints', 'min_motion_length', 'mean_path', 'std_path', 'feature_encoding'):
            if key in meta:
                info.setdefault(key, meta[key])
        return info

    @property
    def lengths(self) -> np.ndarray:
        """``(N,)`` frames of every sample (before cropping), e.g. for length-bucketed samplers."""
        return np.array([self.get_data_info(i)['length'] for i in range(len(self))])


@DATASETS.register_module()
class KITDataset(HumanML3DDataset):
    """KIT-ML in the HumanML3D layout (251-D features, ``kit21`` skeleton).

    KIT-ML motions as released by Guo et al. are sampled at 12.5 fps; the T2M loader keeps motions
    of 24 to 199 frames. All KIT-ML captions describe whole motions.
    """

    METAINFO = dict(dataset_name='KIT-ML', fps=12.5, skeleton='kit21',
                    representation='KITFeatures', feature_dim=251, num_joints=21)
    DEFAULT_MIN_MOTION_LENGTH = 24
