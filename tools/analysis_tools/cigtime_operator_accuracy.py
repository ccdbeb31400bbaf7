"""Which SynthMotion edit does each generated instruction name? Operator accuracy of CigTime
predictions on SynthMotion triplets.

    python tools/test.py CONFIG CKPT --out preds.json         # any instruction model (.json or .pkl)
    python tools/analysis_tools/cigtime_operator_accuracy.py preds.json [more.pkl ...]

An instruction names operator ``op`` when it fills one of ``op``'s paraphrase templates
(``motionkit.synthmotion.edits.EDIT_OPERATORS``: the literal words of the template, any
text where a ``{field}`` stands). A prediction is right when the triplet's own ``edit`` is among
the operators it names. Prints a Markdown table: overall and per body part, and the share of
predictions that are exactly the reference instruction. BLEU and METEOR reward shared words;
this says whether the instruction asks for the right change.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Dict, List, Sequence, Set

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a checkout

PARTS = ('upper_body', 'lower_body', 'whole_body')


def operators_named(instruction: str) -> Set[str]:
    """The SynthMotion edit operators whose templates ``instruction`` fills (the parser the
    ``EditOperatorAccuracyMetric`` uses; a leading "Upper body:" is ignored)."""
    from motionkit.synthmotion.instruction_parser import operators_named as parse
    return parse(instruction)


def operator_accuracy(predictions: Sequence[dict]) -> Dict[str, float]:
    """``{'all': acc, 'upper_body': acc, ..., 'exact': share, 'n': count}`` for dumped predictions
    (dicts with ``pred_instruction``, ``gt_instruction``, ``edit``, ``body_part``)."""
    hits: Dict[str, List[bool]] = {}
    exact = []
    for i, p in enumerate(predictions):
        missing = [k for k in ('pred_instruction', 'gt_instruction', 'edit', 'body_part') if k not in p]
        if missing:
            raise KeyError(f'prediction {i} has no {missing} (dump a CigTime triplet test set with '
                           'tools/test.py --out)')
        ok = p['edit'] in operators_named(p['pred_instruction'])
        hits.setdefault('all', []).append(ok)
        hits.setdefault(p['body_part'], []).append(ok)
        exact.append(p['pred_instruction'].strip() == p['gt_instruction'].strip())
    if not exact:
        raise ValueError('no predictions')
    out = {k: sum(v) / len(v) for k, v in hits.items()}
    out.update(exact=sum(exact) / len(exact), n=len(exact))
    return out


def load_predictions(path: str) -> list:
    """Predictions dumped by ``tools/test.py --out``: ``.json``, or ``.pkl`` read by
    :func:`motionkit.utils.safe_pickle_load` (plain data only; a pickle never runs code here)."""
    if path.endswith('.json'):
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    if path.endswith(('.pkl', '.pickle')):
        from motionkit.utils import safe_pickle_load
        return safe_pickle_load(path)
    raise ValueError(f'{path}: expected a .json or .pkl file written by tools/test.py --out')


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('predictions', nargs='+', help='.json or .pkl files written by tools/test.py --out')
    args = parser.parse_args(argv)
    lines = ['| predictions | n | operator accuracy | upper body | lower body | whole body | exact text |',
             '|---|---:|---:|---:|---:|---:|---:|']
    for path in args.predictions:
        preds = load_predictions(path)
        acc = operator_accuracy(preds)
        cells = [f"{100 * acc[k]:.1f}%" if k in acc else '-' for k in ('all', ) + PARTS]
        lines.append(f'| {path} | {acc["n"]} | ' + ' | '.join(cells) + f' | {100 * acc["exact"]:.1f}% |')
    table = '\n'.join(lines)
    print(table)
    return table


if __name__ == '__main__':
    main()
