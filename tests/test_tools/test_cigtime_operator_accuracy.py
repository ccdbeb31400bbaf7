"""tools/analysis_tools/cigtime_operator_accuracy.py: instructions matched to SynthMotion's edit
operators through their templates; accuracy by hand."""
import importlib.util
import pickle

import pytest

from motionkit.synthmotion.edits import EDIT_OPERATORS
from tests.conftest import REPO_ROOT


def _tool():
    spec = importlib.util.spec_from_file_location(
        'cigtime_operator_accuracy', REPO_ROOT / 'tools' / 'analysis_tools' / 'cigtime_operator_accuracy.py')
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_templates_name_their_operator_and_accuracy_by_hand(tmp_path):
    tool = _tool()
    bow = EDIT_OPERATORS['bow_deeper'].templates[0]
    assert '{' not in bow and 'bow_deeper' in tool.operators_named(bow)
    assert tool.operators_named('make a sandwich') == set()
    # a template with a field matches whatever fills it
    filled = next(t for op in EDIT_OPERATORS.values() for t in op.templates if '{' in t)
    name = next(op.name for op in EDIT_OPERATORS.values() if filled in op.templates)
    import re
    assert name in tool.operators_named(re.sub(r'\{[a-z_]+\}', 'left', filled))
    preds = [dict(pred_instruction=bow, gt_instruction=bow, edit='bow_deeper', body_part='upper_body'),
             dict(pred_instruction=bow, gt_instruction='something else', edit='bow_shallower', body_part='upper_body'),
             dict(pred_instruction='make a sandwich', gt_instruction='x', edit='kick_higher', body_part='lower_body')]
    acc = tool.operator_accuracy(preds)
    assert acc['all'] == pytest.approx(1 / 3) and acc['upper_body'] == 0.5 and acc['lower_body'] == 0.0
    assert acc['exact'] == pytest.approx(1 / 3) and acc['n'] == 3
    path = tmp_path / 'p.pkl'
    path.write_bytes(pickle.dumps(preds))
    table = tool.main([str(path)])
    assert '| 3 | 33.3% | 50.0% | 0.0% | - | 33.3% |' in table
    with pytest.raises(KeyError, match='edit'):
        tool.operator_accuracy([dict(pred_instruction='a', gt_instruction='b', body_part='upper_body')])
