# Guo et al.'s official T2M evaluator (CVPR 2022) at its published size, for checkpoints converted by
# tools/model_converters/t2m_evaluator_official.py (docs/model_zoo.md). Test it on real HumanML3D
# motions (the "Real motion" row of the published tables):
#   python tools/test.py configs/t2m_evaluator/t2m-evaluator_official_humanml3d.py \
#       checkpoints/t2m-evaluator_official_humanml3d/t2m_evaluator.pth
_base_ = [
    '../_base_/datasets/humanml3d.py',
    '../_base_/default_runtime.py',
]

paper_scale = True
converted_dir = 'checkpoints/t2m-evaluator_official_humanml3d'

model = dict(
    type='T2MEvaluator',
    feature_dim=263,
    movement_hidden=512,
    movement_dim=512,
    motion_hidden=1024,
    text_hidden=512,
    embed_dim=512,
    word_dim=300,
    # GloVe vectors and the evaluator's own mean/std come from the converted checkpoint; the
    # vocabulary and the VIP word lists from the converter's output folder (read on first use)
    word_embedding='pretrained',
    word_vocab_path=converted_dir + '/glove_vocab.txt',
    vip_words=converted_dir + '/vip_words.json',
    # what the published evaluator saw: unknown words are unk/OTHER, padding leaks into the last
    # movement unit as in the original code
    oov_pos='other',
    mask_padding=False,
    data_preprocessor=dict(type='MotionDataPreprocessor'))  # raw features: the model normalises

# raw 263-D features: no NormalizeMotion (the evaluator uses its own statistics)
test_pipeline = [
    dict(type='LoadMotion'),
    dict(type='SampleCaption', test_mode=True),
    dict(type='CropMotion', max_length=196, unit_length=4, test_mode=True),
    dict(type='PackMotionInputs'),
]
train_dataloader = None
train_cfg = None
optim_wrapper = None
val_dataloader = None
val_cfg = None
val_evaluator = None
test_dataloader = dict(batch_size=32, dataset=dict(pipeline=test_pipeline))
test_evaluator = dict(type='T2MMetric', preset='guo2022')
