import pytest
import torch

from motionkit.models.tokenizers import PoseTokenizer


def _poses(n: int, seed: int = 0) -> torch.Tensor:
    """COCO-17-like poses: a fixed template, randomly rotated about Y, with joint noise and a
    random global offset."""
    g = torch.Generator().manual_seed(seed)
    template = torch.tensor([
        [0, 1.6, 0.1], [0.03, 1.65, 0.08], [-0.03, 1.65, 0.08], [0.07, 1.62, 0], [-0.07, 1.62, 0],
        [0.18, 1.4, 0], [-0.18, 1.4, 0], [0.25, 1.15, 0], [-0.25, 1.15, 0], [0.3, 0.9, 0],
        [-0.3, 0.9, 0], [0.1, 0.95, 0], [-0.1, 0.95, 0], [0.1, 0.5, 0.02], [-0.1, 0.5, 0.02],
        [0.1, 0.08, 0], [-0.1, 0.08, 0]])
    angle = torch.rand(n, generator=g) * 6.28
    c, s = torch.cos(angle), torch.sin(angle)
    rot = torch.zeros(n, 3, 3)
    rot[:, 0, 0], rot[:, 0, 2], rot[:, 1, 1], rot[:, 2, 0], rot[:, 2, 2] = c, s, 1, -s, c
    poses = template[None] @ rot.transpose(1, 2)
    poses = poses + 0.03 * torch.randn(n, 17, 3, generator=g)
    return poses + torch.randn(n, 1, 3, generator=g)


def test_root_relative_and_shapes():
    torch.manual_seed(0)
    tok = PoseTokenizer(num_tokens=6, codebook_size=16)
    poses = _poses(8)
    rel = tok.root_relative(poses)
    assert torch.allclose((rel[:, 11] + rel[:, 12]) / 2, torch.zeros(8, 3), atol=1e-6)
    tok.train()(poses, mode='loss')  # initialises the codebook
    tok.eval()
    ids = tok.encode(poses)
    assert ids.shape == (8, 6) and ids.dtype == torch.long
    assert int(ids.max()) < 16
    # translation does not change the tokens
    assert torch.equal(tok.encode(poses + torch.tensor([5.0, 0.0, -2.0])), ids)
    assert tok.decode(ids).shape == (8, 17, 3)


def test_short_fit_reconstructs_better_than_at_init(one_thread):
    torch.manual_seed(0)
    tok = PoseTokenizer(num_tokens=8, codebook_size=32, code_dim=16, hidden_dim=32,
                        quantizer=dict(decay=0.9))
    train, test = _poses(256, seed=1), _poses(64, seed=2)
    tok.train()(train[:64], mode='loss')  # codebook from the first batch
    tok.eval()
    target = tok.root_relative(test)
    init_err = float((tok.decode(tok.encode(test)) - target).norm(dim=-1).mean())
    optim = torch.optim.AdamW(tok.parameters(), lr=3e-3)
    tok.train()
    for step in range(150):
        batch = train[torch.randint(0, 256, (64, ))]
        losses = tok(batch, mode='loss')
        optim.zero_grad()
        (losses['loss_joint'] + losses['loss_commit']).backward()
        optim.step()
    tok.eval()
    fit_err = float((tok.decode(tok.encode(test)) - target).norm(dim=-1).mean())
    assert fit_err < 0.5 * init_err


def test_predict_over_motion_batches():
    torch.manual_seed(0)
    tok = PoseTokenizer(num_tokens=4, codebook_size=8)
    tok.train()(_poses(16), mode='loss')
    tok.eval()
    motion = _poses(10).view(2, 5, 17, 3)
    out = tok(dict(motion=motion, lengths=torch.tensor([5, 3])), mode='predict')
    assert out[0].pred_joints.shape == (5, 17, 3) and out[1].pred_joints.shape == (3, 17, 3)
    assert out[1].pred_pose_tokens.shape == (3, 4)
    assert torch.allclose(out[1].gt_joints, tok.root_relative(motion[1, :3]))
    assert tok(motion[0], mode='tensor').shape == (5, 17, 3)


def test_bad_inputs():
    tok = PoseTokenizer(num_tokens=4, codebook_size=8)
    tok.train()(_poses(16), mode='loss')
    tok.eval()
    with pytest.raises(ValueError, match=r'\(B, 17, 3\)'):
        tok.encode(torch.zeros(2, 16, 3))
    bad = _poses(3)
    bad[2, 4, 1] = float('nan')
    with pytest.raises(ValueError, match='first at pose 2'):
        tok.encode(bad)
    with pytest.raises(ValueError, match=r'in \[0, 8\)'):
        tok.decode(torch.tensor([[0, 1, 2, 8]]))
    with pytest.raises(ValueError, match=r'\(B, 4\)'):
        tok.decode(torch.tensor([[0, 1]]))
    with pytest.raises(ValueError, match='root_joints'):
        PoseTokenizer(root_joints=(11, 17))
    with pytest.raises(TypeError, match='inputs must be'):
        tok([1, 2], mode='loss')
