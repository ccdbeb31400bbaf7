import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_data_root() -> Path:
    """The real test data beside the clone (``../shared/data``); override with MOTIONKIT_SHARED_DATA."""
    env = os.environ.get('MOTIONKIT_SHARED_DATA')
    return Path(env) if env else REPO_ROOT.parent / 'shared' / 'data'


@pytest.fixture(scope='session')
def shared_data() -> Path:
    root = shared_data_root()
    if not root.is_dir():
        pytest.fail(f'shared test data not found at {root} (set MOTIONKIT_SHARED_DATA)')
    return root


@pytest.fixture(scope='session')
def cigtime_work_dir(tmp_path_factory) -> Path:
    """A small CigTime work dir as projects/cigtime/run_pipeline.py lays it out: ``triplets/``
    (60 SynthMotion sources x 2 edits, exact editor). Configs under projects/cigtime read it through
    ``CIGTIME_WORK_DIR``; stages that need checkpoints create them in the tests that use them."""
    from motionkit.datagen import build_cigtime_triplets
    work = tmp_path_factory.mktemp('cigtime_work')
    build_cigtime_triplets(work / 'triplets', 60, seed=0, per_source=2, progress=False,
                           synthmotion_cache_dir=str(work / 'synthmotion'))
    return work


def write_toy_preference_pairs(path: Path, num_pairs: int = 32, codebook_size: int = 64) -> Path:
    """A trivially separable MotionPrefer-format pairs file (docs/preference.md): for every
    prompt the chosen motion uses codes below ``codebook_size / 2``, the rejected one codes above."""
    import json
    import random
    rng = random.Random(0)
    verbs = ['walks forward', 'jumps twice', 'kicks with the left leg', 'sits down', 'waves both arms']
    half = codebook_size // 2
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        for i in range(num_pairs):
            n_c, n_r = rng.randint(3, 8), rng.randint(3, 8)
            f.write(json.dumps(dict(
                id=f'toy-{i:03d}', prompt=f'a person {verbs[i % len(verbs)]}',
                chosen=[rng.randrange(half) for _ in range(n_c)],
                rejected=[rng.randrange(half, codebook_size) for _ in range(n_r)],
                scores=dict(chosen=1.0, rejected=0.0), subtask=('temporal', 'location', 'integrity')[i % 3],
                split='train')) + '\n')
    return path


@pytest.fixture(scope='session')
def atom_work_dir(tmp_path_factory) -> Path:
    """A small AToM work dir: ``motionprefer/pairs.jsonl`` (toy pairs) and ``synthmotion/`` (a
    40-motion build); configs under projects/atom read it through ``ATOM_WORK_DIR``."""
    work = tmp_path_factory.mktemp('atom_work')
    write_toy_preference_pairs(work / 'motionprefer' / 'pairs.jsonl')
    # the MotionGPT stages read a SynthMotion build here (40 motions: 30 train, 4 val, 6 test)
    from motionkit.synthmotion.build import build_synthmotion
    build_synthmotion(work / 'synthmotion', 40, 0, progress=False, num_triplets=0, num_feedback=0)
    return work


@pytest.fixture(scope='session')
def expertaf_work_dir(tmp_path_factory) -> Path:
    """A small ExpertAF work dir as projects/expertaf/pipeline_synthmotion.py lays it out:
    ``synthmotion/`` (12 rendered learner/expert pairs), ``pairs/`` (the pair builder's output) and
    ``features/`` (the tiny-ViT feature cache of projects/expertaf/configs/video-features_*.py)."""
    from mmengine.config import Config
    from motionkit.datagen.expertaf import build_expertaf_pairs, write_synthmotion_egoexo_layout
    from motionkit.datagen.video_features import extract_video_features, find_videos
    from motionkit.synthmotion.build import build_synthmotion
    work = tmp_path_factory.mktemp('expertaf_work')
    sm = build_synthmotion(work / 'synthmotion', 3, seed=0, num_feedback=12, num_triplets=0, render_feedback=True,
                           progress=False)
    build_expertaf_pairs(write_synthmotion_egoexo_layout(sm, work / 'layout'), work / 'pairs', progress=False)
    ext = Config.fromfile(str(REPO_ROOT / 'projects/expertaf/configs/video-features_tiny-vit_synthmotion.py'))
    extract_video_features(find_videos([sm / 'synthmotion' / 'feedback']), str(work / 'features'),
                           ext.encoder.to_dict(), ext.sampling.to_dict(), seed=0, progress=False)
    return work
