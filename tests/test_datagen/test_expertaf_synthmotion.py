"""SynthMotion's learner/expert pairs through the ExpertAF builder and CLI."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from motionkit.datagen.expertaf import read_egoexo_takes, write_synthmotion_egoexo_layout
from motionkit.synthmotion.build import build_synthmotion

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope='module')
def synth(tmp_path_factory):
    out = tmp_path_factory.mktemp('sm') / 'build'
    return build_synthmotion(out, 3, seed=0, num_feedback=6, num_triplets=0, render_feedback=True, progress=False)


def test_adapter_writes_the_layout(synth, tmp_path):
    ann = write_synthmotion_egoexo_layout(synth, tmp_path / 'layout')
    recs = [json.loads(x) for x in (synth / 'synthmotion' / 'feedback.jsonl').read_text().splitlines()]
    takes = [t for f in sorted(ann.glob('proficiency_demonstration_*.json')) for t in read_egoexo_takes(f)]
    assert len(takes) == 2 * len(recs)
    by = {t.take_uid: t for t in takes}
    for r in recs:
        lt, et = by[f'{r["id"]}_learner'], by[f'{r["id"]}_expert']
        assert lt.proficiency == r['skill_level'] and et.proficiency == 'late_expert'
        assert lt.activity == et.activity == r['activity'] and lt.split == r['split'] and lt.fps == 20.0
        tips = [c.text for c in lt.commentary if c.kind == 'tips_for_improvement']
        assert len(tips) == len(r['errors']) and all(t in r['commentary'] for t in tips)
        assert Path(lt.video_paths['ego']).resolve() == (synth / r['files']['novice']['video']).resolve()
        assert Path(et.pose_path).resolve() == (synth / r['files']['expert']['coco17']).resolve()
    with pytest.raises(FileNotFoundError, match='no manifest.json'):
        write_synthmotion_egoexo_layout(tmp_path, tmp_path / 'x')


def test_cli_builds_pairs_from_synthmotion_and_resumes(synth, tmp_path):
    out = tmp_path / 'pairs'
    cmd = [sys.executable, str(REPO / 'tools/data/build_expertaf_pairs.py'), '--synthmotion', str(synth),
           '--out', str(out), '--route', 'keyword', '--quiet']
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=300)
    assert res.returncode == 0, res.stderr
    stats = json.loads((out / 'statistics.json').read_text())
    pairs = [json.loads(x) for x in (out / 'pairs.jsonl').read_text().splitlines()]
    assert f'{len(pairs)} pairs' in res.stdout and stats['totals']['pairs'] == len(pairs) > 0
    recs = {json.loads(x)['id']: json.loads(x) for x in (synth / 'synthmotion/feedback.jsonl').read_text().splitlines()}
    for p in pairs:
        lr = recs[p['learner']['take_uid'].split('_')[0]]
        assert p['activity'] == lr['activity'] == recs[p['expert']['take_uid'].split('_')[0]]['activity']
        assert p['learner']['proficiency'] in ('novice', 'early_expert')
        assert p['expert']['proficiency'] in ('intermediate_expert', 'late_expert')
        assert p['learner']['length'] == 40  # 2 s at 20 fps
    per_split = {}
    for p in pairs:
        per_split.setdefault((p['split'], p['learner']['execution']), []).append(p['rank'])
    for (split, _), ranks in per_split.items():
        assert ranks == list(range(len(ranks))) and len(ranks) <= (5 if split == 'train' else 1)
    # an unfinished build needs --resume
    (out / 'manifest.json').unlink()
    (out / '.partial').mkdir()
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=300)
    assert res.returncode != 0 and 'run again with --resume' in res.stderr
