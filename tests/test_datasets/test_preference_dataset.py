"""PreferenceDataset: format checks with file/line errors, counted skips, collate."""
import json

import pytest

from motionkit.datasets import PreferenceDataset, preference_collate, read_preference_pairs


def _write(path, rows):
    path.write_text('\n'.join(r if isinstance(r, str) else json.dumps(r) for r in rows) + '\n')
    return str(path)


ROWS = [
    dict(id='a', prompt='a person walks', chosen=[1, 2, 3], rejected=[4, 5], scores=dict(chosen=0.9, rejected=0.1),
         subtask='temporal', split='train'),
    dict(prompt='a person jumps', chosen=[1, 2, 3, 4, 5, 6], rejected=[7], subtask='location', split='train'),
    dict(id='c', prompt='a person sits', chosen=[3, 3], rejected=[3, 3], subtask='temporal', split='train'),
    dict(id='d', prompt='a person kicks', chosen=[2], rejected=[6, 6], subtask='integrity', split='test'),
]


def test_reads_filters_and_counts_skips(tmp_path):
    path = _write(tmp_path / 'pairs.jsonl', ROWS[:2] + [''] + ROWS[2:])
    ds = PreferenceDataset(path, split='train', max_motion_tokens=5)
    # row 2 (6 chosen codes) is too long, row 'c' has identical motions, 'd' is another split
    assert len(ds) == 1 and ds.filter_stats == dict(too_long=1, identical=1, other_split=1)
    item = ds[0]
    assert item['pair_id'] == 'a' and item['chosen'] == [1, 2, 3] and item['rejected'] == [4, 5]
    assert item['scores'] == dict(chosen=0.9, rejected=0.1) and item['line'] == 1
    # nothing is lost without a limit: the long pair is kept and its default id names file and line
    ds = PreferenceDataset(path, subtasks=['location', 'integrity'])
    assert [d['pair_id'] for d in ds] == ['pairs.jsonl:2', 'd']
    assert ds.filter_stats == dict(other_subtask=2)
    with pytest.raises(ValueError, match=r"no pair left .*'too_long': 1"):
        PreferenceDataset(path, subtasks=['location'], max_motion_tokens=2)


@pytest.mark.parametrize('row,match', [
    ('{"prompt": ', 'line 2: invalid JSON'),
    (dict(prompt='x', chosen=[1]), r"line 2: the pair lacks keys \['rejected'\]"),
    (dict(prompt='', chosen=[1], rejected=[2]), 'line 2: "prompt" must be a non-empty string'),
    (dict(prompt='x', chosen=[], rejected=[2]), "line 2: 'chosen' must be a non-empty list"),
    (dict(prompt='x', chosen=[1.5], rejected=[2]), "line 2: 'chosen' must be a non-empty list of int"),
    (dict(prompt='x', chosen=[1], rejected=[-2]), "line 2: 'rejected' has token id -2"),
    (dict(prompt='x', chosen=[8], rejected=[2]), "line 2: 'chosen' has token id 8; .*codebook_size=8"),
    (dict(id='a', prompt='x', chosen=[1], rejected=[2]), "line 2: duplicate pair id 'a' .*line 1"),
    (dict(prompt='x', chosen=[1], rejected=[2], scores=dict(chosen=0.1, rejected=0.5)),
     'line 2: the chosen motion scores 0.1 below'),
    (dict(prompt='x', chosen=[1], rejected=[2], scores=[0.5, 0.1]), 'line 2: "scores" must be'),
    (dict(prompt='x', chosen=[1], rejected=[2], subtask=3), "line 2: 'subtask' must be a string"),
])
def test_malformed_rows_name_file_and_line(tmp_path, row, match):
    path = _write(tmp_path / 'bad.jsonl', [ROWS[0], row])
    with pytest.raises((ValueError, KeyError), match=match) as err:
        read_preference_pairs(path, codebook_size=8)
    assert 'bad.jsonl' in str(err.value)


def test_missing_file_and_bad_arguments(tmp_path):
    with pytest.raises(FileNotFoundError, match='pairs file not found'):
        PreferenceDataset(str(tmp_path / 'nope.jsonl'))
    with pytest.raises(ValueError, match='max_motion_tokens must be >= 1'):
        PreferenceDataset(str(tmp_path / 'nope.jsonl'), max_motion_tokens=0)


def test_collate(tmp_path):
    ds = PreferenceDataset(_write(tmp_path / 'pairs.jsonl', ROWS), max_motion_tokens=10)
    batch = preference_collate([ds[0], ds[1]])
    assert batch['inputs'] == dict(prompts=['a person walks', 'a person jumps'],
                                   chosen=[[1, 2, 3], [1, 2, 3, 4, 5, 6]], rejected=[[4, 5], [7]])
    assert [s['pair_id'] for s in batch['data_samples']] == ['a', 'pairs.jsonl:2']
    assert batch['data_samples'][1]['subtask'] == 'location'
    with pytest.raises(TypeError, match=r"item 0 .* lacks \['chosen'"):
        preference_collate([dict(prompt='x', rejected=[1])])
    with pytest.raises(ValueError, match='empty batch'):
        preference_collate([])
