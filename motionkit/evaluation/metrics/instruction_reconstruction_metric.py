"""Reconstruction accuracy of corrective instructions (CigTime, Table 3).

CigTime measures an instruction by what it does: the source motion is edited with the generated
instruction through a motion editor, and the edited motion is compared with the ground-truth target
(MPJPE; the paper's reconstruction FID is not computed yet). A good instruction reproduces the
target; the "do nothing" reference is the error of the unedited source.

The editor is any :class:`~motionkit.structures.InstructionEditor`,
``edit_instructions(requests) -> list[(T, J, 3)]`` over :class:`~motionkit.structures.EditRequest` (see
:class:`~motionkit.synthmotion.SynthMotionExactEditor` and :meth:`MDM.edit_instructions`).
Like generative metrics that own their feature network (FID's Inception), this metric builds and
owns its editor.

The editor learns which body part to regenerate from the instruction itself: CigTime's instructions
open with "Upper body:" / "Lower body:" (:func:`~motionkit.structures.parse_body_part`). Nothing of
the triplet's answer (its body part, its edited joints) reaches the editor. An instruction that names
no part is a failure of the part (``body_part_accuracy``) and is sent with ``'whole_body'``: the
editor may move everything (SynthMotion's exact editor then matches against every edit; the MDM
router has no whole-body editor and leaves the source unchanged).
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from motionkit.registry import METRICS
from motionkit.structures.edit_request import EditRequest, parse_body_part
from motionkit.utils.owned_model import build_owned_model
from ..functional import mpjpe
from ._fields import get_field, to_numpy

__all__ = ['InstructionReconstructionMetric', 'common_length_mpjpe']


def common_length_mpjpe(pred: np.ndarray, target: np.ndarray, root_index: Optional[int] = None) -> float:
    """MPJPE in mm over the frames both motions have (an edit may change the length: e.g. "take two
    more steps"; the frames one motion lacks are not scored, so a length change still costs through
    the frames that differ). ``(T1, J, 3), (T2, J, 3) -> float``."""
    n = min(len(pred), len(target))
    if n < 1:
        raise ValueError(f'common_length_mpjpe: empty motion ({pred.shape} vs {target.shape})')
    if pred.shape[1:] != target.shape[1:]:
        raise ValueError(f'common_length_mpjpe: joint layouts differ: {pred.shape} vs {target.shape}')
    return float(mpjpe(pred[:n], target[:n], root_index=root_index))


@METRICS.register_module()
class InstructionReconstructionMetric(BaseMetric):
    """Edit each source with an instruction and score the result against the target.

    Args:
        editor: the editor: a config dict built from ``MODELS``, the path of a config file whose
            ``model`` is the editor (e.g. the MDM editor's training config), or an object with
            ``edit_instructions``.
        editor_checkpoint: weights for a model editor (e.g. the tiny MDM), loaded safely.
        instruction_key: which instruction to edit with: ``'pred_instruction'`` (the model's),
            ``'gt_instruction'`` (oracle: the editor's own ceiling).
        root_index: root-relative MPJPE when set (``None``: absolute, world coordinates).
        batch_size: how many sources to hand to the editor at once.
        seed: seeds torch before each editor call, so stochastic editors are repeatable.
        body_parts: score only triplets of these body parts (e.g. ``('upper_body', 'lower_body')``
            for an editor that edits by body-part masks, like MDM; ``None``: all).

    Output keys (prefix ``recon`` unless given): ``mpjpe`` (edited vs target, mm, mean over
    motions), ``mpjpe_source`` (unedited source vs target: the "do nothing" baseline),
    ``improvement`` (``1 - mpjpe / mpjpe_source``), ``body_part_accuracy`` (share of instructions
    naming the triplet's body part), ``body_part_missing`` (share naming none), and ``matched``
    (fraction of instructions the editor could apply) when the editor reports it.

    ``body_parts`` selects which triplets are scored by their reference part (a protocol choice,
    like scoring a subset); the editor still gets the part the instruction names.
    """

    default_prefix = 'recon'

    def __init__(self,
                 editor: Union[dict, Any],
                 editor_checkpoint: Optional[str] = None,
                 instruction_key: str = 'pred_instruction',
                 root_index: Optional[int] = None,
                 batch_size: int = 32,
                 seed: int = 0,
                 body_parts: Optional[Sequence[str]] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if editor is None:
            raise ValueError('InstructionReconstructionMetric needs an editor, e.g. '
                             "editor=dict(type='SynthMotionExactEditor')")
        self._editor_cfg = editor
        self._editor = None
        self.editor_checkpoint = editor_checkpoint
        self.instruction_key = instruction_key
        self.root_index = root_index
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.body_parts = None if body_parts is None else set(body_parts)

    @property
    def editor(self):
        if self._editor is None:
            self._editor = build_owned_model(self._editor_cfg, self.editor_checkpoint,
                                             'InstructionReconstructionMetric', 'edit_instructions')
        return self._editor

    def _request(self, sample, raw_source) -> Tuple[EditRequest, Optional[str]]:
        """The edit the sample asks for: its source and the instruction under ``instruction_key``,
        with the body part the instruction names (``'whole_body'`` when it names none), and that
        part (``None``: none named)."""
        meta = sample.metainfo if hasattr(sample, 'metainfo') else sample
        name = 'InstructionReconstructionMetric'
        text = get_field(sample, self.instruction_key, name)
        if not isinstance(text, str):
            raise TypeError(f'{name}: {self.instruction_key} must be a str, got {type(text).__name__}')
        motion = None if raw_source is None else to_numpy(raw_source, 'source')
        motion_path = meta.get('source_motion_path') if hasattr(meta, 'get') else None
        if motion is None and motion_path:
            motion = np.load(motion_path).astype(np.float32)
        part, body = parse_body_part(text)
        return EditRequest(
            instruction=body,
            source_id=get_field(sample, 'source_id', name),
            motion=motion,
            joints=to_numpy(get_field(sample, 'gt_source_joints', name), 'gt_source_joints').astype(np.float32),
            body_part=part or 'whole_body',
            source_captions=tuple(get_field(sample, 'gt_source_captions', name, required=False) or ()),
            data_root=meta.get('data_root') if hasattr(meta, 'get') else None), part

    def process(self, data_batch: Any, data_samples: Sequence) -> None:
        raw = None
        if isinstance(data_batch, dict) and isinstance(data_batch.get('inputs'), dict):
            raw = data_batch['inputs'].get('source')
        requests, targets, parts = [], [], []
        for i, sample in enumerate(data_samples):
            ref_part = get_field(sample, 'body_part', 'InstructionReconstructionMetric')
            if self.body_parts is not None and ref_part not in self.body_parts:
                continue
            req, named = self._request(sample, raw[i] if isinstance(raw, (list, tuple)) else None)
            requests.append(req)
            parts.append((named, ref_part))
            targets.append(to_numpy(get_field(sample, 'gt_target_joints', 'InstructionReconstructionMetric'),
                                    'gt_target_joints'))
        for start in range(0, len(requests), self.batch_size):
            chunk = slice(start, start + self.batch_size)
            torch.manual_seed(self.seed + start)
            with torch.no_grad():
                edited = self.editor.edit_instructions(requests[chunk])
            if len(edited) != len(requests[chunk]):
                raise RuntimeError(f'InstructionReconstructionMetric: the editor returned {len(edited)} '
                                   f'motions for {len(requests[chunk])} requests')
            for req, out, tgt, (named, ref_part) in zip(requests[chunk], edited, targets[chunk], parts[chunk]):
                out = np.asarray(out, dtype=np.float32)
                if not np.isfinite(out).all():
                    raise ValueError(f'InstructionReconstructionMetric: the editor returned non-finite '
                                     f'joints for source {req.source_id!r}')
                self.results.append(dict(
                    mpjpe=common_length_mpjpe(out, tgt, self.root_index),
                    mpjpe_source=common_length_mpjpe(req.joints, tgt, self.root_index),
                    part_named=named is not None, part_correct=named == ref_part))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        if not results:
            raise ValueError('InstructionReconstructionMetric: no samples were processed'
                             + (f' (body_parts={sorted(self.body_parts)})' if self.body_parts else ''))
        err = float(np.mean([r['mpjpe'] for r in results]))
        base = float(np.mean([r['mpjpe_source'] for r in results]))
        out = dict(mpjpe=err, mpjpe_source=base, improvement=1.0 - err / base if base > 0 else 0.0,
                   count=float(len(results)),
                   body_part_accuracy=float(np.mean([r.get('part_correct', False) for r in results])),
                   body_part_missing=float(np.mean([not r.get('part_named', False) for r in results])))
        stats = getattr(self._editor, 'match_stats', None)
        if callable(stats):
            stats = stats()
        if isinstance(stats, dict) and stats.get('total'):
            out['matched'] = float(stats['matched']) / float(stats['total'])
        MMLogger.get_current_instance().info(
            f'InstructionReconstructionMetric: {len(results)} edits with {self.instruction_key}')
        return out
