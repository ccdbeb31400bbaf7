"""build_cigtime_triplets: layout, resume after interruption, config checks, eq.-5 blend, file and
LLM instruction sources."""
import json

import numpy as np
import pytest

from motionkit.datagen import build_cigtime_triplets
from motionkit.datagen.cigtime_triplets import blend_features, parse_paraphrases
from motionkit.structures import EditRequest
from motionkit.synthmotion import SynthMotionExactEditor

N = 40


@pytest.fixture(scope='module')
def sm_cache(tmp_path_factory):
    return str(tmp_path_factory.mktemp('sm_cache'))


@pytest.fixture(scope='module')
def full_build(tmp_path_factory, sm_cache):
    out = tmp_path_factory.mktemp('full') / 'triplets'
    return build_cigtime_triplets(out, N, seed=0, per_source=2, progress=False, synthmotion_cache_dir=sm_cache)


def _records(root):
    return [json.loads(line) for line in (root / 'triplets.jsonl').read_text().splitlines()]


def test_layout_and_dataset(full_build):
    from mmengine.registry import init_default_scope

    from motionkit.registry import DATASETS
    recs = _records(full_build)
    ids = [r['id'] for r in recs]
    assert len(ids) == len(set(ids))
    manifest = json.loads((full_build / 'manifest.json').read_text())
    assert manifest['name'] == 'CigTimeTriplets'
    assert sum(manifest['counts'][s] for s in ('train', 'val', 'test')) == len(recs)
    assert len(recs) + 2 * manifest['counts']['sources_without_triplet'] >= 2 * N - 4
    src_root = manifest['provenance']['source']['path']
    assert manifest['provenance']['source']['config_hash'] in src_root
    # Targets are encoded like the source build's features (issue #17: wrapped by default).
    source_manifest = json.loads(open(f'{src_root}/manifest.json').read())
    assert manifest['feature_encoding'] == source_manifest['feature_encoding'] == dict(
        representation='HumanML3DFeatures', root_angular_velocity='wrapped')
    assert manifest['config']['root_angular_velocity'] == 'wrapped'
    programs = {json.loads(line)['id']: json.loads(line)
                for line in open(f'{src_root}/synthmotion/programs.jsonl')}
    by_source = {}
    for r in recs:
        assert r['split'] == programs[r['source_id']]['split']
        assert r['instruction'] == r['instructions'][0] and len(r['target_captions']) == 3
        by_source.setdefault(r['source_id'], []).append(r['edit'])
        np.testing.assert_array_equal(np.load(full_build / r['source_joints']),
                                      np.load(f'{src_root}/new_joints/{r["source_id"]}.npy'))
    assert all(len(set(v)) == len(v) for v in by_source.values())  # different operators per source
    parts = [r['body_part'] for r in recs]
    assert {'upper_body', 'lower_body', 'whole_body'} <= set(parts)
    np.testing.assert_array_equal(np.load(full_build / 'Mean.npy'), np.load(f'{src_root}/Mean.npy'))
    # the exact editor, given the stored instruction, gives the stored target when it is unambiguous
    editor = SynthMotionExactEditor()
    r = next(r for r in recs if r['edit'] in ('squat_deeper', 'kick_higher', 'wave_higher', 'remove_event',
                                              'bow_deeper', 'jump_more_times') or r['body_part'] == 'upper_body')
    out = editor.edit_instructions([EditRequest(r['instruction'], source_id=r['source_id'],
                                                data_root=str(full_build))])[0]
    assert editor.match_stats()['matched'] == 1 and out.shape[1:] == (22, 3)
    init_default_scope('motionkit')
    ds = DATASETS.build(dict(type='CigTimeTripletDataset', data_root=str(full_build), split='train'))
    assert len(ds) == manifest['counts']['train']


