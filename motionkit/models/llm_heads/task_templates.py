"""Task templates of a text-and-motion language model (MotionGPT's stages 2 and 3).

A template is a ``(prompt, response)`` pair of format strings with the fields ``{caption}`` (the
text) and ``{motion}`` (the motion's token text, e.g. ``<motion_id_K><motion_id_3>...
<motion_id_K+1>``). A task is ``'t2m'`` (text to motion: the response holds ``{motion}``) or
``'m2t'`` (motion to text: the response holds ``{caption}``).

* ``'motiongpt_pretrain'`` (MotionGPT sec. 3.3, motion-language pre-training): the raw pairs, the
  caption alone in, the motion out, and the reverse.
* ``'motiongpt_instruct'`` (MotionGPT sec. 3.3, instruction tuning): several instructions per
  task (MotionGPT draws one of its templates at random for every sample). The wordings below are
  motionkit's own; they are not copies of MotionGPT's template file.
"""
from __future__ import annotations

import string
from typing import Dict, List, Tuple, Union

__all__ = ['TASK_TEMPLATES', 'TASKS', 'resolve_task_templates']

TASKS = ('t2m', 'm2t')

TASK_TEMPLATES: Dict[str, Dict[str, List[Tuple[str, str]]]] = {
    'motiongpt_pretrain': {
        't2m': [('{caption}', '{motion}')],
        'm2t': [('{motion}', '{caption}')],
    },
    'motiongpt_instruct': {
        't2m': [
            ('generate a motion : {caption}', '{motion}'),
            ('show me how a person moves when : {caption}', '{motion}'),
            ('write the motion tokens of this description : {caption}', '{motion}'),
            ('animate a person so that {caption}', '{motion}'),
            ('here is a description of a movement : {caption} . produce the motion .', '{motion}'),
        ],
        'm2t': [
            ('describe the motion : {motion}', '{caption}'),
            ('what is the person doing in {motion} ?', '{caption}'),
            ('write a caption for the movement {motion}', '{caption}'),
            ('explain in words the motion {motion}', '{caption}'),
            ('{motion} . describe this movement .', '{caption}'),
        ],
    },
}


def _fields(fmt: str) -> List[str]:
    return [name for _, name, _, _ in string.Formatter().parse(fmt) if name]


def resolve_task_templates(templates: Union[str, dict]) -> Dict[str, List[Tuple[str, str]]]:
    """A preset of :data:`TASK_TEMPLATES` or ``dict(t2m=[(prompt, response), ...], m2t=[...])``,
    checked: ``t2m`` prompts hold ``{caption}`` and responses exactly ``{motion}``; ``m2t`` the
    reverse. A task may be missing (the model then cannot train or predict it)."""
    if isinstance(templates, str):
        if templates not in TASK_TEMPLATES:
            raise KeyError(f'unknown task templates {templates!r}; presets: {sorted(TASK_TEMPLATES)}')
        templates = TASK_TEMPLATES[templates]
    if not isinstance(templates, dict) or not templates:
        raise TypeError(f'task templates must be a preset name or dict(t2m=[...], m2t=[...]), got {templates!r}')
    out = {}
    for task, pairs in templates.items():
        if task not in TASKS:
            raise KeyError(f'task templates: unknown task {task!r}; tasks are {TASKS}')
        pairs = [tuple(p) for p in pairs]
        if not pairs:
            raise ValueError(f'task templates: task {task!r} has no template')
        src, dst = ('caption', 'motion') if task == 't2m' else ('motion', 'caption')
        for k, pair in enumerate(pairs):
            if len(pair) != 2:
                raise ValueError(f'task templates: {task}[{k}] must be (prompt, response), got {pair!r}')
            prompt, response = pair
            if _fields(prompt) != [src]:
                raise ValueError(f'task templates: {task}[{k}] prompt {prompt!r} must have the one field '
                                 f'{{{src}}}')
            if _fields(response) != [dst]:
                raise ValueError(f'task templates: {task}[{k}] response {response!r} must have the one '
                                 f'field {{{dst}}}')
        out[task] = pairs
    return out
