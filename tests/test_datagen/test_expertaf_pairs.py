"""ExpertAF pair builder: layout reader, commentary -> regions, pairing, alignment, resume, bad input."""
import json

import numpy as np
import pytest

from motionkit.datagen.expertaf import (CommentaryRegionLabeler, LayoutError, RegionReplyError,
                                        build_expertaf_pairs, keyword_regions, parse_region_reply,
                                        read_egoexo_takes)
from motionkit.datagen.expertaf import builder as builder_mod
from motionkit.motion.body_parts import FEEDBACK_REGIONS
from motionkit.visualization.skeleton_renderer import save_video
from tests.test_feedback.test_openai_client import ScriptedServer, _completion

ACT = 'Basketball Drills - Jump Shot'
FPS = 10.0  # window_s=1 -> 10-frame windows


def _video(path, n):
    save_video(np.full((n, 32, 32, 3), 90, np.uint8), path, fps=FPS)
    return path.name


def _rot_y(a):
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


@pytest.fixture(scope='module')
def layout(tmp_path_factory):
    """A hand-written Ego-Exo4D-style layout: 2 novices, 2 experts, 3 bad takes."""
    root = tmp_path_factory.mktemp('egoexo')
    (root / 'annotations').mkdir()
    (root / 'poses').mkdir()
    vids = root / 'takes'
    vids.mkdir()
    rng = np.random.default_rng(0)
    learner = rng.normal(size=(30, 17, 3))
    # e1 is the learner's motion rotated, scaled, moved and delayed by 3 frames: its best window is
    # exactly the learner's, at start 10 + 3 = 13 (PA-MPJPE 0)
    e1 = np.concatenate([rng.normal(size=(3, 17, 3)), 1.2 * learner @ _rot_y(0.5).T + 2.0])[:30]
    poses = dict(n1=learner, e1=e1, e2=rng.normal(size=(30, 17, 3)), n2=rng.normal(size=(30, 17, 3)),
                 short=rng.normal(size=(5, 17, 3)), mismatch=rng.normal(size=(28, 17, 3)),
                 broken=rng.normal(size=(30, 17, 3)))
    for k, v in poses.items():
        np.save(root / 'poses' / f'{k}.npy', v.astype(np.float32))
    for k in ('n1', 'e1', 'e2', 'n2', 'mismatch'):
        _video(vids / f'{k}.mp4', 30)
    _video(vids / 'short.mp4', 5)
    (vids / 'broken.mp4').write_bytes(b'not a video at all')

    def take(uid, act, level=None, tips=(), good=()):
        t = dict(take_uid=uid, task_name=act, scenario_name='Basketball', fps=FPS,
                 video_paths=dict(ego=f'takes/{uid}.mp4', exo1=f'takes/{uid}.mp4'),
                 tips_for_improvement=[dict(video_time=tt, list=x, expert_uid='c1') for tt, x in tips],
                 good_executions=[dict(video_time=tt, list=x, expert_uid='c1') for tt, x in good])
        if level:
            t['proficiency_score'] = level
        return t

    train = [take('n1', ACT, 'Novice', tips=[(1.5, 'Bend your left knee more before the jump.'),
                                             (2.0, 'Keep going, that was fine.')],
                  good=[(0.5, 'Nice, your eyes stay on the rim.')]),
             take('e1', ACT, tips=(), good=[(1.2, ['Good drive from the left leg.', 'Strong.'])]),
             take('e2', ACT, 'Intermediate', good=[(1.5, 'Great knees.')]),
             take('n2', 'Soccer Drills - Juggling', 'Early Expert', tips=[(1.0, 'Lock your ankle.')]),
             take('short', ACT, 'Novice', tips=[(0.2, 'Bend your knees.')]),
             take('mismatch', ACT, 'Novice', tips=[(1.0, 'Bend your knees.')]),
             take('broken', ACT, 'Novice', tips=[(1.0, 'Bend your knees.')])]
    (root / 'annotations' / 'proficiency_demonstration_train.json').write_text(json.dumps(train))
    (root / 'annotations' / 'proficiency_demonstrator_train.json').write_text(
        json.dumps([dict(take_uid='e1', proficiency_score='Late Expert')]))
    return root


