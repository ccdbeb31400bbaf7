"""T2MGenerationMetric with a generator that sets its own length (metainfo ``pred_length``): the
generated motion is embedded with that length, the real one with ``length`` (MotionGPT's
``lengths_rst`` / ``lengths_ref``)."""
import numpy as np
import pytest
import torch
from mmengine.structures import BaseDataElement

from motionkit.evaluation.metrics import T2MGenerationMetric, T2MMetric
from motionkit.registry import MODELS

EVAL = dict(type='T2MEvaluator', feature_dim=263, movement_hidden=16, movement_dim=16,
            motion_hidden=16, text_hidden=16, embed_dim=8, word_dim=8, num_word_buckets=64)


def test_pred_length_embeds_generated_and_real_motions_with_their_own_lengths(tmp_path):
    torch.manual_seed(0)
    ev = MODELS.build(EVAL)
    ev.set_feature_stats(np.zeros(263, np.float32), np.ones(263, np.float32))
    ckpt = tmp_path / 'ev.pth'
    torch.save(dict(state_dict=ev.state_dict(), meta=dict()), ckpt)
    ev.eval()
    g = torch.Generator().manual_seed(0)
    n_real, n_pred, count = [24, 20, 16, 24, 12, 20], [8, 20, 12, 16, 4, 8], 6
    real = torch.randn(count, 24, 263, generator=g)
    samples = []
    for i in range(count):
        s = BaseDataElement(metainfo=dict(length=n_real[i], pred_length=n_pred[i], sent_len=3, sample_id=str(i)))
        s.gt_tokens = ['sos/OTHER', ('walk/VERB', 'jump/VERB')[i % 2], 'eos/OTHER']
        s.pred_motion = torch.randn(n_pred[i] + 3, 263, generator=g)  # longer than pred_length: cut
        samples.append(s)
    metric = T2MGenerationMetric(evaluator=EVAL, evaluator_checkpoint=str(ckpt), replications=2,
                                 batch_size=4, diversity_times=3, mm_num_texts=0)
    metric.dataset_meta = {}
    metric.process(dict(inputs=dict(motion=real)), samples)
    got = metric.compute_metrics(metric.results)
    ref = T2MMetric(replications=2, batch_size=4, diversity_times=3, mm_num_texts=0)
    with torch.no_grad():
        for i, s in enumerate(samples):
            ref.process(None, [dict(
                text_embedding=ev.encode_text([s.gt_tokens])[0],
                gt_motion_embedding=ev.encode_motion(real[i:i + 1, :n_real[i]], torch.tensor([n_real[i]]))[0],
                pred_motion_embedding=ev.encode_motion(s.pred_motion[None, :n_pred[i]], torch.tensor([n_pred[i]]))[0])])
    want = ref.compute_metrics(ref.results)
    for key in want:
        assert got[key] == pytest.approx(want[key], rel=1e-4, abs=1e-5), key
