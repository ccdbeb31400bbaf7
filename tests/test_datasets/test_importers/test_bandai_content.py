"""Bandai Namco content-class clips (the real-mocap linear-probe set)."""
import csv

import numpy as np
import pytest

from motionkit.datasets.importers import load_bandai_content_clips


def test_content_classes_with_two_clips(shared_data):
    root = shared_data / 'bandai_namco_motion_samples'
    data = load_bandai_content_clips(root)
    with open(root / 'labels.tsv', encoding='utf-8', newline='') as f:
        rows = list(csv.DictReader(f, delimiter='\t'))
    counts = {}
    for r in rows:
        counts[r['content']] = counts.get(r['content'], 0) + 1
    expected = sorted(c for c, n in counts.items() if n >= 2)
    assert data['classes'] == expected and len(expected) == 13
    assert len(data['motions']) == sum(counts[c] for c in expected) == 43
    content = {r['file']: r['content'] for r in rows}
    assert [data['classes'][k] for k in data['labels']] == [content[f] for f in data['files']]
    for m in data['motions']:
        assert m.ndim == 3 and m.shape[1:] == (22, 3) and m.dtype == np.float32
        # canonical frame, Y up: pelvis above the floor, frame-0 pelvis xz at the origin
        assert m[:, 0, 1].min() > 0.5 and abs(m[:, [7, 8, 10, 11], 1].min()) < 1e-5
        np.testing.assert_allclose(m[0, 0, [0, 2]], 0.0, atol=1e-5)
    walk = data['classes'].index('walk')
    assert (data['labels'] == walk).sum() == 18


def test_bad_index(tmp_path):
    (tmp_path / 'labels.tsv').write_text('file\tcontent\na.bvh\twalk\nb.bvh\t\n')
    with pytest.raises(ValueError, match=r"labels\.tsv, line 3: missing value in column 'content'"):
        load_bandai_content_clips(tmp_path)
    (tmp_path / 'labels.tsv').write_text('file\tcontent\na.bvh\twalk\nb.bvh\twalk\nc.bvh\trun\n')
    with pytest.raises(ValueError, match=r'1 content class\(es\) have >= 2 clips'):
        load_bandai_content_clips(tmp_path)
    (tmp_path / 'labels.tsv').write_text('file\tcontent\na.bvh\twalk\nb.bvh\twalk\nc.bvh\trun\nd.bvh\trun\n')
    with pytest.raises(FileNotFoundError, match=r'labels\.tsv, line 2: BVH not found: .*a\.bvh'):
        load_bandai_content_clips(tmp_path)
