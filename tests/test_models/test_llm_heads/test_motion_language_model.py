"""MotionLanguageModel: prompt/label layout, anchor loss, strategies, LoRA, T5, vocab state, meta presets."""
import json
import pytest
import torch

from motionkit.models.llm_heads import (MotionLanguageModel, PROMPT_TEMPLATES, anchor_loss, build_backbone,
                                        build_word_vocab, detokenize, split_words, template_fields)


def _lm(**kw):
    args = dict(backbone=dict(preset='tiny-llama'),
                tokenizer=dict(type='word_level', extra_texts=['raise your left arm higher', 'kick lower']),
                codebook_size=8, template='src {source} tgt {target} say :',
                generation_cfg=dict(max_new_tokens=6))
    args.update(kw)
    torch.manual_seed(0)
    return MotionLanguageModel(**args)


def test_template_and_response_only_labels():
    assert template_fields(PROMPT_TEMPLATES['cigtime']) == ['source', 'target']
    assert template_fields(PROMPT_TEMPLATES['caption']) == ['target']
    lm = _lm()
    prompt = lm.format_prompt(dict(source=lm.motion_text([1, 2]), target=lm.motion_text([3])))
    assert prompt == 'src 1 2 tgt 3 say :'
    b = lm.build_batch([prompt, 'src 1 tgt 2 say :'], ['kick lower', 'raise your left arm higher'])
    tok = lm.tokenizer
    # row 0: <s> src 1 2 tgt 3 say : | kick lower </s>  -> 8 prompt positions masked, 3 scored
    row = b['input_ids'][0].tolist()
    assert row[0] == tok.bos_token_id and tok.convert_ids_to_tokens(row[1:9]) == \
        ['src', '1', '2', 'tgt', '3', 'say', ':', 'kick']
    labels = b['labels'][0].tolist()
    assert labels[:8] == [-100] * 8
    assert labels[8:11] == tok.convert_tokens_to_ids(['kick', 'lower']) + [tok.eos_token_id]
    assert labels[11:] == [-100] * (len(labels) - 11)  # right padding is not scored
    assert b['attention_mask'][0].tolist() == [1] * 11 + [0] * (len(labels) - 11)
    # generation batches are left-padded so every prompt ends at the last position
    g = lm.build_batch(['src 1 tgt 2 say :', prompt])
    assert g['attention_mask'][0, 0] == 0 and g['attention_mask'][:, -1].tolist() == [1, 1]


def test_anchor_loss_value_and_gradient():
    w0 = torch.tensor([[1.0, 2.0], [0.0, -1.0]])
    w = torch.tensor([[1.5, 2.0], [0.0, 1.0], [9.0, 9.0]], requires_grad=True)  # row 3: new token
    loss = anchor_loss(w, w0)
    assert loss.item() == pytest.approx(0.25 + 4.0)  # (0.5)^2 + (2)^2, new row not anchored
    loss.backward()
    assert torch.allclose(w.grad, torch.tensor([[1.0, 0.0], [0.0, 4.0], [0.0, 0.0]]))  # 2 (W - W0)
    lm = _lm(anchor_weight=0.5)
    out = lm.loss(['src 1 tgt 2 say :'], ['kick lower'])
    assert out['loss_anchor'].item() == 0.0  # at initialisation W == W0
    with torch.no_grad():
        lm.lm.get_input_embeddings().weight[0, 0] += 2.0
    assert lm.loss(['src 1 tgt 2 say :'], ['kick lower'])['loss_anchor'].item() == pytest.approx(0.5 * 4.0)


@pytest.mark.parametrize('strategy', ['text', 'extended', 'continuous'])
@pytest.mark.parametrize('preset', ['tiny-llama', 'tiny-t5'])
def test_each_strategy_trains(strategy, preset):
    lm = _lm(backbone=dict(preset=preset), motion_token_strategy=strategy, continuous_dim=4)
    ids = [[1, 2, 3], [4, 5]]
    prompts = [lm.format_prompt(dict(source=lm.motion_text(i), target=lm.motion_text(i[:1]))) for i in ids]
    latents = [torch.randn(len(i) + 1, 4) for i in ids] if strategy == 'continuous' else None
    if strategy == 'extended':
        assert '<motion_id_7>' in lm.tokenizer.get_added_vocab()
        assert lm.tokenizer.convert_tokens_to_ids('<motion_id_3>') != lm.tokenizer.unk_token_id
    opt = torch.optim.AdamW([p for p in lm.parameters() if p.requires_grad], lr=3e-3)
    losses = []
    for _ in range(6):
        loss = lm.loss(prompts, ['kick lower', 'raise your left arm higher'], latents)['loss_lm']
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert all(torch.isfinite(torch.tensor(losses))) and losses[-1] < losses[0]
    out = lm.generate(prompts, latents)
    assert len(out) == 2 and all(isinstance(t, str) for t in out)


def test_lora_round_trip_and_frozen(tmp_path):
    lm = _lm(finetune='lora', lora=dict(r=4, alpha=8, dropout=0.0))
    trainable = [n for n, p in lm.named_parameters() if p.requires_grad]
    assert trainable and all('lora' in n for n in trainable)
    with torch.no_grad():
        for n, p in lm.named_parameters():
            if 'lora_B' in n:
                p.normal_()  # non-zero adapters so the round trip is visible in the logits
    torch.save(lm.lora_state_dict(), tmp_path / 'adapter.pth')
    other = _lm(finetune='lora', lora=dict(r=4, alpha=8, dropout=0.0))
    batch = lm.build_batch(['src 1 tgt 2 say :'])
    lm.eval(), other.eval()
    before = other.lm(**batch).logits
    other.load_lora_state_dict(torch.load(tmp_path / 'adapter.pth', weights_only=True))
    after = other.lm(**batch).logits
    assert not torch.allclose(before, after)
    assert torch.allclose(after, lm.lm(**batch).logits, atol=1e-6)
    frozen = _lm(finetune='frozen')
    assert not any(p.requires_grad for p in frozen.parameters())


