"""MotionPreferenceModel(init_checkpoint=...): AToM starts from the trained text-to-motion LM. The
stage-2 MotionTextLM's weights and word-level vocabulary are loaded before the LoRA adapter, so
the reference (adapter off) and the policy at the start score responses exactly as that LM does."""
import pytest
import torch

from motionkit.models.llm_heads import MotionPreferenceModel, MotionTextLM
from motionkit.models.llm_heads.sequence_log_probs import lm_sequence_log_probs

K = 16
VQ = dict(type='MotionVQVAE', feature_dim=263, width=16, code_dim=8, depth=1, vel_weight=0.0,
          quantizer=dict(type='EMAQuantizer', codebook_size=K, code_dim=8))


def _stage2(tmp_path):
    torch.manual_seed(0)
    m = MotionTextLM(tokenizer=VQ, llm=dict(backbone=dict(preset='tiny-t5'),
                                            tokenizer=dict(type='word_level',
                                                           extra_texts=['a person walks forward then jumps']),
                                            codebook_size=K, max_length=48),
                     max_motion_tokens=8)
    with torch.no_grad():  # weights no fresh model has: loading must carry them over
        for p in m.llm.parameters():
            p.add_(0.05 * torch.randn_like(p))
    path = tmp_path / 'stage2.pth'
    torch.save(dict(state_dict=m.state_dict(), meta=dict()), path)
    return m, path


def _policy_cfg(extra_texts=('a person',)):
    # the stage-2 t2m prompt is the caption itself ('{caption}'); a smaller corpus than stage 2's:
    # the vocabulary must come from the checkpoint
    return dict(backbone=dict(preset='tiny-t5'), tokenizer=dict(type='word_level', extra_texts=list(extra_texts)),
                motion_token_strategy='extended', motion_markers=True, codebook_size=K, template='{text}',
                max_length=48)


def test_policy_starts_at_the_stage2_lm(tmp_path):
    stage2, path = _stage2(tmp_path)
    torch.manual_seed(1)
    pref = MotionPreferenceModel(llm=_policy_cfg(), init_checkpoint=str(path))
    assert pref.llm._vocab == stage2.llm._vocab  # adopted, not the config's 'a person' corpus
    prompts = ['a person walks forward then jumps'] * 2
    codes = [[1, 2, 3], [4, 4]]
    responses = [stage2.llm.motion_text(c) for c in codes]
    stage2.llm.lm.eval()
    batch = stage2.llm.build_batch(prompts, responses)
    want, n = lm_sequence_log_probs(stage2.llm.lm, batch, True)
    assert pref.llm.build_batch(prompts, responses)['input_ids'].tolist() == batch['input_ids'].tolist()
    ref, _ = pref._reference([pref._prompt(p) for p in prompts], responses)
    torch.testing.assert_close(ref, want)
    pref.eval()
    got, _ = pref._policy([pref._prompt(p) for p in prompts], responses)
    torch.testing.assert_close(got, want)  # LoRA's B = 0: the policy starts at the reference
    # only the adapter and the motion embeddings (modules_to_save) train
    trainable = {k for k, p in pref.named_parameters() if p.requires_grad}
    assert trainable and all('lora_' in k or 'modules_to_save' in k for k in trainable)
    # IPO loss at the start: h = 0 -> (1 / (2 beta))^2 = 25
    pref.train()
    out = pref({'prompts': prompts[:1], 'chosen': codes[:1], 'rejected': codes[1:]}, mode='loss')
    assert out['loss_ipo'].item() == pytest.approx(25.0, abs=1e-3)


def test_full_finetune_reference_is_the_loaded_copy(tmp_path):
    stage2, path = _stage2(tmp_path)
    pref = MotionPreferenceModel(llm=dict(_policy_cfg(), finetune='full'), loss_type='dpo',
                                 init_checkpoint=str(path))
    ref_w = pref.reference_lm.get_input_embeddings().weight
    torch.testing.assert_close(ref_w, stage2.llm.lm.get_input_embeddings().weight)


def test_init_checkpoint_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='nowhere.pth'):
        MotionPreferenceModel(llm=_policy_cfg(), init_checkpoint=str(tmp_path / 'nowhere.pth'))
    _, path = _stage2(tmp_path)
    with pytest.raises(KeyError, match="no weights under 'policy.'"):
        MotionPreferenceModel(llm=_policy_cfg(), init_checkpoint=str(path), init_prefix='policy.')
    # a different codebook: the motion embeddings do not fit
    cfg = dict(_policy_cfg(), codebook_size=8)
    with pytest.raises(RuntimeError, match='stage2.pth'):
        MotionPreferenceModel(llm=cfg, init_checkpoint=str(path))
