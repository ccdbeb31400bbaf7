"""Sampling a text-to-motion LM for MotionPrefer prompts (the folder build_motion_prefer.py score
reads, with codes), and MotionPrefer pairs -> PreferenceDataset pairs."""
import json

import numpy as np
import pytest
import torch

from motionkit.datagen.motion_prefer import load_generated
from motionkit.datagen.text_to_motion_samples import (preference_pairs, read_prompts, sample_prompt_motions,
                                                      write_preference_pairs)
from motionkit.datasets.preference_dataset import PreferenceDataset
from motionkit.motion.humanml3d import recover_joints_from_features

D = 263


class _VQ:
    """Code k decodes to 4 frames of value k (normalised)."""

    def decode(self, codes):
        return codes.float().repeat_interleave(4)[:, None].expand(-1, D)


class _Generator:
    motion_tokenizer = _VQ()

    def __init__(self):
        self.calls = []

    def generate_motion_codes(self, captions, num_samples=1, **sampling):
        self.calls.append((list(captions), num_samples, sampling))
        # prompt 'fail' gives no code on its second sample; codes depend on the torch seed
        out = []
        for c in captions:
            first = int(torch.randint(0, 5, ()).item())
            out.append([([first, 1], 0), ([] if c == 'fail' else [2], 3)][:num_samples])
        return out


def _prompts(tmp_path):
    rows = [dict(prompt_id='p0', prompt='a person jumps', subtask='frequency', events=['jump'], count=2),
            dict(prompt_id='p1', prompt='fail', subtask='integrity', events=['walk', 'wave'], count=None),
            dict(prompt_id='p2', prompt='a person waves', subtask='temporal', events=['wave', 'bow', 'kick'])]
    path = tmp_path / 'prompts.jsonl'
    path.write_text(''.join(json.dumps(r) + '\n' for r in rows))
    return path


def test_sample_folder_is_scoreable_and_resumes(tmp_path):
    prompts = read_prompts(_prompts(tmp_path))
    mean, std = np.full(D, 0.5, np.float32), np.full(D, 2.0, np.float32)
    gen = _Generator()
    stats = sample_prompt_motions(gen, prompts, tmp_path / 'gen', mean, std, num_samples=2, batch_size=2,
                                  seed=3, sampling=dict(temperature=0.7), failure_frames=6, progress=False)
    assert stats == dict(prompts=3, samples=6, failed=1, mean_codes=pytest.approx((2 + 1 + 2 + 0 + 2 + 1) / 6))
    assert [c[0] for c in gen.calls] == [['a person jumps', 'fail'], ['a person waves']]
    assert gen.calls[0][1:] == (2, dict(temperature=0.7))
    samples = load_generated(tmp_path / 'gen')  # the score stage's reader accepts it
    by = {s['id']: s for s in samples}
    assert list(by) == ['p0-s0', 'p0-s1', 'p1-s0', 'p1-s1', 'p2-s0', 'p2-s1']
    assert by['p1-s1']['failed'] and by['p1-s1']['codes'] == []
    assert by['p0-s1']['codes'] == [2] and by['p0-s1']['events'] == ['jump'] and by['p0-s1']['count'] == 2
    # joints: code 2 -> 4 frames of normalised 2 -> raw 2 * 2 + 0.5 = 4.5, then recover_from_ric
    j = np.load(tmp_path / 'gen' / by['p0-s1']['joints'])
    want = recover_joints_from_features(np.full((4, D), 4.5, np.float32), 22)
    np.testing.assert_allclose(j, want, rtol=1e-5, atol=1e-5)
    # the failed sample is the mean pose (normalised zeros -> raw mean) for failure_frames frames
    jf = np.load(tmp_path / 'gen' / by['p1-s1']['joints'])
    np.testing.assert_allclose(jf, recover_joints_from_features(np.full((6, D), 0.5, np.float32), 22), atol=1e-5)
    # seeded per batch: a second run into a fresh folder gives the same codes; a finished folder is reused
    gen2 = _Generator()
    sample_prompt_motions(gen2, prompts, tmp_path / 'gen2', mean, std, num_samples=2, batch_size=2, seed=3,
                          sampling=dict(temperature=0.7), failure_frames=6, progress=False)
    assert [s['codes'] for s in load_generated(tmp_path / 'gen2')] == [s['codes'] for s in samples]
    gen3 = _Generator()
    sample_prompt_motions(gen3, prompts, tmp_path / 'gen', mean, std, num_samples=2, batch_size=2, seed=3,
                          sampling=dict(temperature=0.7), failure_frames=6, progress=False)
    assert gen3.calls == []
    with pytest.raises(FileExistsError, match='another config'):
        sample_prompt_motions(gen3, prompts, tmp_path / 'gen', mean, std, num_samples=3, progress=False)


def test_read_prompts_errors_name_the_line(tmp_path):
    p = tmp_path / 'p.jsonl'
    p.write_text('{"prompt_id": "a", "prompt": "x", "subtask": "integrity"}\n{"prompt_id": "a", "prompt": "y"}\n')
    with pytest.raises(ValueError, match=r"line 2: missing \['subtask'\]"):
        read_prompts(p)
    p.write_text('{"prompt_id": "a", "prompt": "x", "subtask": "integrity"}\n' * 2)
    with pytest.raises(ValueError, match="line 2: prompt_id 'a' appears twice"):
        read_prompts(p)


def test_pairs_become_preference_rows(tmp_path):
    samples = [dict(id='a', codes=[1, 2]), dict(id='b', codes=[3]), dict(id='c', codes=[])]
    pairs = [dict(prompt_id='p', prompt='a person jumps', subtask='frequency', winner='a', loser='b',
                  winner_score=9, loser_score=4),
             dict(prompt_id='p', prompt='a person jumps', subtask='frequency', winner='a', loser='c',
                  winner_score=9, loser_score=0)]
    rows, skips = preference_pairs(pairs, samples)
    assert skips == dict(no_codes=1)
    assert rows == [dict(id='p:a>b', prompt='a person jumps', chosen=[1, 2], rejected=[3],
                         scores=dict(chosen=9, rejected=4), subtask='frequency', chosen_id='a', rejected_id='b')]
    with pytest.raises(KeyError, match="loser 'zz'"):
        preference_pairs([dict(pairs[0], loser='zz')], samples)
    # from files, read back by PreferenceDataset
    gen = tmp_path / 'gen'
    (gen / 'joints').mkdir(parents=True)
    recs = []
    for s in samples:
        np.save(gen / 'joints' / f'{s["id"]}.npy', np.zeros((4, 22, 3), np.float32))
        recs.append(dict(s, prompt_id='p', prompt='a person jumps', subtask='frequency', joints=f'joints/{s["id"]}.npy'))
    (gen / 'index.json').write_text(json.dumps(dict(samples=recs)))
    (tmp_path / 'pairs.jsonl').write_text(''.join(json.dumps(p) + '\n' for p in pairs))
    stats = write_preference_pairs(tmp_path / 'pairs.jsonl', gen, tmp_path / 'pref.jsonl')
    assert stats == dict(pairs=2, written=1, skipped=dict(no_codes=1))
    ds = PreferenceDataset(ann_file=str(tmp_path / 'pref.jsonl'), codebook_size=8)
    assert len(ds) == 1
