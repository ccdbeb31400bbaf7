"""MotionTextLM: the token reading rule, mixed t2m / m2t loss, predict (decode, de-normalise,
failures, samples), task templates and the word-level corpus from a HumanML3D-layout folder."""
import numpy as np
import pytest
import torch

from motionkit.models.llm_heads import (MotionTextLM, build_word_vocab, read_motion_codes,
                                        resolve_task_templates)
from motionkit.structures import MotionDataSample

K = 16
VQ = dict(type='MotionVQVAE', feature_dim=263, width=16, code_dim=8, depth=1, vel_weight=0.0,
          quantizer=dict(type='EMAQuantizer', codebook_size=K, code_dim=8))
CAPTIONS = ['a person walks forward', 'a person jumps twice']


def _model(**kw):
    torch.manual_seed(0)
    cfg = dict(tokenizer=VQ, llm=dict(backbone=dict(preset='tiny-t5'),
                                      tokenizer=dict(type='word_level', extra_texts=CAPTIONS),
                                      codebook_size=K, max_length=48),
               max_motion_tokens=8)
    cfg.update(kw)
    m = MotionTextLM(**cfg)
    vq = m.motion_tokenizer
    vq.train()
    vq.loss(torch.randn(4, 32, 263), torch.full((4, ), 32))  # initialise the EMA codebook
    vq.eval()
    return m


def _samples(lengths, stats=None):
    out = []
    for i, n in enumerate(lengths):
        s = MotionDataSample()
        s.gt_text = CAPTIONS[i % 2]
        meta = dict(length=int(n), sample_id=str(i))
        if stats is not None:
            meta.update(normalized=True, mean_path=stats[0], std_path=stats[1])
        s.set_metainfo(meta)
        out.append(s)
    return out


def test_reading_rule_by_hand():
    code_of = {100 + k: k for k in range(4)}
    start, end = 200, 201
    # text before the start marker, a stray word and the pad marker inside, codes after the end
    assert read_motion_codes([7, 100, 200, 101, 9, 102, 202, 201, 103], code_of, start, end) == ([1, 2], 2)
    # no start marker: read from the first token; no end marker: read to the end
    assert read_motion_codes([103, 100, 5], code_of, start, end) == ([3, 0], 1)
    # only text: no code (a failure for the caller)
    assert read_motion_codes([5, 6, 201], code_of, start, end) == ([], 2)
    # decimal strategy: no markers
    assert read_motion_codes([101, 5, 103], code_of, None, None) == ([1, 3], 1)


def test_task_templates_are_checked():
    assert len(resolve_task_templates('motiongpt_instruct')['t2m']) == 5
    with pytest.raises(ValueError, match='one field'):
        resolve_task_templates(dict(t2m=[('make {motion}', '{motion}')]))
    with pytest.raises(KeyError, match='unknown task'):
        resolve_task_templates(dict(m2m=[('{motion}', '{motion}')]))
    with pytest.raises(KeyError, match="no 'm2t'"):
        _model(task_templates=dict(t2m=[('{caption}', '{motion}')]), t2m_ratio=0.5)


def test_motion_tokens_and_markers_in_the_vocabulary():
    m = _model()
    tok = m.llm.tokenizer
    assert m.llm.motion_text([3, 1]) == f'<motion_id_{K}><motion_id_3><motion_id_1><motion_id_{K + 1}>'
    ids = tok.convert_tokens_to_ids([f'<motion_id_{k}>' for k in range(K + 3)])
    assert tok.unk_token_id not in ids and len(set(ids)) == K + 3
    # the template words are in the word-level vocabulary (instruct templates)
    m2 = _model(task_templates='motiongpt_instruct')
    assert m2.llm.tokenizer.convert_tokens_to_ids('animate') != m2.llm.tokenizer.unk_token_id


def test_loss_is_the_lm_loss_of_the_templated_pairs():
    m = _model(t2m_ratio=1.0)
    x, lengths = torch.randn(2, 24, 263), torch.tensor([24, 16])
    ds = _samples(lengths.tolist())
    codes = m.encode_motions(x, lengths)
    assert [len(c) for c in codes] == [6, 4]
    m.eval()  # no dropout: the two forwards must agree
    got = m.loss(dict(motion=x, lengths=lengths), ds)
    want = m.llm.loss(CAPTIONS, [m.llm.motion_text(c) for c in codes])['loss_lm']
    assert torch.allclose(got['loss_lm'], want) and float(got['t2m_fraction']) == 1.0
    m2t = _model(t2m_ratio=0.0).eval()
    got = m2t.loss(dict(motion=x, lengths=lengths), ds)
    want = m2t.llm.loss([m2t.llm.motion_text(c) for c in codes], CAPTIONS)['loss_lm']
    assert torch.allclose(got['loss_lm'], want) and float(got['t2m_fraction']) == 0.0