def test_word_vocab_is_deterministic_and_travels_with_the_weights(tmp_path):
    corpus = tmp_path / 'c.jsonl'
    corpus.write_text('{"split": "train", "instructions": ["Raise your arm, higher!"]}\n'
                      '{"split": "test", "instructions": ["secret word"]}\n')
    vocab = build_word_vocab([str(corpus)], ('instructions', ), num_ids=3, splits=('train', ))
    assert vocab == ['<pad>', '<s>', '</s>', '<unk>', '!', ',', 'arm', 'higher', 'raise', 'your', '0', '1', '2']
    assert split_words("Don't stop.") == ['don', "'", 't', 'stop', '.']
    assert detokenize("don ' t stop , now .") == "don't stop, now."
    assert detokenize('finish with a sit - down , then a t - pose') == 'finish with a sit-down, then a t-pose'
    lm = _lm(tokenizer=dict(type='word_level', corpus=[str(corpus)], splits=('train', )))
    ids = lm.tokenizer('raise your arm', add_special_tokens=False)['input_ids']
    assert lm.tokenizer.decode(ids) == 'raise your arm'
    state = lm.state_dict()
    # a uint8 tensor of JSON bytes (every state entry is a tensor, as DDP's broadcast needs)
    assert '_extra_state' in state and state['_extra_state'].dtype == torch.uint8
    assert json.loads(bytes(state['_extra_state'].tolist()).decode('utf-8'))['vocab'] == lm._vocab
    # checkpoints written before hold the dict itself: same-size vocabulary in another order
    # (corpus changed): the checkpoint's wins
    shuffled = dict(state, _extra_state=dict(vocab=lm._vocab[:4] + lm._vocab[4:][::-1]))
    lm.load_state_dict(shuffled)
    assert lm.tokenizer.convert_ids_to_tokens(4) == lm._vocab[4] == shuffled['_extra_state']['vocab'][4]
    with pytest.raises(ValueError, match='checkpoint vocabulary'):
        lm.load_state_dict(dict(state, _extra_state=dict(vocab=lm._vocab[:-1])))


def test_paper_presets_on_meta_have_published_sizes():
    llama = build_backbone(dict(preset='llama3-8b'), init_device='meta')
    assert sum(p.numel() for p in llama.parameters()) == 8_030_261_248
    assert next(llama.parameters()).device.type == 'meta'
    mistral = build_backbone(dict(preset='mistral-7b'), init_device='meta')
    assert sum(p.numel() for p in mistral.parameters()) == 7_241_732_096
    lm = MotionLanguageModel(backbone=dict(preset='llama3-8b'), init_device='meta')
    assert sum(p.numel() for p in lm.parameters()) == 8_030_261_248


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match='motion_token_strategy'):
        _lm(motion_token_strategy='bytes')
    with pytest.raises(KeyError, match='unknown preset'):
        _lm(backbone=dict(preset='gpt-9'))
    with pytest.raises(FileNotFoundError, match='not found: /nonexistent/llama'):
        _lm(backbone=dict(pretrained='/nonexistent/llama'), tokenizer=None)
    with pytest.raises(ValueError, match='neither a preset'):
        _lm(template='no fields here')


def test_pretrained_alias_resolves_to_the_local_conversion(monkeypatch, tmp_path):
    import os
    import motionkit.hub.convert_gguf as conv
    from motionkit.models.llm_heads.backbones import resolve_pretrained_path
    monkeypatch.setattr(conv, 'ensure_smollm2', lambda: tmp_path / 'SmolLM2-135M-Instruct')
    assert resolve_pretrained_path('smollm2-135m-instruct') == str(tmp_path / 'SmolLM2-135M-Instruct')
    assert resolve_pretrained_path('SmolLM2-135M-Instruct') == str(tmp_path / 'SmolLM2-135M-Instruct')
    assert resolve_pretrained_path('~/models/x') == os.path.expanduser('~/models/x')


def test_stop_text_cuts_the_response():
    from motionkit.registry import MODELS
    m = MODELS.build(dict(type='MotionLanguageModel', backbone=dict(preset='tiny-llama'),
                          tokenizer=dict(type='word_level', extra_texts=['a b c']),
                          codebook_size=8, generation_cfg=dict(max_new_tokens=2, stop_text='b')))
    assert m.stop_text == 'b' and 'stop_text' not in m.generation_cfg
    m.lm.generate = lambda **kw: m.tokenizer(['a b c'], return_tensors='pt')['input_ids']
    m.is_seq2seq = True  # return the ids above as they are
    assert m.generate(['x']) == ['a']


def test_runner_init_weights_keeps_the_lora_adapter_at_zero():
    """The Runner calls init_weights(); through peft it would reach transformers' init and redraw
    the LoRA matrices (B != 0): a LoRA model must still start exactly at its backbone."""
    lm = _lm(finetune='lora', lora=dict(r=4, alpha=8, dropout=0.0)).eval()
    batch = lm.build_batch(['src 1 tgt 2 say :'])
    with torch.no_grad():
        before = lm.lm(**batch).logits
    lm.init_weights()
    b = [p for n, p in lm.named_parameters() if 'lora_B' in n]
    assert b and all(bool((p == 0).all()) for p in b)
    with torch.no_grad():
        assert torch.equal(lm.lm(**batch).logits, before)
