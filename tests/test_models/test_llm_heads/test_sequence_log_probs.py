"""Sequence log-probabilities: manual log_softmax/gather, response-only masks, T5 and Llama."""
import pytest
import torch

from motionkit.models.llm_heads import MotionLanguageModel, lm_sequence_log_probs, sequence_log_probs


def test_matches_manual_log_softmax_and_skips_masked_positions():
    torch.manual_seed(0)
    logits = torch.randn(2, 4, 5, dtype=torch.float64)
    labels = torch.tensor([[-100, 3, 1, -100], [2, -100, -100, -100]])
    logp = torch.log_softmax(logits, -1)
    # unshifted (seq2seq): row 0 scores positions 1, 2; row 1 position 0
    s, n = sequence_log_probs(logits, labels)
    assert n.tolist() == [2, 1]
    assert s[0].item() == pytest.approx((logp[0, 1, 3] + logp[0, 2, 1]).item())
    assert s[1].item() == pytest.approx(logp[1, 0, 2].item())
    # shifted (causal): logit t scores label t + 1 -> row 0: logp[0, 0, 3] + logp[0, 1, 1]; row 1: none
    s, n = sequence_log_probs(logits, labels, shift=True)
    assert n.tolist() == [2, 0]
    assert s[0].item() == pytest.approx((logp[0, 0, 3] + logp[0, 1, 1]).item())
    assert s[1].item() == 0.0
    # what sits under a masked label does not matter
    logits2 = logits.clone()
    logits2[0, 0] += 100.0
    assert sequence_log_probs(logits2, labels)[0][0].item() == pytest.approx(
        sequence_log_probs(logits, labels)[0][0].item())
    with pytest.raises(ValueError, match=r'expected logits \(B, T, V\)'):
        sequence_log_probs(logits[0], labels)
    with pytest.raises(ValueError, match='outside the vocabulary'):
        sequence_log_probs(logits, torch.tensor([[7, -100, -100, -100], [0, 0, 0, 0]]))


def _lm(preset):
    torch.manual_seed(0)
    return MotionLanguageModel(backbone=dict(preset=preset),
                               tokenizer=dict(type='word_level', extra_texts=['a person walks then jumps']),
                               codebook_size=8, template='motion of {text} :')


@pytest.mark.parametrize('preset', ['tiny-llama', 'tiny-t5'])
def test_lm_log_probs_count_only_response_tokens(preset):
    lm = _lm(preset)
    lm.eval()
    prompts = ['motion of a person walks :', 'motion of a person walks then jumps :']
    responses = [lm.motion_text([1, 2, 3]), lm.motion_text([4])]
    batch = lm.build_batch(prompts, responses)
    s, n = lm_sequence_log_probs(lm.lm, batch, lm.is_seq2seq)
    assert n.tolist() == [4, 2]  # response ids + </s>; prompt, <s> and padding are not counted
    with torch.no_grad():
        ce = lm.lm(**batch).loss  # the model's own token-mean cross-entropy over the same labels
    assert (-s.sum() / n.sum()).item() == pytest.approx(ce.item(), rel=1e-5)
    # each row alone (no padding, no other row) gives the same log-probability
    for i in range(2):
        alone = lm.build_batch(prompts[i:i + 1], responses[i:i + 1])
        s_i, n_i = lm_sequence_log_probs(lm.lm, alone, lm.is_seq2seq)
        assert n_i.item() == n[i].item() and s_i.item() == pytest.approx(s[i].item(), abs=1e-5)
    # a different prompt changes the conditional log-probability but not the token count
    other = lm.build_batch(['motion of jumps :'], responses[:1])
    s_o, n_o = lm_sequence_log_probs(lm.lm, other, lm.is_seq2seq)
    assert n_o.item() == 4 and s_o.item() != pytest.approx(s[0].item(), abs=1e-6)
