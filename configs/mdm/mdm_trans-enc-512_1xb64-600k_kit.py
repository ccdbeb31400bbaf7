# MDM (Tevet et al., ICLR 2023) on KIT-ML at paper size: the HumanML3D recipe with KIT's 251-D
# features and data folder.
_base_ = ['./mdm_trans-enc-512_1xb64-600k_humanml3d.py']

model = dict(feature_dim=251, representation='KITFeatures')
train_dataloader = dict(dataset=dict(type='KITDataset', data_root='data/kit'))
test_dataloader = dict(dataset=dict(type='KITDataset', data_root='data/kit'))
test_evaluator = [dict(type='DumpPredictions', out_file_path='work_dirs/mdm_kit/predictions.pkl')]
