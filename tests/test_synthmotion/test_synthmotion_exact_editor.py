"""SynthMotionExactEditor: instruction text -> SynthMotion edit operator -> exact target."""
import json

import numpy as np
import pytest

from motionkit.structures import EditRequest
from motionkit.synthmotion import SynthMotionExactEditor
from motionkit.synthmotion.synthmotion_exact_editor import normalize_instruction, token_edit_similarity, token_f1


@pytest.fixture(scope='module')
def synth_root(tmp_path_factory):
    from motionkit.synthmotion import build_synthmotion
    # 40 motions -> 20 make_triplet triplets in synthmotion/triplets.jsonl
    return build_synthmotion(tmp_path_factory.mktemp('sm_editor') / 'sm', 40, seed=1, progress=False,
                             num_feedback=0)


def _triplets(root):
    return [json.loads(line) for line in (root / 'synthmotion' / 'triplets.jsonl').read_text().splitlines()]


def test_text_helpers():
    assert normalize_instruction('  Kick HIGHER!  ') == 'kick higher'
    assert normalize_instruction("Don't side-step, OK?") == 'don t side step ok'
    assert token_f1('raise your arm'.split(), 'raise your arms higher'.split()) == pytest.approx(
        2 * (2 / 3) * (2 / 4) / (2 / 3 + 2 / 4))
    assert token_f1(['a'], ['b']) == 0.0
    # word-level Levenshtein: one substitution in four words -> 3/4; order matters
    assert token_edit_similarity('raise your arms higher'.split(), 'raise your arms lower'.split()) == 0.75
    assert token_edit_similarity('kick higher'.split(), 'higher kick'.split()) == 0.0
    assert token_edit_similarity('a b c'.split(), 'a c'.split()) == pytest.approx(2 / 3)
    assert token_edit_similarity([], []) == 1.0


def test_ground_truth_instruction_reproduces_target(synth_root):
    editor = SynthMotionExactEditor()
    trips = _triplets(synth_root)
    assert len(trips) >= 15
    checked = 0
    for tr in trips:
        gt = np.load(synth_root / tr['target_joints'])
        for text in tr['instructions']:
            exact = [c for c in editor.match(tr['source_id'], text, str(synth_root)) if c[0] == 2.0]
            # deterministic operators whose instruction names a single edit of this program
            if tr['edit'] == 'add_event' or len(exact) != 1:
                continue
            out = editor.edit_instructions([EditRequest(text, source_id=tr['source_id'],
                                                        data_root=str(synth_root))])[0]
            assert out.dtype == np.float32 and out.shape == gt.shape, (tr['id'], text)
            assert np.abs(out - gt).max() <= 1e-5, (tr['id'], text)
            checked += 1
    assert checked >= 30
    stats = editor.match_stats()
    assert stats == dict(matched=checked, unmatched=0, total=checked)


def test_strict_order_aware_matching(synth_root):
    editor = SynthMotionExactEditor(data_root=str(synth_root))
    tr = next(t for t in _triplets(synth_root) if t['edit'] not in ('add_event', ) and
              t['body_part'] != 'whole_body' and len(t['instructions'][0].split()) >= 5)
    gt = np.load(synth_root / tr['target_joints'])
    source = np.load(synth_root / tr['source_joints'])
    ref = tr['instructions'][0]
    words = ref.split()
    noisy = ref.upper() + '!!'  # case and punctuation do not matter
    shuffled = ' '.join(words[::-1])
    truncated = ' '.join(words[:len(words) // 2])
    texts = [noisy, shuffled, truncated, 'purple elephants sing opera loudly']
    out = editor.edit_instructions([EditRequest(t, source_id=tr['source_id'], joints=source) for t in texts])
    assert np.abs(out[0] - gt).max() <= 1e-5
    for k in (1, 2, 3):  # word salad, half an instruction and gibberish edit nothing
        np.testing.assert_array_equal(out[k], source, err_msg=texts[k])
    assert editor.match_stats() == dict(matched=1, unmatched=3, total=4)
    # an extra word in a long instruction is still within min_similarity (one in ten) ...
    long_ref = next((t['instructions'][0] for t in _triplets(synth_root)
                     if len(t['instructions'][0].split()) >= 9 and t['edit'] != 'add_event'), None)
    if long_ref is not None:
        src_id = next(t['source_id'] for t in _triplets(synth_root) if t['instructions'][0] == long_ref)
        assert editor.match(src_id, long_ref + ' please')[0][0] >= 0.9
    # ... and the body part the request names restricts the operators
    other = 'lower_body' if tr['body_part'] == 'upper_body' else 'upper_body'
    assert editor.match(tr['source_id'], ref, body_part=other) == []
    assert editor.match(tr['source_id'], ref, body_part=tr['body_part'])[0][0] == 2.0
    part_word = {'upper_body': 'Upper', 'lower_body': 'Lower'}
    assert editor.match(tr['source_id'], f'{part_word[other]} body: {ref}') == []
    assert editor.match(tr['source_id'], f'{part_word[tr["body_part"]]} body: {ref}')[0][0] == 2.0
    editor.reset_stats()
    assert editor.match_stats()['total'] == 0


def test_finds_build_through_triplet_manifest(synth_root, tmp_path):
    folder = tmp_path / 'trip'
    folder.mkdir()
    (folder / 'manifest.json').write_text(json.dumps(dict(
        name='CigTimeTriplets', provenance=dict(source=dict(type='SynthMotion', path=str(synth_root))))))
    tr = _triplets(synth_root)[0]
    editor = SynthMotionExactEditor()
    out = editor.edit_instructions([EditRequest(tr['instructions'][0], source_id=tr['source_id'],
                                                data_root=str(folder))])[0]
    assert out.shape[1:] == (22, 3)
    with pytest.raises(KeyError, match='S999999'):
        editor.edit_instructions([EditRequest('squat deeper', source_id='S999999', data_root=str(folder))])
    with pytest.raises(FileNotFoundError, match='synthmotion_root'):
        editor.edit_instructions([EditRequest('squat deeper', source_id='S000000', data_root=str(tmp_path))])


def test_builds_without_arguments():
    from mmengine.registry import init_default_scope

    from motionkit.registry import MODELS
    init_default_scope('motionkit')
    editor = MODELS.build(dict(type='SynthMotionExactEditor'))
    assert editor.exact and editor.match_stats() == dict(matched=0, unmatched=0, total=0)
    with pytest.raises(ValueError, match='data_root'):
        editor.edit_instructions([EditRequest('squat deeper', source_id='S000000')])
