"""CorrectiveInstructionGenerator: frozen tokenizer + LM head; loss/predict; overfits four pairs."""
import pytest
import torch
from mmengine.registry import init_default_scope
from mmengine.structures import BaseDataElement

from motionkit.registry import MODELS

TOKENIZER = dict(type='MotionVQVAE', feature_dim=263, width=32, code_dim=16, down_t=2, stride_t=2, depth=1,
                 quantizer=dict(type='EMAQuantizer', codebook_size=16, code_dim=16),
                 representation='HumanML3DFeatures', data_preprocessor=dict(type='MotionDataPreprocessor'))
TEXTS = ['raise your left arm higher', 'kick with the other leg', 'bow deeper', 'jump lower']


def _generator(tmp_path, template='cigtime', strategy='text', checkpoint=True, continuous_dim=16, **kwargs):
    init_default_scope('motionkit')
    torch.manual_seed(0)
    ckpt = None
    if checkpoint:  # a "trained" tokenizer: one training forward initialises its codebook
        tok = MODELS.build(TOKENIZER)
        tok.train()
        tok.loss(torch.randn(8, 64, 263), torch.full((8, ), 64))
        ckpt = str(tmp_path / 'tok.pth')
        torch.save(dict(state_dict=tok.state_dict()), ckpt)
    llm = dict(type='MotionLanguageModel', backbone=dict(preset='tiny-llama'),
               tokenizer=dict(type='word_level', extra_texts=TEXTS), motion_token_strategy=strategy,
               codebook_size=16, continuous_dim=continuous_dim, template=template, anchor_weight=1e-3,
               generation_cfg=dict(max_new_tokens=8))
    return MODELS.build(dict(type='CorrectiveInstructionGenerator', tokenizer=TOKENIZER, llm=llm,
                             tokenizer_checkpoint=ckpt, data_preprocessor=dict(type='BaseDataPreprocessor'),
                             **kwargs))


def _batch():
    g = torch.Generator().manual_seed(1)
    inputs = dict(source=torch.randn(4, 48, 263, generator=g), source_lengths=torch.tensor([48, 40, 32, 24]),
                  target=torch.randn(4, 44, 263, generator=g), target_lengths=torch.tensor([44, 44, 20, 16]))
    return inputs, [BaseDataElement(gt_instruction=t) for t in TEXTS]


def test_prompts_hold_both_motions_and_tokenizer_stays_frozen(tmp_path):
    model = _generator(tmp_path)
    inputs, samples = _batch()
    prompts = model(inputs, samples, mode='tensor')
    # 48 frames -> 12 tokens of source, 44 -> 11 tokens of target, written as decimal ids
    src = prompts[0].split('the source motion is ')[1].split(' .')[0].split()
    tgt = prompts[0].split('the target motion is ')[1].split(' .')[0].split()
    assert len(src) == 12 and len(tgt) == 11 and all(0 <= int(x) < 16 for x in src + tgt)
    model.train()
    assert not model.motion_tokenizer.training
    assert not any(p.requires_grad for p in model.motion_tokenizer.parameters())
    losses = model(inputs, samples, mode='loss')
    assert set(losses) == {'loss_lm', 'loss_anchor'} and torch.isfinite(losses['loss_lm'])


def test_overfits_four_pairs(tmp_path):
    model = _generator(tmp_path)
    inputs, samples = _batch()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=3e-3)
    model.train()
    for _ in range(60):
        loss = sum(model(inputs, samples, mode='loss').values())
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    out = model(inputs, [BaseDataElement(gt_instruction=t) for t in TEXTS], mode='predict')
    assert [o.pred_instruction for o in out] == TEXTS


def test_code_cache_gives_the_same_prompts_and_empties_on_load(tmp_path):
    model = _generator(tmp_path)
    inputs, samples = _batch()
    model.cache_codes = False
    plain = model(inputs, samples, mode='tensor')
    model.cache_codes = True
    assert model(inputs, samples, mode='tensor') == plain  # first pass fills the cache
    assert len(model._code_cache) == 8
    # a batch in another order, with other padding, reads the same codes from the cache
    order = [2, 0]
    sub = {k: v[order] for k, v in inputs.items()}
    sub['source'] = torch.cat([sub['source'], torch.zeros(2, 8, 263)], 1)  # 8 more padded frames
    calls = []
    model._encode_codes = lambda *a: calls.append(a) or (_ for _ in ()).throw(AssertionError('encoded'))
    assert model(sub, [samples[i] for i in order], mode='tensor') == [plain[i] for i in order]
    assert not calls
    del model._encode_codes
    model.load_state_dict(model.state_dict())
    assert model._code_cache == {}


