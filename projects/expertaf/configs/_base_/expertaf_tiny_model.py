# Tiny CPU preset of ExpertAF's multimodal LLM head (ExpertFeedbackModel, sec. 3.3) on the toy
# learner/expert pairs: a 2-layer Llama built from config, video features of width 32 (a tiny
# timm encoder's, see docs/video.md), and the tiny PCT PoseTokenizer preset
# (configs/pose_tokenizer/pose-tokenizer_tiny_1xb256-2k_synthmotion.py: 16 tokens, 256 codes).
# the toy dataset lives in projects/expertaf/expertaf: leaves set custom_imports=dict(imports=['expertaf'])

commentaries = [
    'raise your elbow higher before you pull', 'keep your knees bent when you land',
    'turn your hips toward the basket', 'hold the racket with a looser grip',
    'step forward with your left foot first', 'keep your back straight as you lift',
]
pct = dict(type='PoseTokenizer', num_joints=17, root_joints=(11, 12), num_tokens=16, codebook_size=256,
           code_dim=32, hidden_dim=64, num_blocks=2, token_hidden=64, channel_hidden=128)
model = dict(
    type='ExpertFeedbackModel',
    backbone=dict(preset='tiny-llama'),
    tokenizer=dict(type='word_level', extra_texts=commentaries),
    pose_tokenizer=pct,
    # the PoseTokenizer stage's checkpoint (random codebook with a warning when None)
    pose_tokenizer_checkpoint=None,
    video_dim=32,
    num_pose_frames=2,  # ExpertAF: 10
    video_projector='mlp2x_gelu',
    pose_projector='mlp2x_gelu',
    pose_input='tokens',
    use_video=True,
    train_tasks=('commentary', 'pose_generation'),  # every pair trains both (mixed in one batch)
    pose_loss_weight=1.0,
    finetune='full',
    max_length=512,
    max_new_tokens=16,
    pose_decoding='free',
    condition_on='generated',
    predict_tasks=('commentary', 'retrieval', 'pose_generation'),
    retrieval_chunk=32)

toy = dict(type='ToyFeedbackPairs', commentaries=commentaries, video_len=4, video_dim=32, num_frames=2,
           num_tokens=16, codebook_size=256)
train_dataloader = dict(
    batch_size=8, num_workers=0, sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'), dataset=dict(toy, num_items=48, split='train'))
test_dataloader = dict(
    batch_size=8, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'), dataset=dict(toy, num_items=24, split='test'))
val_dataloader = test_dataloader
# ExpertAF table 1: commentary (BLEU-4, METEOR, ROUGE-L), retrieval (R@50, MedR over a pool the
# size of the test set), pose (PA-MPJPE, mm)
test_evaluator = [
    dict(type='CaptionMetric', preset='expertaf', meteor=None, cider=None),  # METEOR needs WordNet (docs)
    dict(type='CandidateRetrievalMetric', preset='expertaf'),
    dict(type='GeneratedPoseMetric'),
]
val_evaluator = test_evaluator
custom_hooks = [dict(type='ExpertAFPoolHook')]  # retrieval candidates = the evaluated split
