# ExpertAF's video-feature nearest-neighbour baseline (InternVideo2-NN analogue): the frozen
# encoder's cached features, mean-pooled; the training pair closest in cosine gives the commentary
# and the expert pose (decoded by the PoseTokenizer); retrieval scores the test candidates by the
# cosine of the learner's and the candidate expert's video features. Nothing trains:
#   python tools/test.py projects/expertaf/configs/video-nn_tiny_toy.py none
custom_imports = dict(imports=['expertaf'], allow_failed_imports=False)
_base_ = ['./_base_/expertaf_tiny_model.py', '../../../configs/_base_/default_runtime.py']

model = dict(
    _delete_=True,
    type='VideoNNFeedbackBaseline',
    pose_tokenizer=dict(type='PoseTokenizer', num_joints=17, root_joints=(11, 12), num_tokens=16,
                        codebook_size=256, code_dim=32, hidden_dim=64, num_blocks=2, token_hidden=64,
                        channel_hidden=128),
    pose_tokenizer_checkpoint=None)
train_dataloader = None
val_dataloader = None
val_evaluator = None
test_cfg = dict(type='TestLoop')
# the neighbour pool: the training split (same toy settings as the base's train_dataloader)
custom_hooks = [dict(type='ExpertAFPoolHook', train_pool=dict(
    type='ToyFeedbackPairs', num_items=48, split='train', video_len=4, video_dim=32, num_frames=2,
    num_tokens=16, codebook_size=256, commentaries=[
        'raise your elbow higher before you pull', 'keep your knees bent when you land',
        'turn your hips toward the basket', 'hold the racket with a looser grip',
        'step forward with your left foot first', 'keep your back straight as you lift']))]