def test_pair_template_interleaves_the_two_motions(tmp_path):
    model = _generator(tmp_path, template='cigtime_pair')
    inputs, samples = _batch()
    prompts = model(inputs, samples, mode='tensor')
    plain = _generator(tmp_path, template='cigtime')(inputs, samples, mode='tensor')
    for i, (p, q) in enumerate(zip(prompts, plain)):
        src = q.split('the source motion is ')[1].split(' .')[0].split()
        tgt = q.split('the target motion is ')[1].split(' .')[0].split()
        pair = p.split('step by step , are ')[1].split(' .')[0].split()
        n = max(len(src), len(tgt))
        assert len(pair) == 2 * n
        # source token k then target token k; the shorter motion reads 'end' once it has ended
        assert pair[0::2] == src + ['end'] * (n - len(src))
        assert pair[1::2] == tgt + ['end'] * (n - len(tgt))
    tok = model.llm.tokenizer
    assert 'end' in prompts[2].split() and tok.convert_tokens_to_ids('end') != tok.unk_token_id
    assert torch.isfinite(model(inputs, samples, mode='loss')['loss_lm'])
    # continuous: the placeholders take source/target latents interleaved the same way
    cont = _generator(tmp_path, template='cigtime_pair', strategy='continuous')
    prompts, seq = cont.prompts(inputs)
    src, _ = cont._motion_codes(inputs['source'], inputs['source_lengths'])
    _, lat_s = cont._encode_codes(inputs['source'], inputs['source_lengths'])
    _, lat_t = cont._encode_codes(inputs['target'], inputs['target_lengths'])
    words = prompts[2].split('step by step , are ')[1].split(' .')[0].split()
    assert words.count('<motion_latent>') == len(seq[2]) == len(lat_s[2]) + len(lat_t[2]) == 8 + 5
    assert torch.allclose(seq[2][0], lat_s[2][0]) and torch.allclose(seq[2][1], lat_t[2][0])
    assert torch.allclose(seq[2][-1], lat_s[2][-1])  # the target ended after 5 steps
    assert torch.isfinite(cont(inputs, samples, mode='loss')['loss_lm'])


def test_continuous_features_and_fused_pair_steps(tmp_path):
    inputs, samples = _batch()
    # features: each token step projects its 4 frames x 263 normalised features
    feats = _generator(tmp_path, template='cigtime_pair', strategy='continuous', continuous_dim=4 * 263,
                       continuous_input='features')
    prompts, seq = feats.prompts(inputs)
    assert len(seq[2]) == 8 + 5 and prompts[2].count('<motion_latent>') == 13
    assert torch.equal(seq[2][0], inputs['source'][2, :4].reshape(-1))    # source step 0
    assert torch.equal(seq[2][1], inputs['target'][2, :4].reshape(-1))    # target step 0
    assert torch.equal(seq[2][-1], inputs['source'][2, 28:32].reshape(-1))  # source step 7
    # fuse: one step per k with [s_k, t_k, t_k - s_k]; zeros where the target has ended
    fused = _generator(tmp_path, template='cigtime_pair', strategy='continuous', continuous_dim=3 * 4 * 263,
                       continuous_input='features', pair_steps='fuse')
    prompts, seq = fused.prompts(inputs)
    assert prompts[2].count('<motion_latent>') == len(seq[2]) == 8
    s0, t0 = inputs['source'][2, :4].reshape(-1), inputs['target'][2, :4].reshape(-1)
    assert torch.allclose(seq[2][0], torch.cat([s0, t0, t0 - s0]))
    s7 = inputs['source'][2, 28:32].reshape(-1)
    assert torch.equal(seq[2][7], torch.cat([s7, torch.zeros(2 * 4 * 263)]))
    assert torch.isfinite(fused(inputs, samples, mode='loss')['loss_lm'])
    assert len(fused(inputs, samples, mode='predict')) == 4
    # the tokenizer only sets the step: no checkpoint needed, the same inputs without one
    free = _generator(tmp_path, template='cigtime_pair', strategy='continuous', continuous_dim=3 * 4 * 263,
                      continuous_input='features', pair_steps='fuse', checkpoint=False)
    assert all(torch.equal(a, b) for a, b in zip(free.prompts(inputs)[1], seq))
    with pytest.raises(ValueError, match='continuous_dim to 1052'):
        _generator(tmp_path, template='cigtime_pair', strategy='continuous', continuous_input='features')
    with pytest.raises(ValueError, match='pair_steps'):
        _generator(tmp_path, template='cigtime', strategy='continuous', pair_steps='fuse')


@pytest.mark.parametrize('strategy', ['extended', 'continuous'])
def test_caption_template_and_other_strategies(tmp_path, strategy):
    model = _generator(tmp_path, template='caption', strategy=strategy)
    inputs, samples = _batch()
    inputs = dict(target=inputs['target'], target_lengths=inputs['target_lengths'])  # no source needed
    assert torch.isfinite(model(inputs, samples, mode='loss')['loss_lm'])
    assert len(model(inputs, samples, mode='predict')) == 4