def test_resume_after_interruption(full_build, tmp_path, sm_cache, monkeypatch):
    original = SynthMotionExactEditor.edit_with_operator
    calls = {'n': 0}

    def flaky(self, *args, **kwargs):
        calls['n'] += 1
        if calls['n'] > 25:
            raise RuntimeError('simulated crash')
        return original(self, *args, **kwargs)

    out = tmp_path / 'resumed'
    monkeypatch.setattr(SynthMotionExactEditor, 'edit_with_operator', flaky)
    with pytest.raises(RuntimeError, match='simulated crash'):
        build_cigtime_triplets(out, N, seed=0, per_source=2, progress=False, synthmotion_cache_dir=sm_cache)
    assert not (out / 'manifest.json').exists()
    done = len(list((out / '.partial' / 'items').glob('*.json')))
    assert 0 < done < N
    monkeypatch.setattr(SynthMotionExactEditor, 'edit_with_operator', original)
    build_cigtime_triplets(out, N, seed=0, per_source=2, progress=False, synthmotion_cache_dir=sm_cache)
    assert (out / 'triplets.jsonl').read_bytes() == (full_build / 'triplets.jsonl').read_bytes()
    assert not (out / '.partial').exists()
    for r in _records(out)[::7]:
        for key in ('target_vecs', 'target_joints', 'source_vecs'):
            assert (out / r[key]).read_bytes() == (full_build / r[key]).read_bytes()
    a = json.loads((out / 'manifest.json').read_text())
    b = json.loads((full_build / 'manifest.json').read_text())
    assert a['config'] == b['config'] and a['counts'] == b['counts']


def test_other_config_is_refused(full_build, tmp_path, sm_cache, monkeypatch):
    with pytest.raises(FileExistsError, match=str(full_build)):
        build_cigtime_triplets(full_build, N, seed=0, per_source=1, progress=False, synthmotion_cache_dir=sm_cache)
    # same config: reused untouched
    before = (full_build / 'manifest.json').stat().st_mtime_ns
    build_cigtime_triplets(full_build, N, seed=0, per_source=2, progress=False, synthmotion_cache_dir=sm_cache)
    assert (full_build / 'manifest.json').stat().st_mtime_ns == before
    # an unfinished folder with another config
    partial = tmp_path / 'p' / '.partial'
    partial.mkdir(parents=True)
    (partial / 'config.json').write_text(json.dumps(dict(num_motions=3)))
    with pytest.raises(FileExistsError, match='unfinished'):
        build_cigtime_triplets(tmp_path / 'p', N, seed=0, progress=False, synthmotion_cache_dir=sm_cache)


def test_blend_features_eq5():
    from motionkit.models.editors.editing import feature_keep_mask
    src = np.zeros((4, 263), np.float32)
    edited = np.ones((4, 263), np.float32)
    out = blend_features(src, edited, 'upper_body')
    mask = feature_keep_mask('HumanML3DFeatures', 'upper_body').numpy()
    assert 0 < mask.sum() < 263 and not mask[:4].any()  # root block belongs to the lower body
    np.testing.assert_array_equal(out, np.broadcast_to(mask.astype(np.float32), (4, 263)))
    np.testing.assert_array_equal(blend_features(src, edited, 'whole_body'), edited)
    np.testing.assert_array_equal(blend_features(src, edited[:3], 'upper_body'), edited[:3])


class ToyEditor:
    """Moves every joint 10 cm up and 5 cm sideways (and everything else), returning T frames."""

    def __init__(self):
        self.calls = 0

    def edit_instructions(self, requests):
        self.calls += len(requests)
        shift = np.array([0.05, 0.1, 0.0], np.float32)
        return [r.joints + shift * np.linspace(0, 1, len(r.joints), dtype=np.float32)[:, None, None]
                for r in requests]


def test_eq5_blend_with_toy_editor(tmp_path, sm_cache):
    from motionkit.models.editors.editing import feature_keep_mask
    toy = ToyEditor()
    out = build_cigtime_triplets(tmp_path / 'toy', 12, seed=0, editor=toy, per_source=1, progress=False,
                                 synthmotion_cache_dir=sm_cache)
    recs = _records(out)
    assert toy.calls == len(recs) > 0
    assert json.loads((out / 'manifest.json').read_text())['provenance']['editor']['type'] == 'ToyEditor'
    checked = 0
    for r in recs:
        src = np.load(out / r['source_vecs'])
        tgt = np.load(out / r['target_vecs'])
        joints = np.load(out / r['target_joints'])
        assert r['editor'] == 'ToyEditor' and joints.shape == (len(tgt) + 1, 22, 3)
        if r['body_part'] == 'whole_body':
            continue
        mask = feature_keep_mask('HumanML3DFeatures', r['body_part']).numpy()
        np.testing.assert_array_equal(tgt[:, ~mask], src[:, ~mask])  # outside the mask: the source
        assert np.abs(tgt[:, mask] - src[:, mask]).max() > 1e-3  # inside: the edit
        checked += 1
    assert checked >= 3


