# CigTime baseline (Table 1): nearest-neighbour retrieval over per-step descriptors. A pair is cut
# into 4-frame steps as the feature-step LM (cigtime-pair-features_tiny_1xb32-1k_synthmotion.py)
# reads it; step k is [s_k, t_k, t_k - s_k], the step's mean normalised features (zeros for a
# motion that has ended), and pairs are compared over all 49 steps, so that when a change happens
# counts as well as what changes (nn-retrieval_1xb32_synthmotion.py pools over time).
# The k nearest training pairs vote on their normalised instruction text; the nearest voter for the
# winner answers. k=1 was chosen on the validation split: with SynthMotion's 112 edit operators,
# many with a handful of training triplets, more neighbours bring in other edits (k = 1, 3, 5: the
# right edit for 57.9, 56.4, 54.1% of the 133 validation triplets). A vote: --cfg-options model.k=5.
# Nothing is trained: python tools/test.py projects/cigtime/configs/nn-retrieval-steps-k1_1xb32_synthmotion.py none
# (test_evaluator: the CigTime evaluators, inherited through nn-retrieval_1xb32_synthmotion.py)
_base_ = ['./nn-retrieval_1xb32_synthmotion.py']

model = dict(descriptor='steps', unit_length=4, num_steps=49, k=1, vote_on='instruction')
