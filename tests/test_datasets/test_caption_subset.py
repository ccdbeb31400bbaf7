"""filter_cfg=dict(caption_subset=...): a dataset restricted to listed caption lines (AToM's
subtask test sets), and the round trip from MotionPrefer's testsets writer."""
import json

import pytest

from motionkit.datagen.motion_prefer import write_subtask_test_sets
from motionkit.datasets import HumanML3DDataset
from motionkit.datasets.caption_subset import read_caption_subset, restrict_to_caption_subset
from motionkit.datasets.transforms import LoadMotion, PackMotionInputs, SampleCaption

from .test_humanml3d import make_layout


def _write(path, records):
    path.write_text(''.join(json.dumps(r) + '\n' for r in records))
    return str(path)


@pytest.fixture
def hml_root(tmp_path):
    return make_layout(tmp_path / 'HumanML3D')


def test_caption_subset_keeps_one_sample_per_listed_line(hml_root, tmp_path):
    subset = _write(tmp_path / 'sub.jsonl', [
        dict(id='000001', caption='someone takes a stroll.', start=0.0, end=0.0),   # 2nd whole caption
        dict(id='000001', caption='a person waves with the left hand.', start=1.0, end=3.5),  # a span
        dict(id='000003', caption='a person sits down.'),  # motion too short: not in the dataset
        dict(id='000007', caption='a person turns around.', start=float('nan'), end=0.0),  # nan = 0
        dict(id='000002', caption='a man jumps twice.', start=0.0, end=1.0),  # wrong span: no match
    ])
    pipeline = [dict(type=LoadMotion), dict(type=SampleCaption, test_mode=True), dict(type=PackMotionInputs)]
    ds = HumanML3DDataset(str(hml_root), ann_file='train.txt', filter_cfg=dict(caption_subset=subset),
                          pipeline=pipeline, test_mode=True)
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    # dataset order; '<sample_id>/<k>': k = the line's place among that sample's captions
    assert [i['sample_id'] for i in infos] == ['000001_seg2/0', '000001/1', '000007/0']
    assert [[t['caption'] for t in i['texts']] for i in infos] == [
        ['a person waves with the left hand.'], ['someone takes a stroll.'], ['a person turns around.']]
    assert (infos[0]['start_frame'], infos[0]['length']) == (20, 50)  # the span keeps its window
    # the test pipeline scores exactly the listed caption
    assert ds[1]['data_samples'].gt_text == 'someone takes a stroll.'
    records = read_caption_subset(subset)
    _, stats = restrict_to_caption_subset([ds.get_data_info(0)], records)
    assert stats == dict(listed=5, kept=1, not_in_dataset=4)
    # without a filter the dataset is unchanged
    assert len(HumanML3DDataset(str(hml_root), ann_file='train.txt')) == 7


def test_caption_subset_counts_a_repeated_line_as_often_as_the_dataset_holds_it():
    entry = dict(motion_id='m', sample_id='m', texts=[dict(caption='a b.', start=0.0, end=0.0)] * 2)
    recs = [dict(id='m', caption='a b.')] * 3
    out, stats = restrict_to_caption_subset([entry], recs)
    assert [e['sample_id'] for e in out] == ['m/0', 'm/1'] and stats['not_in_dataset'] == 1


