# T2M-GPT's VQ-VAE on KIT-ML: the HumanML3D recipe with KIT's 251-D features and data folder.
_base_ = ['./vqvae_tcn-512_1xb256-300k_humanml3d.py']

model = dict(feature_dim=251, representation='KITFeatures')
train_dataloader = dict(dataset=dict(type='KITDataset', data_root='data/kit'))
val_dataloader = dict(dataset=dict(type='KITDataset', data_root='data/kit'))
test_dataloader = dict(dataset=dict(type='KITDataset', data_root='data/kit'))
