# The frozen video encoder of the tiny ExpertAF configs (the InternVideo2 stand-in): a 2-block ViT
# on 64 x 64 frames, random weights seeded by --seed, 8 frames per video; features cached by
#   python tools/data/extract_video_features.py VIDEOS --cache-dir FEATS \
#       --config projects/expertaf/configs/video-features_tiny-vit_synthmotion.py
# _base_/expertaf_tiny_synthmotion.py reads the cache with the same two dicts (the cache key hashes
# them; tests/test_projects/test_expertaf_pipeline.py checks that the two files agree).
encoder = dict(type='TimmVideoEncoder', backbone='vit_tiny_patch16_224', backbone_kwargs=dict(img_size=64, depth=2))
sampling = dict(num_frames=8, size=[64, 64], mode='center', mean=[0.5, 0.5, 0.5], std=[0.5, 0.5, 0.5])
