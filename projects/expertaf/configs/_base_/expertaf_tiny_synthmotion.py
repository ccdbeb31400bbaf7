# Tiny CPU preset of ExpertAF (ExpertFeedbackModel, sec. 3.3) on SynthMotion's learner/expert pairs:
# the ExpertAF pair builder's output (ExpertAFPairDataset, tools/data/build_expertaf_pairs.py
# --synthmotion), each side's video as cached features of the frozen tiny timm ViT
# (tools/data/extract_video_features.py --preset tiny --num-frames 8 --size 64: 8 x 192), and
# F poses of each 40-frame window, encoded into PCT codes by the model's frozen PoseTokenizer (the
# tiny preset, configs/pose_tokenizer/pose-tokenizer_tiny_1xb256-2k_synthmotion.py: 16 tokens,
# 256 codes). The data folders, the feature cache and the PoseTokenizer checkpoint come from the
# pipeline (projects/expertaf/pipeline_synthmotion.py) on the command line:
#   --cfg-options train_dataloader.dataset.data_root=PAIRS test_dataloader.dataset.data_root=PAIRS \
#       train_dataloader.dataset.pipeline.0.cache_dir=FEATS test_dataloader.dataset.pipeline.0.cache_dir=FEATS \
#       model.tokenizer.corpus=[PAIRS/executions.jsonl] model.pose_tokenizer_checkpoint=PCT.pth
num_pose_frames = 4  # ExpertAF: 10 (4 keeps a pose stream at 4 x 17 + 1 = 69 tokens on a CPU)
pct = dict(type='PoseTokenizer', num_joints=17, root_joints=(11, 12), num_tokens=16, codebook_size=256,
           code_dim=32, hidden_dim=64, num_blocks=2, token_hidden=64, channel_hidden=128,
           quantizer=dict(decay=0.99, reset_threshold=1.0), commit_weight=0.25)
model = dict(
    type='ExpertFeedbackModel',
    backbone=dict(preset='tiny-llama'),
    # the words of the training split's comments (the builder's executions.jsonl: every comment,
    # with its split); nothing of the test split enters the vocabulary
    tokenizer=dict(type='word_level', corpus=[], fields=('commentary', ), splits=('train', )),
    pose_tokenizer=pct,
    pose_tokenizer_checkpoint=None,  # the PoseTokenizer stage's checkpoint
    video_dim=192,
    num_pose_frames=num_pose_frames,
    video_projector='mlp2x_gelu',
    pose_projector='mlp2x_gelu',
    pose_input='tokens',
    use_video=True,
    train_tasks=('commentary', 'pose_generation'),  # every pair trains both (mixed in one batch)
    pose_loss_weight=1.0,
    finetune='full',
    max_length=512,
    max_new_tokens=24,
    pose_decoding='free',
    condition_on='generated',
    predict_tasks=('commentary', 'retrieval', 'pose_generation'),
    retrieval_chunk=64)

# the frozen encoder the features were extracted with (the cache key hashes these dicts and seed)
video_encoder = dict(type='TimmVideoEncoder', backbone='vit_tiny_patch16_224',
                     backbone_kwargs=dict(img_size=64, depth=2))
video_sampling = dict(num_frames=8, size=[64, 64], mode='center', mean=[0.5, 0.5, 0.5], std=[0.5, 0.5, 0.5])
data_pipeline = [
    dict(type='LoadCachedVideoFeatures', cache_dir='work_dirs/expertaf_video_feats', encoder=video_encoder,
         sampling=video_sampling, seed=0, views=('learner', 'expert')),
    dict(type='PackExpertAFInputs', num_pose_frames=num_pose_frames),
]
pairs = dict(type='ExpertAFPairDataset', data_root='work_dirs/expertaf_pairs', pipeline=data_pipeline)
train_dataloader = dict(
    batch_size=8, num_workers=0, sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'), dataset=dict(pairs, split='train'))
test_dataloader = dict(
    batch_size=8, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'), dataset=dict(pairs, split='test'))
val_dataloader = None  # (the leaves set val_cfg = None: the schedule bases define it)
val_evaluator = None
# ExpertAF table 1: commentary (BLEU-4, METEOR, ROUGE-L; METEOR needs WordNet under NLTK_DATA:
# tools/misc/prepare_wordnet.py), retrieval (R@50, MedR over a pool the size of the test set), pose
# (PA-MPJPE in mm of the generated pose to the expert's); the last metric scores the learner's own
# pose against the expert's (the "no correction" reference row)
test_evaluator = [
    dict(type='CaptionMetric', preset='expertaf', cider=None),
    # R@50 and MedR (the expertaf preset) plus R@1 / R@5: a SynthMotion test pool is smaller than 50
    dict(type='CandidateRetrievalMetric', preset='expertaf', ks=(1, 5, 50)),
    dict(type='GeneratedPoseMetric'),
    dict(type='GeneratedPoseMetric', pred_key='learner_joints', stream_key='__none__', prefix='learner_pose'),
]
custom_hooks = [dict(type='ExpertAFPoolHook')]  # retrieval candidates = the test split's experts