def test_reader_fields_paths_and_proficiency(layout):
    ann = layout / 'annotations'
    takes = read_egoexo_takes(ann / 'proficiency_demonstration_train.json',
                              demonstrator_file=ann / 'proficiency_demonstrator_train.json')
    by = {t.take_uid: t for t in takes}
    assert [t.take_uid for t in takes][:4] == ['n1', 'e1', 'e2', 'n2']
    assert by['n1'].proficiency == 'novice' and by['e1'].proficiency == 'late_expert'
    assert by['e2'].proficiency == 'intermediate_expert' and by['n2'].proficiency == 'early_expert'
    assert by['n1'].split == 'train' and by['n1'].fps == FPS and by['n1'].activity == ACT
    assert by['n1'].video_paths['ego'] == str(layout / 'takes' / 'n1.mp4')
    assert by['n1'].pose_path == str(layout / 'poses' / 'n1.npy')
    c = by['n1'].commentary
    assert [(x.kind, x.index, x.time) for x in c] == [('tips_for_improvement', 0, 1.5),
                                                       ('tips_for_improvement', 1, 2.0), ('good_executions', 0, 0.5)]
    assert by['e1'].commentary[0].text == 'Good drive from the left leg. Strong.'  # a list is joined


def test_reader_errors_name_file_take_and_key(tmp_path, layout):
    f = tmp_path / 'proficiency_demonstration_val.json'
    f.write_text(json.dumps([dict(take_uid='a', video_paths=dict(ego='x.mp4'), proficiency_score='Novice')]))
    with pytest.raises(LayoutError, match=r"proficiency_demonstration_val.json: take 0 has no 'task_name'"):
        read_egoexo_takes(f)
    f.write_text(json.dumps([dict(take_uid='a', task_name='t', video_paths=dict(ego='x.mp4'),
                                  proficiency_score='Pro')]))
    with pytest.raises(LayoutError, match=r"take 0 \(a\): unknown proficiency_score 'Pro'"):
        read_egoexo_takes(f)
    f.write_text(json.dumps([dict(take_uid='a', task_name='t', video_paths=dict(ego='x.mp4'),
                                  proficiency_score='Novice', tips_for_improvement=[dict(list='x')])]))
    with pytest.raises(LayoutError, match=r"tips_for_improvement\[0\] has no 'video_time'"):
        read_egoexo_takes(f)
    f.write_text(json.dumps([dict(take_uid='a', task_name='t', video_paths=dict(ego='x.mp4'))]))
    with pytest.raises(LayoutError, match='no proficiency_score in the take'):
        read_egoexo_takes(f)
    f.write_text('{broken')
    with pytest.raises(LayoutError, match='not valid JSON'):
        read_egoexo_takes(f)


def test_keyword_route():
    s, lab = keyword_regions('Bend your left knee more before the jump. Then land.', 'tips_for_improvement')
    assert s == 'Bend your left knee more before the jump.'
    assert dict(zip(FEEDBACK_REGIONS, lab)) == dict(head=2, torso=2, left_arm=2, right_arm=2, left_leg=0,
                                                    right_leg=2)
    _, lab = keyword_regions('Keep your elbows in and your back straight.', 'good_executions')
    assert dict(zip(FEEDBACK_REGIONS, lab)) == dict(head=2, torso=1, left_arm=1, right_arm=1, left_leg=2,
                                                    right_leg=2)
    _, lab = keyword_regions('Keep going, that was fine.', 'tips_for_improvement')
    assert lab == [2] * 6


