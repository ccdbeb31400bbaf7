"""Prompt templates of motion-language tasks (format strings with named fields).

Fields: ``{source}`` / ``{target}`` are the text forms of motions (token ids, added motion tokens
or continuous placeholders, depending on the motion-token strategy); ``{pair}`` is both motions
written step by step (source token k, target token k; see ``MotionLanguageModel.pair_text``);
``{examples}`` is the
in-context block. The response (instruction, caption) is appended after the prompt and is the only
part that is scored by the loss.

The CigTime wordings below are motionkit's paraphrases of the paper's Fig. 2 (instruction tuning:
the model sees the source and the target motion tokens and answers with the corrective
instruction) and Fig. 4 (in-context learning: a task description, worked examples, then the query);
they are not verbatim copies of the paper's text.
"""
from __future__ import annotations

import string
from typing import Dict, List

__all__ = ['PROMPT_TEMPLATES', 'resolve_template', 'template_fields']

PROMPT_TEMPLATES: Dict[str, str] = {
    # CigTime Fig. 2 (paraphrase): source + target motion tokens -> corrective instruction
    'cigtime': ('the source motion is {source} . the target motion is {target} . give the instruction '
                'that changes the source motion into the target motion . instruction :'),
    # the same question with the two motions written step by step ({pair}: source token k, target
    # token k, ...), so that a small LM compares them at neighbouring positions
    'cigtime_pair': ('the source and target motions , step by step , are {pair} . give the instruction '
                     'that changes the source motion into the target motion . instruction :'),
    # CigTime Fig. 4 (paraphrase): an in-context prompt for a pretrained chat LM (no fine-tuning)
    'cigtime_icl': ('You are a motion coach. Motions are written as sequences of motion token ids. '
                    'Given a source motion and a target motion, write one short instruction that tells '
                    'the person how to change the source motion into the target motion.\n'
                    '{examples}Source motion: {source}\nTarget motion: {target}\nInstruction:'),
    # caption of a single motion (MotionGPT-style motion-to-text; CigTime's caption-of-target baseline)
    'caption': 'the motion is {target} . describe the motion :',
}


def resolve_template(template: str) -> str:
    """A preset name of :data:`PROMPT_TEMPLATES` or a format string (which must have a field)."""
    if template in PROMPT_TEMPLATES:
        return PROMPT_TEMPLATES[template]
    if not template_fields(template):
        raise ValueError(f'prompt template {template!r} is neither a preset ({sorted(PROMPT_TEMPLATES)}) '
                         'nor a format string with fields such as {source} / {target}')
    return template


def template_fields(template: str) -> List[str]:
    """Field names in order of appearance (``'a {target} b {source}'`` -> ``['target', 'source']``)."""
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]
