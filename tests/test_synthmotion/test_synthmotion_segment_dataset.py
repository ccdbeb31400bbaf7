"""SynthMotionSegmentDataset: window placement by hand, windows of a small build carry the joints
of their event and its primitive's class, bad input."""
import json

import numpy as np
import pytest

from motionkit.synthmotion import PRIMITIVES, SynthMotionSegmentDataset, build_synthmotion, event_windows


def test_event_windows_by_hand():
    # need = ceil(0.75 * 32) = 24 frames inside: starts 10 - 8 = 2 ... 50 - 24 = 26, every 4
    assert event_windows(10, 50, 100, 32, 4) == [2, 6, 10, 14, 18, 22, 26]
    # an event shorter than 24 frames: one window centred on it (20 - 16 = 4)
    assert event_windows(15, 25, 100, 32, 4) == [4]
    # clipped to the motion: the first event of a motion starts at 0, the last ends at T
    assert event_windows(0, 30, 40, 32, 4) == [0, 4]  # a start of 8 keeps only 22 frames inside
    assert event_windows(0, 20, 20, 32, 4) == [0]  # motion shorter than a window
    with pytest.raises(ValueError, match='outside the motion'):
        event_windows(10, 50, 40, 32, 4)


@pytest.fixture(scope='module')
def small_build(tmp_path_factory):
    return build_synthmotion(tmp_path_factory.mktemp('seg') / 'sm', 12, seed=3, progress=False,
                             num_triplets=0, num_feedback=0)


def test_windows_carry_their_event(small_build):
    ds = SynthMotionSegmentDataset(data_root=str(small_build), split='all', window=32, stride=8)
    programs = {}
    for line in (small_build / 'synthmotion' / 'programs.jsonl').read_text().splitlines():
        rec = json.loads(line)
        programs[rec['id']] = rec
    expected = sum(len(event_windows(e['start'], e['end'], p['num_frames'], 32, 8))
                   for p in programs.values() for e in p['events'])
    assert len(ds) == expected
    classes = list(PRIMITIVES)
    for i in (0, len(ds) // 2, len(ds) - 1):
        item = ds.get_data_info(i)
        ev = programs[item['motion_id']]['events'][item['event_index']]
        assert classes[item['label']] == ev['primitive'] == item['primitive']
        s = item['start_frame']
        joints = np.load(small_build / 'new_joints' / f"{item['motion_id']}.npy")
        np.testing.assert_array_equal(item['joints'], joints[s:s + 32])
        overlap = min(s + 32, ev['end']) - max(s, ev['start'])
        assert overlap >= 24 or ev['end'] - ev['start'] < 24
    # a class list without 'walk' leaves its windows out and re-indexes the rest
    keep = [c for c in classes if c != 'walk']
    sub = SynthMotionSegmentDataset(data_root=str(small_build), split='all', window=32, stride=8,
                                    classes=keep)
    assert all(sub.get_data_info(i)['primitive'] != 'walk' for i in range(len(sub)))
    assert all(keep[sub.get_data_info(i)['label']] == sub.get_data_info(i)['primitive']
               for i in range(len(sub)))


def test_pipeline_packs_windows_for_the_classifier(small_build):
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('motionkit'):
        ds = SynthMotionSegmentDataset(data_root=str(small_build), split='all', window=16,
                                       stride=16, pipeline=[dict(type='PackMotionInputs',
                                                                 input_key='joints', gt_keys=())])
    out = ds[0]
    assert tuple(out['inputs'].shape) == (16, 22, 3)
    assert int(out['data_samples'].gt_label) == ds.get_data_info(0)['label']


def test_bad_input(tmp_path, small_build):
    with pytest.raises(FileNotFoundError, match='manifest.json'):
        SynthMotionSegmentDataset(data_root=str(tmp_path))
    with pytest.raises(ValueError, match='split'):
        SynthMotionSegmentDataset(data_root=str(small_build), split='dev')
    with pytest.raises(ValueError, match='min_overlap'):
        SynthMotionSegmentDataset(data_root=str(small_build), min_overlap=0)