def test_file_instruction_source(tmp_path, sm_cache):
    entries = [dict(body_part='upper_body', instruction='Raise your arms higher!', operator='raise_arms_higher'),
               dict(body_part='lower_body', instruction='squat deeper'),
               dict(body_part='lower_body', instruction='kick higher'),
               dict(body_part='whole_body', instruction='skip the walk'),
               dict(body_part='whole_body', instruction='jump higher'),
               dict(body_part='upper_body', instruction='wave with your other hand'),
               dict(body_part='upper_body', instruction='zzz qqq xxx')]
    path = tmp_path / 'instr.jsonl'
    path.write_text(''.join(json.dumps(e) + '\n' for e in entries))
    out = build_cigtime_triplets(tmp_path / 'file', N, seed=0, instruction_source='file',
                                 instruction_file=str(path), progress=False, synthmotion_cache_dir=sm_cache)
    recs = _records(out)
    assert recs
    texts = {e['instruction'] for e in entries}
    for r in recs:
        assert r['instruction'] in texts and r['instruction'] != 'zzz qqq xxx'
        assert r['edit'] is not None
    prov = json.loads((out / 'manifest.json').read_text())['provenance']['instructions']
    assert prov['source'] == 'file' and prov['num_entries'] == len(entries)
    bad = tmp_path / 'bad.jsonl'
    bad.write_text(json.dumps(dict(body_part='arms', instruction='x')) + '\n')
    with pytest.raises(ValueError, match='line 1: body_part'):
        build_cigtime_triplets(tmp_path / 'bad', N, seed=0, instruction_source='file', instruction_file=str(bad),
                               progress=False, synthmotion_cache_dir=sm_cache)


class FakeLLM:

    def __init__(self):
        self.requests = []

    def chat(self, messages):
        self.requests.append(messages)
        return '1. Please do it like this\n- "another way to say it"\nuse the {bogus} field\n\n'


def test_llm_instruction_source(tmp_path, sm_cache):
    assert parse_paraphrases('1) Hold {new_hand} up\n* "Go"\n{x} bad\nok then', {'new_hand'}) == \
        ['Hold {new_hand} up', 'ok then']
    # what SmolLM2-135M actually answered (tools/serve_llm.py --smollm2): meta-commentary, a
    # placeholder without its braces, two answers run together
    reply = ('The first one is a variation of the original instruction, but with a different '
             'wording and a different emphasis.\nCurve to the new_turn_side\n'
             'Speed up your steps" - "Speed up your steps\nturn to the {new_turn_side} while walking')
    assert parse_paraphrases(reply, {'new_turn_side'}) == ['turn to the {new_turn_side} while walking']
    llm = FakeLLM()
    out = build_cigtime_triplets(tmp_path / 'llm', 12, seed=0, instruction_source='llm', client=llm,
                                 progress=False, synthmotion_cache_dir=sm_cache)
    from motionkit.synthmotion import EDIT_OPERATORS
    assert len(llm.requests) == len(EDIT_OPERATORS)
    prov = json.loads((out / 'manifest.json').read_text())['provenance']['instructions']
    para = prov['paraphrases']['squat_deeper']
    assert para[-2:] == ['Please do it like this', 'another way to say it'] and len(para) == 5
    # each split uses its share of the paraphrases (val / test: the held-out ones, which include the
    # LLM's own lines: "Please do it like this" is one decision for every operator that shares it)
    from motionkit.synthmotion.triplets import phrasings_for_split, split_phrasings
    table = split_phrasings(prov['paraphrases'])
    for r in _records(out):
        assert len(r['instructions']) == len(phrasings_for_split(table, r['edit'], r['split']))
    train = {i for r in _records(out) if r['split'] == 'train' for i in r['instructions']}
    assert not any(r['instruction'] in train for r in _records(out) if r['split'] != 'train')
