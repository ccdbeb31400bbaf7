"""One editor per body part behind the editor protocol (``edit_instructions``).

A body-part editor trained on one part's triplets learns that part's edits; trained on upper- and
lower-body triplets together, the tiny SourceConditionedMDM learns neither (the lower body's large
trajectory residuals crowd out the upper body's; numbers in docs/editors.md). The router keeps
one editor per part and sends each source to the editor of its ``body_part``, so the
reconstruction metric, the triplet builder and the editing benchmark use the pair as one editor.
"""
from __future__ import annotations

from typing import Dict, Optional, Sequence, Union

import numpy as np
import torch

from motionkit.registry import MODELS
from motionkit.structures.edit_request import EditRequest
from motionkit.utils.owned_model import build_owned_model

__all__ = ['BodyPartEditorRouter']


@MODELS.register_module()
class BodyPartEditorRouter(torch.nn.Module):
    """Route every source to the editor of its body part.

    Args:
        editors: ``{body part: editor}``; each editor is a ``MODELS`` config dict, the path of a
            ``.py`` config, or ``dict(config=..., checkpoint=...)`` (the config's ``model`` with
            the checkpoint's weights, loaded safely), building a ``torch.nn.Module``. Body parts
            are the triplets' (``'upper_body'``, ``'lower_body'``, ``'whole_body'``).
        unrouted: What a request for a part with no editor gets: ``'error'`` (a ``KeyError``
            naming the part, before anything is edited) or ``'source'`` (its source joints,
            unchanged: a CigTime instruction that names no body part is sent as ``'whole_body'``
            and, with no whole-body editor, edits nothing; counted in :meth:`match_stats`).
    """

    exact = False

    def __init__(self, editors: Dict[str, Union[dict, str]], unrouted: str = 'error') -> None:
        super().__init__()
        if unrouted not in ('error', 'source'):
            raise ValueError(f"BodyPartEditorRouter: unrouted must be 'error' or 'source', got {unrouted!r}")
        self.unrouted = unrouted
        self._stats = {'routed': 0, 'unrouted': 0}
        if not isinstance(editors, dict) or not editors:
            raise ValueError(f'BodyPartEditorRouter: editors must be a non-empty dict '
                             f'{{body part: editor}}, got {editors!r}')
        built = {}
        for part, spec in editors.items():
            checkpoint: Optional[str] = None
            if isinstance(spec, dict) and 'config' in spec:
                unknown = set(spec) - {'config', 'checkpoint'}
                if unknown:
                    raise KeyError(f'BodyPartEditorRouter: editor {part!r} has unknown keys '
                                   f'{sorted(unknown)} (expected config, checkpoint)')
                spec, checkpoint = spec['config'], spec.get('checkpoint')
            built[part] = build_owned_model(spec, checkpoint, f'BodyPartEditorRouter[{part}]',
                                            'edit_instructions')
        self.editors = torch.nn.ModuleDict(built)

    def editor_for(self, part: str):
        if part not in self.editors:
            raise KeyError(f'BodyPartEditorRouter: no editor for body part {part!r} (editors: '
                           f'{sorted(self.editors)})')
        return self.editors[part]

    @torch.no_grad()
    def edit_instructions(self, requests: Sequence[EditRequest], **kwargs) -> list:
        """Each part's requests go to its editor in one call (in their order); the results come
        back in the order of ``requests``. ``kwargs`` go to every editor."""
        groups: Dict[str, list] = {}
        out: list = [None] * len(requests)
        for i, req in enumerate(requests):
            if req.body_part not in self.editors and self.unrouted == 'source':
                if req.joints is None:
                    raise ValueError(f'BodyPartEditorRouter: request {i} ({req.source_id!r}) is for '
                                     f'{req.body_part!r}, which has no editor, and carries no source joints')
                out[i] = np.asarray(req.joints, dtype=np.float32).copy()
                self._stats['unrouted'] += 1
                continue
            self.editor_for(req.body_part)  # unknown parts fail before any editing
            groups.setdefault(req.body_part, []).append(i)
            self._stats['routed'] += 1
        for part, idx in groups.items():
            edited = self.editor_for(part).edit_instructions([requests[i] for i in idx], **kwargs)
            if len(edited) != len(idx):
                raise RuntimeError(f'BodyPartEditorRouter: the {part} editor returned {len(edited)} '
                                   f'motions for {len(idx)} requests')
            for i, e in zip(idx, edited):
                out[i] = e
        return out

    def match_stats(self) -> dict:
        """``dict(matched=, unmatched=, total=)``: requests sent to an editor / left unchanged
        for want of one (the reconstruction metric reports ``matched``)."""
        return dict(matched=self._stats['routed'], unmatched=self._stats['unrouted'],
                    total=self._stats['routed'] + self._stats['unrouted'])