def test_predict_decodes_denormalises_and_counts_failures(tmp_path, monkeypatch):
    m = _model(num_samples=2, sampling=dict(do_sample=True, temperature=0.7, top_k=5, top_p=0.9))
    tok = m.llm.tokenizer
    cid = {k: tok.convert_tokens_to_ids(f'<motion_id_{k}>') for k in range(K + 3)}
    word = tok.convert_tokens_to_ids('walks')
    rows = [[cid[K], cid[3], word, cid[5], cid[K + 1], cid[7]],  # caption 0, sample 0: codes 3 5
            [cid[1]] * 10,                                      # caption 0, sample 1: 10 codes, cut at 24 frames
            [word, word],                                       # caption 1, sample 0: no code -> failure
            [cid[2]]]                                           # caption 1, sample 1
    seen = {}

    def fake_generate_ids(prompts, **cfg):
        seen.update(cfg, prompts=list(prompts))
        return rows
    monkeypatch.setattr(m.llm, 'generate_ids', fake_generate_ids)
    mean = np.linspace(-1, 1, 263).astype(np.float32)
    std = np.linspace(0.5, 2, 263).astype(np.float32)
    np.save(tmp_path / 'Mean.npy', mean)
    np.save(tmp_path / 'Std.npy', std)
    ds = _samples([24, 20], stats=(str(tmp_path / 'Mean.npy'), str(tmp_path / 'Std.npy')))
    out = m.predict(dict(motion=torch.zeros(2, 24, 263), lengths=torch.tensor([24, 20])), ds)
    assert seen['num_return_sequences'] == 2 and seen['top_k'] == 5 and seen['temperature'] == 0.7
    assert seen['top_p'] == 0.9 and seen['do_sample'] and seen['max_new_tokens'] == 8 + 2
    assert seen['prompts'] == CAPTIONS  # 'motiongpt_pretrain': the caption alone
    vq = m.motion_tokenizer
    want = vq.decode(torch.tensor([3, 5])) * torch.from_numpy(std) + torch.from_numpy(mean)
    assert torch.allclose(out[0].pred_motion, want, atol=1e-5) and out[0].pred_motion.shape == (8, 263)
    assert out[0].pred_motion_tokens.tolist() == [3, 5]
    assert out[0].metainfo['pred_length'] == 8 and out[0].metainfo['pred_motion_ignored_tokens'] == 1
    assert out[0].pred_motion_samples[1].shape == (24, 263)  # 40 frames cut at the caption's 24
    # the R generations for T2MGenerationMetric: zero-padded to the longest, each with its length
    reps = out[0].pred_motion_replications
    assert reps.shape == (2, 24, 263) and out[0].pred_motion_replication_lengths.tolist() == [8, 24]
    assert torch.equal(reps[0, :8], out[0].pred_motion) and not reps[0, 8:].any()
    assert torch.equal(reps[1], out[0].pred_motion_samples[1])
    # caption 1: the failure's mean pose (20 frames), then one code = 4 frames
    assert out[1].pred_motion_replication_lengths.tolist() == [20, 4]
    # failure: the mean pose for the caption's length, counted
    assert out[1].metainfo['pred_motion_failed'] and out[1].metainfo['pred_length'] == 20
    assert torch.allclose(out[1].pred_motion, torch.from_numpy(mean).expand(20, 263))
    assert out[1].pred_motion_tokens_samples[1].tolist() == [2]
    assert (m.num_failed, m.num_generated) == (1, 4)
    strict = _model(on_failure='raise')
    monkeypatch.setattr(strict.llm, 'generate_ids', lambda prompts, **cfg: [[word]] * len(prompts))
    with pytest.raises(ValueError, match='no motion token'):
        strict.predict(None, _samples([16]))


def test_real_generation_and_m2t_captions():
    m = _model(num_samples=3, sampling=dict(do_sample=True, top_k=4))
    torch.manual_seed(0)
    gens = m.generate_motion_codes(CAPTIONS)
    assert len(gens) == 2 and all(len(g) == 3 for g in gens)
    assert all(all(0 <= c < K for c in codes) and len(codes) <= 10 for g in gens for codes, _ in g)
    with pytest.raises(ValueError, match='do_sample=True'):
        _model(predict_task='m2t', num_samples=2).generate_captions([[1, 2]])
    cap = _model(predict_task='m2t', num_samples=2, sampling=dict(do_sample=True, top_p=0.9))
    out = cap.predict(dict(motion=torch.randn(2, 16, 263), lengths=torch.tensor([16, 12])), _samples([16, 12]))
    assert all(isinstance(s.pred_caption, str) and len(s.pred_captions) == 2 for s in out)


def test_word_vocab_from_a_humanml3d_folder(tmp_path):
    (tmp_path / 'texts').mkdir()
    (tmp_path / 'texts' / 'A.txt').write_text('a man waves.#a/DET man/NOUN wave/VERB#0.0#0.0\n')
    (tmp_path / 'texts' / 'B.txt').write_text('someone kneels.#someone/PRON kneel/VERB#0.0#0.0\n')
    (tmp_path / 'train.txt').write_text('A\n')
    (tmp_path / 'all.txt').write_text('A\nB\n')
    vocab = build_word_vocab([str(tmp_path)], splits=('train', ))
    assert {'a', 'man', 'waves', '.'} <= set(vocab) and 'kneels' not in vocab and 'NOUN' not in vocab
    assert 'kneels' in build_word_vocab([str(tmp_path)])
    with pytest.raises(FileNotFoundError, match='test.txt'):
        build_word_vocab([str(tmp_path)], splits=('test', ))
