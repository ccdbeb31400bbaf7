"""tools/data/extract_video_features.py on the real shared videos with a tiny encoder: features match
a live encoding, a rerun hits the cache, a damaged video is reported by name, training reads it."""
import importlib.util
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from motionkit.datagen.video_features import VideoFeatureExtractor, find_videos
from motionkit.datasets import VideoFeatureCache, video_sha256
from motionkit.datasets.transforms import LoadCachedVideoFeatures

TOOL = Path(__file__).resolve().parents[2] / 'tools' / 'data' / 'extract_video_features.py'
FLAGS = ['--preset', 'tiny', '--num-frames', '4', '--size', '64', '--quiet']


@pytest.fixture(scope='module')
def tool():
    spec = importlib.util.spec_from_file_location('extract_video_features', TOOL)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_extract_rerun_check_and_damaged_video(tool, shared_data, tmp_path, capsys):
    videos = shared_data / 'videos'
    bad_dir = tmp_path / 'bad'
    bad_dir.mkdir()
    data = (videos / 'mmaction2_demo_arm_wrestling.mp4').read_bytes()
    (bad_dir / 'cut.mp4').write_bytes(data[:len(data) // 3])      # truncated: moov index lost
    cache = tmp_path / 'cache'
    report_file = tmp_path / 'report.json'

    rc = tool.main([str(videos), str(bad_dir), '--cache-dir', str(cache), '--report',
                    str(report_file)] + FLAGS)
    out = capsys.readouterr().out
    report = json.loads(report_file.read_text())
    assert rc == 1                                              # one video failed
    assert (report['total'], report['written'], report['hits']) == (3, 2, 0)
    assert len(report['failed']) == 1 and report['failed'][0]['path'].endswith('cut.mp4')
    assert 'cut.mp4: cannot open the video' in out and '2 written' in out

    encoder, sampling = tool.build_config(tool.parse_args(['x', '--cache-dir', 'y'] + FLAGS))
    store = VideoFeatureCache(cache, dict(encoder=encoder, sampling=sampling, seed=0))
    assert store.config_hash == report['config_hash']
    arm = videos / 'mmaction2_demo_arm_wrestling.mp4'
    entry = store.root / video_sha256(arm)[:2] / f'{video_sha256(arm)}.npy'
    feats = np.load(entry)
    assert feats.shape == (4, 192) and feats.dtype == np.float32   # 4 frames x ViT-tiny width
    # the cached features are what the same encoder computes live (random weights from seed 0,
    # whatever the global RNG state)
    torch.manual_seed(123)
    live = VideoFeatureExtractor(encoder, sampling, seed=0)(arm)
    np.testing.assert_allclose(feats, live, rtol=1e-5, atol=1e-5)

    # rerun: every readable video is a cache hit, nothing is recomputed
    mtime = entry.stat().st_mtime_ns
    assert tool.main([str(videos), '--cache-dir', str(cache)] + FLAGS) == 0
    assert '2 cache hits, 0 written' in capsys.readouterr().out
    assert entry.stat().st_mtime_ns == mtime
    # --check on a new copy of a cached video (same content) hits; a changed config misses
    shutil.copy(arm, tmp_path / 'copy.mp4')
    assert tool.main([str(tmp_path / 'copy.mp4'), '--cache-dir', str(cache), '--check'] + FLAGS) == 0
    assert '1 cache hits' in capsys.readouterr().out
    changed = FLAGS[:3] + ['5'] + FLAGS[4:]
    assert tool.main([str(videos), '--cache-dir', str(cache), '--check'] + changed) == 1
    assert '2 missing' in capsys.readouterr().out
    assert tool.main([str(videos), '--cache-dir', str(cache), '--check', '--seed', '1'] + FLAGS) == 1
    assert '2 missing' in capsys.readouterr().out

    # training reads the cache by config hash; the path -> sha index spares hashing the file
    load = LoadCachedVideoFeatures(str(cache), config_hash=report['config_hash'], pool='mean')
    np.testing.assert_allclose(load(dict(video_path=str(arm)))['video_features'], feats.mean(0))
    index = json.loads((store.root / 'videos.json').read_text())
    assert index[str(arm.resolve())]['sha256'] == video_sha256(arm)


def test_find_videos(shared_data, tmp_path):
    found = find_videos([shared_data / 'videos'])
    assert [p.name for p in found] == ['mmaction2_demo_arm_wrestling.mp4',
                                       'mmaction2_demo_skeleton_hug.mp4']
    with pytest.raises(FileNotFoundError, match='nothing_here'):
        find_videos([tmp_path / 'nothing_here'])