def test_caption_subset_errors(hml_root, tmp_path):
    with pytest.raises(FileNotFoundError, match='caption subset file not found: .*nope.jsonl'):
        read_caption_subset(str(tmp_path / 'nope.jsonl'))
    bad = tmp_path / 'bad.jsonl'
    bad.write_text('{"id": "000001", "caption": "x"}\n[1, 2]\n')
    with pytest.raises(ValueError, match=r'bad.jsonl, line 2: expected a JSON object, got list'):
        read_caption_subset(str(bad))
    bad.write_text('{"id": "000001"}\n')
    with pytest.raises(ValueError, match=r"bad.jsonl, line 1: record has no \['caption'\]"):
        read_caption_subset(str(bad))
    bad.write_text('{"id": "000001", "caption": "x", "start": "soon"}\n')
    with pytest.raises(ValueError, match='bad.jsonl, line 1: start / end must be numbers'):
        read_caption_subset(str(bad))
    bad.write_text('\n')
    with pytest.raises(ValueError, match='bad.jsonl: the caption subset holds no record'):
        read_caption_subset(str(bad))
    other = _write(tmp_path / 'other.jsonl', [dict(id='XYZ', caption='a person walks forward.')])
    with pytest.raises(ValueError, match='no caption of caption subset .*other.jsonl is in this dataset'):
        HumanML3DDataset(str(hml_root), ann_file='train.txt', filter_cfg=dict(caption_subset=other))
    with pytest.raises(KeyError, match=r"unknown filter_cfg keys \['min_size'\]"):
        HumanML3DDataset(str(hml_root), ann_file='train.txt', filter_cfg=dict(min_size=3))


def test_testsets_writer_round_trip(hml_root, tmp_path):
    """MotionPrefer's writer sorts the split's caption lines by the filter rules; each subtask file
    restricts the test dataset to exactly its lines (those whose motion the loader keeps)."""
    lines = {
        '000001': ['a person jumps three times.#a/DET person/NOUN jump/VERB three/NUM time/NOUN#0.0#0.0',
                   'a person waves and claps.#a/DET person/NOUN wave/VERB and/CCONJ clap/VERB#0.0#0.0',
                   'a person sits down.#a/DET person/NOUN sit/VERB down/ADP#0.0#0.0'],
        '000006': ['a person walks forward, turns left and then walks back.#a/DET person/NOUN walk/VERB '
                   'forward/ADV turn/VERB left/ADV and/CCONJ then/ADV walk/VERB back/ADV#0.0#0.0',
                   'a person kicks and punches.#a/DET person/NOUN kick/VERB and/CCONJ punch/VERB#0.0#0.0'],
        '000003': ['a person hops twice.#a/DET person/NOUN hop/VERB twice/ADV#0.0#0.0'],  # too short
    }
    for mid, text in lines.items():
        (hml_root / 'texts' / f'{mid}.txt').write_text('\n'.join(text) + '\n')
    (hml_root / 'test.txt').write_text('000001\n000006\n000003\n')
    stats = write_subtask_test_sets(hml_root, tmp_path / 'testsets', 'test.txt')
    assert stats['caption_lines'] == 6
    assert stats['captions'] == dict(integrity=2, temporal=1, frequency=2)
    assert stats['motions'] == dict(integrity=2, temporal=1, frequency=2)
    recs = [json.loads(x) for x in (tmp_path / 'testsets' / 'integrity.jsonl').read_text().splitlines()]
    assert [(r['id'], r['line'], r['caption'], r['subtask']) for r in recs] == [
        ('000001', 1, 'a person waves and claps.', 'integrity'),
        ('000006', 1, 'a person kicks and punches.', 'integrity')]
    assert (tmp_path / 'testsets' / 'frequency_ids.txt').read_text() == '000001\n000003\n'
    got = {}
    for sub in ('integrity', 'temporal', 'frequency'):
        ds = HumanML3DDataset(str(hml_root), ann_file='test.txt', test_mode=True,
                              filter_cfg=dict(caption_subset=str(tmp_path / 'testsets' / f'{sub}.jsonl')))
        got[sub] = [(ds.get_data_info(i)['sample_id'], ds.get_data_info(i)['texts'][0]['caption'])
                    for i in range(len(ds))]
    assert got == dict(integrity=[('000001/1', 'a person waves and claps.'),
                                  ('000006/1', 'a person kicks and punches.')],
                       temporal=[('000006/0', 'a person walks forward, turns left and then walks back.')],
                       frequency=[('000001/0', 'a person jumps three times.')])  # 000003 is too short
