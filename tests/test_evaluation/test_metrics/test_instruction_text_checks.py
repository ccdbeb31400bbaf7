"""EditOperatorAccuracyMetric and InstructionNoveltyMetric: what the text metrics reward (issue #18)."""
import json

import numpy as np
import pytest
from mmengine.structures import BaseDataElement

from motionkit.evaluation.functional import normalize_text  # re-exported from motionkit.utils.text
from motionkit.evaluation.metrics import CaptionMetric, EditOperatorAccuracyMetric, InstructionNoveltyMetric
from motionkit.synthmotion import operators_named


def _s(pred, edit='wave_higher', part='upper_body', gt='Upper body: raise your hand higher when you wave'):
    return BaseDataElement(pred_instruction=pred, gt_instruction=gt, edit=edit, body_part=part,
                           source_id='S0')


def test_operator_parser_is_order_aware():
    assert operators_named('Upper body: raise your hand higher when you wave') == {'wave_higher'}
    assert operators_named('raise your hand higher when you wave!') == {'wave_higher'}
    assert operators_named('wave you when higher hand your raise') == set()
    assert operators_named('raise your hand higher') == set()  # half a template names nothing
    # a slot takes any words: the values are the exact editor's business
    assert operators_named('use the purple hand to wave instead') == {'wave_other_hand'}
    assert {'walk_faster', 'run_faster'} <= operators_named('move faster')


def test_operator_accuracy_by_hand():
    m = EditOperatorAccuracyMetric()
    m.process({}, [
        _s('Upper body: wave with your hand held up higher'),              # right edit, right part
        _s('lift the waving arm higher'),                                  # right edit, no part
        _s('Upper body: wave with bigger movements'),                      # wrong edit
        _s('Lower body: squat deeper', edit='squat_deeper', part='lower_body', gt='Lower body: squat deeper'),
    ])
    out = m.compute_metrics(m.results)
    assert out['accuracy'] == pytest.approx(3 / 4)
    assert out['upper_body'] == pytest.approx(2 / 3) and out['lower_body'] == 1.0
    assert out['named_any'] == 1.0
    assert out['body_part'] == pytest.approx(3 / 4)
    with pytest.raises(KeyError, match='edit'):
        m.process({}, [_s('x', edit=None)])


def test_novelty_by_hand(tmp_path):
    ann = tmp_path / 'triplets.jsonl'
    rows = [dict(split='train', instructions=['Kick higher.', 'raise your kicking leg higher']),
            dict(split='test', instructions=['lift your foot higher when you kick'])]
    ann.write_text(''.join(json.dumps(r) + '\n' for r in rows))
    m = InstructionNoveltyMetric(train_ann_file=str(ann))
    m.process({}, [_s('Lower body: kick higher', gt='Lower body: lift your foot higher when you kick'),
                   _s('kick higher!', gt='Lower body: kick higher'),
                   _s('lift your foot higher when you kick', gt='x')])
    out = m.compute_metrics(m.results)
    assert out['verbatim_copy'] == pytest.approx(2 / 3)  # test phrasings are not training strings
    assert out['reference_in_train'] == pytest.approx(1 / 3)
    assert out['distinct'] == pytest.approx(2 / 3)
    with pytest.raises(FileNotFoundError, match='train_ann_file'):
        InstructionNoveltyMetric(train_ann_file=str(tmp_path / 'none.jsonl')).seen()


def test_normalize_text():
    assert normalize_text("  Don't kick-HIGHER!! ") == 'don t kick higher'


def test_caption_metric_scores_after_the_body_part():
    pred, ref = 'Upper body: wave higher', 'Upper body: clap overhead now'
    plain = CaptionMetric(preset='default', bleu=None, pred_key='pred_instruction', gt_keys=('gt_instruction', ))
    strip = CaptionMetric(preset='default', bleu=None, pred_key='pred_instruction', gt_keys=('gt_instruction', ),
                          strip_body_part=True)
    for m in (plain, strip):
        m.process({}, [_s(pred, gt=ref)])
    assert strip.results == [('wave higher', ['clap overhead now'])]
    # the shared opening alone gives the plain score its unigram overlap
    assert plain.compute_metrics(plain.results)['rouge_1'] > 0.3
    assert strip.compute_metrics(strip.results)['rouge_1'] == 0.0
    assert np.isfinite(strip.compute_metrics(strip.results)['rouge_l'])
