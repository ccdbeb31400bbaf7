# The contrastive evaluator behind the CLIP-score of the absolute-coordinate T2M metrics, tiny, on
# SynthMotion, CPU. CoAMD's reference scores the CLIP-score with a second evaluator trained
# contrastively (MotionCLIP: a transformer motion encoder and a text transformer over CLIP token
# embeddings, unit-norm embeddings, InfoNCE); here the same motion / text towers as the matching
# evaluator (t2m-evaluator-abs_tiny_1xb32-2k_synthmotion.py) trained with symmetric InfoNCE on
# cosine similarities, so the CLIP-score is a cosine of a contrastive model's embeddings and is
# independent of both the matching evaluator and the MAR that guides generation.
#   python tools/train.py projects/coamd/configs/t2m-evaluator-abs-clip_tiny_1xb32-2k_synthmotion.py
_base_ = ['./t2m-evaluator-abs_tiny_1xb32-2k_synthmotion.py']

model = dict(loss='infonce', temperature=0.07)  # MotionCLIP's initial logit scale, 1 / 0.07
default_hooks = dict(checkpoint=dict(save_best='retrieval/batch32/t2m/R01', rule='greater'))