def test_parse_region_reply():
    reply = ('Sure:\n```json\n{"summary": "Bend the  left knee.", "regions": {"head": 2, "torso": "2", '
             '"left_arm": 2, "right_arm": 2, "left_leg": 0, "right_leg": "correct"}}\n```')
    assert parse_region_reply(reply) == ('Bend the left knee.', [2, 2, 2, 2, 0, 1])
    with pytest.raises(RegionReplyError, match=r"missing \['right_leg'\]"):
        parse_region_reply('{"summary": "x", "regions": {"head": 2, "torso": 2, "left_arm": 2, '
                           '"right_arm": 2, "left_leg": 0}}')
    with pytest.raises(RegionReplyError, match="region 'head': label must be 0, 1 or 2, got 5"):
        parse_region_reply('{"summary": "x", "regions": {"head": 5, "torso": 2, "left_arm": 2, '
                           '"right_arm": 2, "left_leg": 0, "right_leg": 2}}')
    with pytest.raises(RegionReplyError, match='no JSON object'):
        parse_region_reply('I cannot help with that.')


def test_llm_route_through_the_cached_client_counts_failures(tmp_path):
    good = json.dumps(dict(summary='Bend the left knee.', regions=dict(head=2, torso=2, left_arm=2, right_arm=2,
                                                                       left_leg=0, right_leg=2)))
    with ScriptedServer([(200, _completion(good), 0), (200, _completion('no idea'), 0)]) as srv:
        client = dict(type='OpenAIChatClient', base_url=srv.base_url, model='m', cache_dir=str(tmp_path),
                      max_retries=0)
        lab = CommentaryRegionLabeler('llm', client)
        r1 = lab('Bend your left knee more.', 'tips_for_improvement', ACT)
        r2 = lab('Something else.', 'tips_for_improvement', ACT)
        r3 = lab('Bend your left knee more.', 'tips_for_improvement', ACT)  # cached: no request
    assert r1['status'] == 'ok' and r1['labels'] == [2, 2, 2, 2, 0, 2] and r1['summary'] == 'Bend the left knee.'
    assert r2['status'] == 'reply_failed' and r2['labels'] is None and 'no JSON object' in r2['error']
    assert r3 == r1 and len(srv.requests) == 2
    content = srv.requests[0]['body']['messages'][0]['content']
    assert 'Bend your left knee more.' in content and ACT in content and '{commentary}' not in content
    assert lab.counts == dict(labelled=2, reply_failed=1, no_region=0)


def _build(layout, out, **kw):
    return build_expertaf_pairs(layout / 'annotations', out, window_s=1.0, search_s=1.0, progress=False, **kw)


def test_build_pairs_alignment_statistics_and_skips(layout, tmp_path):
    out = _build(layout, tmp_path / 'pairs')
    pairs = [json.loads(x) for x in (out / 'pairs.jsonl').read_text().splitlines()]
    # n1's tip (left leg) pairs with e1 (left leg correct) and e2 (both legs correct), best first
    assert [(p['expert']['take_uid'], p['rank']) for p in pairs] == [('e1', 0), ('e2', 1)]
    p0 = pairs[0]
    assert p0['regions'] == ['left_leg'] and p0['activity'] == ACT and p0['split'] == 'train'
    assert p0['learner']['start'] == 10 and p0['learner']['length'] == 10  # centred on 1.5 s at 10 fps
    assert p0['expert']['start'] == 13 and p0['pa_mpjpe_mm'] < 1e-3  # the delayed, transformed copy
    assert pairs[1]['pa_mpjpe_mm'] > 100
    lw, ew = np.load(out / p0['learner']['pose']), np.load(out / p0['expert']['pose'])
    assert lw.shape == ew.shape == (10, 17, 3)
    np.testing.assert_allclose(lw, np.load(layout / 'poses' / 'n1.npy')[10:20])
    stats = json.loads((out / 'statistics.json').read_text())
    assert stats['skipped_per_reason']['take'] == dict(video_too_short=1, frame_count_mismatch=1,
                                                       video_unreadable=1)
    assert stats['skipped_per_reason']['commentary'] == dict(no_region=1)
    assert stats['skipped_per_reason']['incorrect_execution'] == dict(no_expert_same_activity=1)
    assert stats['totals'] == dict(takes=7, takes_used=4, comments=6, comments_labelled=5, incorrect_executions=2,
                                   incorrect_executions_paired=1, pairs=2)
    assert stats['pairs_per_split_region'] == dict(train=dict(left_leg=2))
    skipped = [json.loads(x) for x in (out / 'skipped.jsonl').read_text().splitlines()]
    mism = next(s for s in skipped if s['reason'] == 'frame_count_mismatch')
    assert 'has 30 frames but its pose track' in mism['message'] and 'mismatch.npy has 28 poses' in mism['message']
    # top-1 for a test split
    out1 = _build(layout, tmp_path / 'pairs_k1', top_k=dict(train=1))
    assert len((out1 / 'pairs.jsonl').read_text().splitlines()) == 1


