# MotionGPT stage 1 (motion tokenizer) for the AToM tiny CPU preset: the tiny T2M-GPT VQ-VAE of
# configs/vqvae (64 codes, 4 frames per code) trained on the SynthMotion build that the later
# stages read, $ATOM_WORK_DIR/synthmotion (make it first:
#   python tools/data/make_synthmotion.py --out $ATOM_WORK_DIR/synthmotion --num 1000).
#   python tools/train.py projects/atom/configs/motiongpt-s1-vqvae_tiny_1xb32-2k_synthmotion.py \
#       --work-dir $ATOM_WORK_DIR/vqvae
_base_ = ['../../../configs/vqvae/vqvae_tiny_1xb32-2k_synthmotion.py']

synthmotion_root = '{{$ATOM_WORK_DIR:work_dirs/atom_tiny}}/synthmotion'
train_dataloader = dict(dataset=dict(data_root=synthmotion_root))
val_dataloader = dict(dataset=dict(data_root=synthmotion_root))
test_dataloader = dict(dataset=dict(data_root=synthmotion_root))
