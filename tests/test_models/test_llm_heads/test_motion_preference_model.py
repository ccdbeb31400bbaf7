"""MotionPreferenceModel: the reference (adapter off / frozen copy), loss values at the start,
learning a separable toy preference, KTO / SFT, over-long pairs, generation."""
import math

import pytest
import torch

from motionkit.models.llm_heads import ATOM_LORA, MotionPreferenceModel

PROMPTS = ['a person walks', 'a person jumps', 'a person kicks', 'a person sits']
# trivially separable: the chosen motion of every prompt uses low codes, the rejected one high codes
CHOSEN = [[1, 2, 3], [2, 3, 1], [3, 1, 2], [1, 1, 2]]
REJECTED = [[6, 7], [7, 6, 6], [5, 7, 6, 5], [6, 5]]


def _model(preset='tiny-t5', **kw):
    llm = dict(backbone=dict(preset=preset), tokenizer=dict(type='word_level', extra_texts=PROMPTS),
               motion_token_strategy='text', codebook_size=8, template='generate the motion of : {text} . motion :',
               max_length=32, generation_cfg=dict(max_new_tokens=5))
    llm.update(kw.pop('llm', {}))
    torch.manual_seed(0)
    return MotionPreferenceModel(llm=llm, **kw)


def _inputs(n=4):
    return dict(prompts=PROMPTS[:n], chosen=CHOSEN[:n], rejected=REJECTED[:n])


def _train(model, steps, lr=1e-2):
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr)
    history = []
    model.train()
    for _ in range(steps):
        out = model(_inputs(), mode='loss')
        loss = sum(v for k, v in out.items() if k.startswith('loss'))
        opt.zero_grad()
        loss.backward()
        opt.step()
        history.append({k: v.item() for k, v in out.items()})
    return history


@pytest.mark.parametrize('preset', ['tiny-t5', 'tiny-llama'])
def test_ipo_with_lora_starts_at_target_and_learns_the_preference(preset):
    model = _model(preset)
    lora = model.llm.lm.peft_config['default']
    assert (lora.r, lora.lora_alpha, lora.lora_dropout) == (8, 16, 0.05) == tuple(ATOM_LORA.values())
    assert model.loss_type == 'ipo' and model.average_log_prob and model.beta == 0.1
    model.train()
    first = model(_inputs(), mode='loss')
    # LoRA's B starts at zero: policy == reference, h = 0 -> (0 - 1 / (2 * 0.1))^2 = 25
    assert first['loss_ipo'].item() == pytest.approx(25.0, abs=1e-4)
    assert first['reward_margin'].item() == pytest.approx(0.0, abs=1e-5)
    ref_before = model._reference(*_ref_rows(model))[0]
    hist = _train(model, 15)
    assert hist[-1]['loss_ipo'] < 0.5 * hist[0]['loss_ipo']
    assert hist[-1]['reward_margin'] > 0.05 and hist[-1]['reward_accuracy'] == 1.0
    # the reference (adapter disabled) did not move; the policy did
    assert torch.allclose(model._reference(*_ref_rows(model))[0], ref_before, atol=1e-5)
    preds = model(_inputs(), [dict(pair_id=f'p{i}') for i in range(4)], mode='predict')
    assert [p['pair_id'] for p in preds] == ['p0', 'p1', 'p2', 'p3']
    assert all(p['pred_prefers_chosen'] for p in preds)
    assert preds[0]['pred_reward_margin'] == pytest.approx(hist[-1]['reward_margin'], abs=1.0)


def _ref_rows(model):
    inp = _inputs()
    prompts, chosen, rejected = model._unpack(inp)
    return prompts + prompts, chosen + rejected


