"""End to end: a segment classifier trained briefly on SynthMotion windows finds the events of
freshly synthesised motions, and the MotionPrefer CLI's oracle scores them from the detected events
(no programs) exactly as it does from the programs."""
import json

import numpy as np
import pytest
import torch

pytestmark = pytest.mark.slow

CLASSES = ['walk', 'jog', 'run', 'side_step', 'turn', 'march', 'step_over', 'jump', 'hop',
           'jumping_jacks', 'squat', 'lunge', 'kick', 'balance', 'sit_down_stand_up', 'wave',
           'raise_arms', 'arm_circles', 'clap', 'punch', 'bow', 'throw', 'jump_shot', 'dribble',
           'stand', 'toe_touch', 'side_bend', 'torso_twist', 'stretch_up', 'head_gesture']


@pytest.fixture(scope='module')
def trained_classifier(tmp_path_factory):
    from mmengine.dataset import pseudo_collate

    from motionkit.models.recognizers import MotionSegmentClassifier
    from motionkit.synthmotion import SynthMotionSegmentDataset
    torch.manual_seed(0)
    ds = SynthMotionSegmentDataset(num_motions=1000, seed=0, split='train', window=32, stride=4)
    model_cfg = dict(type='MotionSegmentClassifier', num_classes=30, classes=CLASSES, arch='tiny')
    model = MotionSegmentClassifier(**{k: v for k, v in model_cfg.items() if k != 'type'})
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    loader = torch.utils.data.DataLoader(list(range(len(ds))), batch_size=64, shuffle=True,
                                         collate_fn=pseudo_collate)
    model.train()
    steps = 0
    while steps < 300:
        for idx in loader:
            infos = [ds.get_data_info(i) for i in idx]
            x = torch.from_numpy(np.stack([d['joints'] for d in infos]))
            y = torch.tensor([d['label'] for d in infos])
            loss = torch.nn.functional.cross_entropy(model.logits(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            steps += 1
            if steps == 300:
                break
    out = tmp_path_factory.mktemp('segcls')
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), out / 'model.pth')
    (out / 'model.py').write_text(f'model = {model_cfg!r}\n')
    return out / 'model.py', out / 'model.pth'


def test_cli_oracle_with_the_learned_detector_matches_the_programs(tmp_path, trained_classifier):
    from tests.test_datagen.test_motion_prefer import _generated_set, cli
    gen = tmp_path / 'gen'
    _generated_set(gen)
    index = json.loads((gen / 'index.json').read_text())
    for s in index['samples']:  # the detector must not need the programs
        s.pop('program')
    (gen / 'index.json').write_text(json.dumps(index))
    cfg, ckpt = trained_classifier
    assert cli.main(['score', '--motions', str(gen), '--scorer', 'oracle', '--detector', str(cfg),
                     '--detector-checkpoint', str(ckpt), '--out', str(tmp_path / 's'), '--quiet']) == 0
    rows = [json.loads(x) for x in (tmp_path / 's' / 'scores.jsonl').read_text().splitlines()]
    # temporal prompts: right order 10, first two swapped 7, only the first event 3
    assert {r['id']: r['score'] for r in rows} == dict(p0_good=10, p0_swap=7, p0_miss=3, p1_good=10,
                                                        p1_swap=7, p1_miss=3, p2_only=3)
