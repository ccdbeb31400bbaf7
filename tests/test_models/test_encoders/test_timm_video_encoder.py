"""TimmVideoEncoder: tiny timm backbones built from config, pooling over time, local checkpoints."""
import pytest
import torch

from motionkit.models.encoders import TimmVideoEncoder
from motionkit.registry import MODELS

TINY = dict(type='TimmVideoEncoder', backbone='vit_tiny_patch16_224',
            backbone_kwargs=dict(img_size=32, patch_size=8, depth=1, embed_dim=48, num_heads=2))


def test_frames_encoded_as_images_and_mean_pooled():
    torch.manual_seed(0)
    enc = MODELS.build(TINY).eval()
    frames = torch.randn(2, 3, 3, 32, 32)
    with torch.no_grad():
        per_image = enc.backbone(frames.flatten(0, 1)).view(2, 3, -1)
        pooled = enc(frames)
    assert enc.out_dim == 48 and pooled.shape == (2, 48)
    torch.testing.assert_close(pooled, per_image.mean(1))
    # masked mean: clip 0 uses only its first frame, clip 1 its last two
    mask = torch.tensor([[True, False, False], [False, True, True]])
    with torch.no_grad():
        masked = enc(frames, mask)
    torch.testing.assert_close(masked[0], per_image[0, 0])
    torch.testing.assert_close(masked[1], per_image[1, 1:].mean(0))
    # per-frame features, and chunked backbone calls give the same numbers
    keep = MODELS.build(dict(TINY, pool='none', frame_chunk=2))
    keep.load_state_dict(enc.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(keep.eval()(frames), per_image)


def test_resnet_backbone_and_errors():
    enc = TimmVideoEncoder('resnet10t')
    assert enc.out_dim == 512 and enc.data_config['mean'] == (0.485, 0.456, 0.406)
    with pytest.raises(ValueError, match=r"timm has no model 'resnet10x'"):
        TimmVideoEncoder('resnet10x')
    with pytest.raises(ValueError, match=r'\(B, T, 3, H, W\) tensor, got \(2, 3, 32, 32\)'):
        enc(torch.zeros(2, 3, 32, 32))
    with pytest.raises(ValueError, match='must be float'):
        enc(torch.zeros(1, 2, 3, 32, 32, dtype=torch.uint8))
    with pytest.raises(ValueError, match='no real frame'):
        enc(torch.zeros(1, 2, 3, 32, 32), torch.zeros(1, 2, dtype=torch.bool))


def test_local_checkpoint_and_freeze(tmp_path):
    torch.manual_seed(1)
    src = MODELS.build(TINY)
    state = dict(src.backbone.state_dict())
    state['head.weight'] = torch.zeros(10, 48)      # a classifier head is dropped on load
    torch.save({'state_dict': state}, tmp_path / 'vit.pth')
    enc = MODELS.build(dict(TINY, checkpoint=str(tmp_path / 'vit.pth'), freeze=True))
    frames = torch.randn(1, 2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(enc(frames), src.eval()(frames))
    enc.train()
    assert not enc.backbone.training and not any(p.requires_grad for p in enc.parameters())
    from motionkit.utils.io import file_sha256
    sha = file_sha256(tmp_path / 'vit.pth')
    assert MODELS.build(dict(TINY, checkpoint=str(tmp_path / 'vit.pth'), checkpoint_sha256=sha))
    with pytest.raises(Exception, match='sha256'):
        MODELS.build(dict(TINY, checkpoint=str(tmp_path / 'vit.pth'), checkpoint_sha256='0' * 64))
    torch.save({'state_dict': {'blocks.0.norm1.weight': torch.ones(48)}}, tmp_path / 'bad.pth')
    with pytest.raises(ValueError, match=r'bad.pth does not fit vit_tiny_patch16_224: missing keys'):
        MODELS.build(dict(TINY, checkpoint=str(tmp_path / 'bad.pth')))
