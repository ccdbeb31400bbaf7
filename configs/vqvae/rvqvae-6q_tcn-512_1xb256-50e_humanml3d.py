# MoMask's residual VQ-VAE (Guo et al., CVPR 2024; rvq_nq6_dc512_nc512_noshare_qdp0.2): the T2M-GPT
# convolutional encoder/decoder with 6 residual quantisers of 512 codes x 512 dims, quantiser
# dropout 0.2. For checkpoints converted by tools/model_converters/momask_rvq_official.py; the
# training recipe (50 epochs, lr 2e-4, batch 256 in the README command) is not re-run here.
_base_ = ['./vqvae_tcn-512_1xb256-300k_humanml3d.py']

model = dict(
    quantizer=dict(_delete_=True, type='ResidualQuantizer', num_quantizers=6, codebook_size=512,
                   code_dim=512, decay=0.99, reset_threshold=1.0, shared_codebook=False,
                   dropout_prob=0.2, dropout_cutoff=0))