def test_caption_template_reads_the_target_feature_steps_only(tmp_path):
    """Caption of the target with the feature-step input: each placeholder takes one 4-frame step
    of the target's normalised features; the source never reaches the LM."""
    model = _generator(tmp_path, template='caption', strategy='continuous', continuous_dim=4 * 263,
                       continuous_input='features', checkpoint=False).eval()
    inputs, samples = _batch()
    prompts, seq = model.prompts(inputs)
    # target lengths 44, 44, 20, 16 frames -> 11, 11, 5, 4 steps (one placeholder each)
    assert [len(s) for s in seq] == [11, 11, 5, 4]
    assert [p.count('<motion_latent>') for p in prompts] == [11, 11, 5, 4]
    assert prompts[2].startswith('the motion is <motion_latent>') and 'source' not in prompts[2]
    for k in range(5):
        assert torch.equal(seq[2][k], inputs['target'][2, 4 * k:4 * k + 4].reshape(-1))
    # another source (other values and lengths), or none at all: the same prompts, latents, loss
    # and captions
    other = dict(inputs, source=torch.randn(4, 60, 263), source_lengths=torch.tensor([60, 8, 52, 30]))
    target_only = dict(target=inputs['target'], target_lengths=inputs['target_lengths'])
    loss = model(inputs, samples, mode='loss')['loss_lm']
    preds = [o.pred_instruction for o in model(inputs, _samples(), mode='predict')]
    for changed in (other, target_only):
        p2, seq2 = model.prompts(changed)
        assert p2 == prompts and all(torch.equal(a, b) for a, b in zip(seq2, seq))
        assert torch.equal(model(changed, samples, mode='loss')['loss_lm'], loss)
        assert [o.pred_instruction for o in model(changed, _samples(), mode='predict')] == preds
    # while another target changes the input
    moved = dict(inputs, target=inputs['target'] + 1.0)
    assert not torch.equal(model.prompts(moved)[1][0], seq[0])
    assert not torch.equal(model(moved, samples, mode='loss')['loss_lm'], loss)


def _samples():
    return [BaseDataElement(gt_instruction=t) for t in TEXTS]

def test_missing_tokenizer_checkpoint_is_named(tmp_path):
    init_default_scope('motionkit')
    llm = dict(type='MotionLanguageModel', backbone=dict(preset='tiny-llama'),
               tokenizer=dict(type='word_level'), codebook_size=16)
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        MODELS.build(dict(type='CorrectiveInstructionGenerator', tokenizer=TOKENIZER, llm=llm,
                          tokenizer_checkpoint=str(tmp_path / 'nope.pth')))


def test_in_context_examples_fill_the_fig4_prompt(tmp_path, cigtime_work_dir):
    import json
    import numpy as np
    from motionkit.motion.statistics import load_mean_std
    root = cigtime_work_dir / 'triplets'
    init_default_scope('motionkit')
    base = _generator(tmp_path)  # for its tokenizer checkpoint and LM settings
    ckpt = str(tmp_path / 'tok.pth')
    llm = dict(type='MotionLanguageModel', backbone=dict(preset='tiny-llama'),
               tokenizer=dict(type='word_level', corpus=[str(root / 'triplets.jsonl')]),
               motion_token_strategy='text', codebook_size=16, template='cigtime_icl',
               generation_cfg=dict(max_new_tokens=4))
    model = MODELS.build(dict(type='CorrectiveInstructionGenerator', tokenizer=TOKENIZER, llm=llm,
                              tokenizer_checkpoint=ckpt, data_preprocessor=dict(type='BaseDataPreprocessor'),
                              in_context=dict(data_root=str(root), num_examples=2, seed=0)))
    inputs, samples = _batch()
    prompts = model(inputs, samples, mode='tensor')
    rows = [json.loads(line) for line in (root / 'triplets.jsonl').read_text().splitlines()]
    train = [r for r in rows if r['split'] == 'train']
    examples = model.examples
    assert examples.count('Instruction: ') == 2 and all(p.count('Source motion:') == 3 for p in prompts)
    assert all(p.startswith('You are a motion coach') and p.endswith('Instruction:') for p in prompts)
    # the examples are training triplets of different edit operations, tokenised like the inputs
    used = [r for r in train if f"Instruction: {r['instruction']}\n" in examples]
    assert len({r['edit'] for r in used}) >= 2
    mean, std = load_mean_std(str(root / 'Mean.npy'), str(root / 'Std.npy'))

    def codes(r):
        x = torch.as_tensor((np.load(root / r['source_vecs']) - mean) / std, dtype=torch.float32)[None]
        ids, _ = model._motion_codes(x, torch.tensor([x.shape[1]]))
        return model.llm.motion_text(ids[0])

    # (several triplets may share an instruction text: one of them is the example)
    assert any(f'Source motion: {codes(r)}\n' in examples for r in used)
    assert model(inputs, samples, mode='tensor') == prompts  # built once, reused
    with pytest.raises(ValueError, match='examples'):
        MODELS.build(dict(type='CorrectiveInstructionGenerator', tokenizer=TOKENIZER,
                          llm=dict(llm, template='cigtime'), tokenizer_checkpoint=ckpt,
                          in_context=dict(data_root=str(root))))
    with pytest.raises(KeyError, match='data_root'):
        MODELS.build(dict(type='CorrectiveInstructionGenerator', tokenizer=TOKENIZER, llm=llm,
                          tokenizer_checkpoint=ckpt, in_context=dict(num_examples=2)))