def test_dpo_full_finetune_uses_a_frozen_copy():
    model = _model(llm=dict(finetune='full'), loss_type='dpo')
    assert model.reference_lm is not None and not model.average_log_prob
    assert not any(p.requires_grad for p in model.reference_lm.parameters())
    model.train()
    assert not model.reference_lm.training
    first = model(_inputs(), mode='loss')
    assert first['loss_dpo'].item() == pytest.approx(math.log(2), abs=1e-5)  # -log sigmoid(0)
    ref_before = model._reference(*_ref_rows(model))[0]
    hist = _train(model, 6, lr=3e-3)
    assert hist[-1]['loss_dpo'] < hist[0]['loss_dpo'] and hist[-1]['reward_accuracy'] == 1.0
    assert torch.equal(model._reference(*_ref_rows(model))[0], ref_before)


def test_kto_and_sft_train():
    kto = _model(loss_type='kto', kto_weights=dict(desirable=1.0, undesirable=1.5))
    hist = _train(kto, 12)
    # at the start r = z_ref = 0: loss = mean(1 - 1/2 over 4 desirable, 1.5 - 1.5/2 over 4) = 0.625
    assert hist[0]['loss_kto'] == pytest.approx(0.625, abs=1e-4)
    assert hist[-1]['loss_kto'] < hist[0]['loss_kto'] and hist[-1]['reward_chosen'] > hist[-1]['reward_rejected']
    sft = _model(loss_type='sft')
    hist = _train(sft, 8)
    assert set(hist[0]) == {'loss_sft'} and hist[-1]['loss_sft'] < hist[0]['loss_sft']
    # sft_weight adds the SFT term to IPO: same seed, same initial weights -> exactly half
    both, fresh = _model(sft_weight=0.5), _model(loss_type='sft')
    out = both(_inputs(), mode='loss')
    assert set(out) >= {'loss_ipo', 'loss_sft'}
    assert out['loss_sft'].item() == pytest.approx(0.5 * fresh(_inputs(), mode='loss')['loss_sft'].item(), rel=1e-5)


def test_too_long_pairs_and_bad_config_raise_clear_errors():
    model = _model(llm=dict(max_length=12))
    long = dict(prompts=['a person walks'], chosen=[[1] * 20], rejected=[[2]])
    with pytest.raises(ValueError, match=r"pair 'p7': the chosen motion has 20 codes = 21 response tokens.*"
                                         r"max_motion_tokens"):
        model(long, [dict(pair_id='p7')], mode='loss')
    with pytest.raises(ValueError, match='exactly one field'):
        _model(llm=dict(template='{source} {target}'))
    with pytest.raises(ValueError, match="not 'continuous'"):
        _model(llm=dict(motion_token_strategy='continuous', continuous_dim=4))
    with pytest.raises(ValueError, match='loss_type must be one of'):
        _model(loss_type='orpo')
    with pytest.raises(KeyError, match=r'inputs must be dict\(prompts, chosen, rejected\)'):
        model(dict(prompts=['x']), mode='loss')


def test_generate_returns_code_ids():
    model = _model('tiny-llama')
    out = model.generate(PROMPTS[:2])
    assert len(out) == 2 and all(isinstance(i, int) and 0 <= i < 8 for ids in out for i in ids)


def test_init_weights_keeps_lora_b_zero():
    """The Runner calls init_weights: the policy must still start at the reference."""
    model = _model()
    model.init_weights()
    b = [v for k, v in model.state_dict().items() if 'lora_B' in k]
    assert b and all(torch.count_nonzero(v) == 0 for v in b)


def test_vocabulary_travels_as_a_tensor_and_round_trips():
    model = _model()
    state = model.state_dict()
    vocab = state['llm._extra_state']
    assert vocab.dtype == torch.uint8  # a tensor: DDP can broadcast it, weights_only can load it
    other = _model(llm=dict(tokenizer=dict(type='word_level', extra_texts=PROMPTS + ['a person runs'])))
    with pytest.raises(ValueError, match='checkpoint vocabulary has'):
        other.load_state_dict(state)  # decoded back to the vocabulary list the LM checks
    fresh = _model()
    fresh.load_state_dict(state)
    assert fresh.llm._vocab == model.llm._vocab