def test_on_bad_input_error_names_the_take(layout, tmp_path):
    with pytest.raises(ValueError, match=r'video_too_short: take short: .*short.mp4 has 5 frames, fewer than '
                                         r'the 10-frame window'):
        _build(layout, tmp_path / 'err', on_bad_input='error')


class _Interrupted(RuntimeError):
    pass


def test_interrupted_build_resumes_and_writes_nothing_half(layout, tmp_path, monkeypatch):
    ref = (_build(layout, tmp_path / 'ref') / 'pairs.jsonl').read_bytes()
    real, calls, done = builder_mod.check_take_media, [], []

    def flaky(take, *a, **k):
        calls.append(take.take_uid)
        if len(calls) == 3 and not done:
            done.append(1)
            raise _Interrupted('killed')
        return real(take, *a, **k)

    monkeypatch.setattr(builder_mod, 'check_take_media', flaky)
    out = tmp_path / 'resumed'
    with pytest.raises(_Interrupted):
        _build(layout, out)
    assert not (out / 'manifest.json').exists() and not (out / 'pairs.jsonl').exists()
    assert len(list((out / '.partial' / 'takes').glob('*.json'))) == 2
    calls.clear()
    _build(layout, out)
    assert calls == ['e2', 'n2', 'short', 'mismatch', 'broken']  # the first two were not redone
    assert (out / 'pairs.jsonl').read_bytes() == ref and not (out / '.partial').exists()


def test_dataset_reads_the_build(layout, tmp_path):
    from motionkit.datasets import ExpertAFPairDataset
    from motionkit.datasets.transforms.video import LoadVideoFrames
    out = _build(layout, tmp_path / 'ds')
    ds = ExpertAFPairDataset(str(out), split='train')
    assert len(ds) == 2 and len(ExpertAFPairDataset(str(out), split='train', max_rank=1)) == 1
    item = ds[0]
    assert item['commentary'] == 'Bend your left knee more before the jump.'
    assert item['region_labels'].tolist() == [2, 2, 2, 2, 0, 2] and item['regions'] == ['left_leg']
    assert item['learner_frame_inds'].tolist() == list(range(10, 20))
    assert item['expert_frame_inds'].tolist() == list(range(13, 23))
    assert item['learner_pose'].shape == (10, 17, 3) and item['expert_take_uid'] == 'e1'
    frames = LoadVideoFrames(views=('learner', 'expert'))(dict(item))
    assert frames['learner_frames'].shape == (10, 32, 32, 3)
    # a video replaced by a shorter one after the build: a clear error, or a counted skip
    _video(tmp_path / 'e2.mp4', 12)
    rec = [json.loads(x) for x in (out / 'pairs.jsonl').read_text().splitlines()]
    rec[1]['expert']['video_path'] = str(tmp_path / 'e2.mp4')
    (out / 'pairs.jsonl').write_text(''.join(json.dumps(r) + '\n' for r in rec))
    with pytest.raises(ValueError, match=r'P000000_1: expert video .*e2.mp4 has 12 frames, but its pose track '
                                         r'had 30 poses'):
        ExpertAFPairDataset(str(out), split='train')
    ds2 = ExpertAFPairDataset(str(out), split='train', on_mismatch='skip')
    assert len(ds2) == 1 and ds2.num_skipped == 1
