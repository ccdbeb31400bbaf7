"""ExpertFeedbackModel (ExpertAF sec. 3.3): pose streams, placeholders, losses, retrieval, pose
decoding, param groups, meta-device build."""
import pytest
import torch
from mmengine.structures import BaseDataElement

from motionkit.models.llm_heads import ExpertFeedbackModel, parse_pose_stream, pose_stream_ids
from motionkit.models.llm_heads.pose_token_stream import STREAM_COUNTERS

F_, M_, K_ = 2, 4, 16  # frames, tokens per pose, codebook
TINY_LM = dict(preset='tiny-llama', hidden_size=64, intermediate_size=128, num_hidden_layers=2,
               num_attention_heads=2, num_key_value_heads=2)
TINY_PCT = dict(type='PoseTokenizer', num_tokens=M_, codebook_size=K_, code_dim=8, hidden_dim=16,
                token_hidden=16, channel_hidden=16)


def _model(**kw):
    torch.manual_seed(0)
    args = dict(backbone=TINY_LM, pose_tokenizer=TINY_PCT, video_dim=12, num_pose_frames=F_,
                tokenizer=dict(type='word_level', extra_texts=['raise your arms higher', 'bend your knees more',
                                                               'a b c']),
                max_new_tokens=6)
    args.update(kw)
    m = ExpertFeedbackModel(**args)
    m.pose_tokenizer.quantizer.codebook.normal_()  # a trained codebook: distinct code vectors
    m.pose_mapper.load_codebook(m.pose_tokenizer.quantizer.codebook)
    return m


def _inputs(b=2, t=3, seed=1):
    g = torch.Generator().manual_seed(seed)
    return dict(learner_video=torch.randn(b, t, 12, generator=g),
                learner_pose=torch.randint(0, K_, (b, F_, M_), generator=g),
                expert_video=torch.randn(b, t, 12, generator=g),
                expert_pose=torch.randint(0, K_, (b, F_, M_), generator=g))


# ---------------------------------------------------------------- pose token streams
def test_pose_stream_layout_and_round_trip():
    codes = torch.tensor([[[3, 0], [1, 2]]])  # (1, F=2, M=2)
    ids = pose_stream_ids(codes, base=100, codebook_size=5)
    # frame: codes + frame end (105); then sequence end (106)
    assert ids.tolist() == [[103, 100, 105, 101, 102, 105, 106]]
    back, counts = parse_pose_stream(ids[0].tolist(), 100, 5, num_frames=2, num_tokens=2)
    assert back.tolist() == codes[0].tolist()
    assert counts['well_formed'] == 1 and not any(counts[k] for k in STREAM_COUNTERS)
    with pytest.raises(ValueError, match=r'in \[0, 5\)'):
        pose_stream_ids(torch.tensor([[[5, 0]]]), 100, 5)


def test_parse_repairs_ill_formed_streams_and_counts_them():
    base, k, fe, se = 100, 5, 105, 106
    # text token 7 inside; frame 1 too long (3 codes); frame 2 too short; no seq end
    codes, c = parse_pose_stream([101, 7, 102, 103, fe, 104, fe], base, k, num_frames=2, num_tokens=2)
    assert codes.tolist() == [[1, 2], [1, 2]]  # truncated first frame, repeated as padding
    assert (c['stray_tokens'], c['frames_truncated'], c['frames_dropped'], c['frames_padded'],
            c['unterminated'], c['well_formed']) == (1, 1, 1, 1, 1, 0)
    # trailing codes after the last frame end form a frame; extra frames dropped; eos stops
    codes, c = parse_pose_stream([101, 101, fe, 102, 102, fe, 103, 103, 2, 104], base, k, 2, 2, stop_ids=(2, ))
    assert codes.tolist() == [[1, 1], [2, 2]] and c['extra_frames'] == 1 and c['unterminated'] == 0
    # nothing usable: fallback
    codes, c = parse_pose_stream([7, 8, se], base, k, 2, 2)
    assert codes is None and c['fallback'] == 1 and c['stray_tokens'] == 2


# ---------------------------------------------------------------- prompts and placeholders
def test_placeholders_replaced_at_hand_checked_positions():
    m = _model(templates=dict(commentary='a <learner_video> b <learner_pose> c <expert_video> <expert_pose>'),
               chat_format='plain')
    inp = _inputs(b=1, t=3)
    sample = {k: v[0] for k, v in inp.items()}
    ids, fills = m.prompt_row('commentary', sample, None)
    tok = m.tokenizer
    word = tok.convert_tokens_to_ids
    # <s> user : a [3 video] b [F*M=8 pose] c [3 video] [8 pose] assistant :
    expect = ([tok.bos_token_id, word('user'), word(':'), word('a')] + [-1] * 3 + [word('b')] + [-2] * 8 +
              [word('c')] + [-3] * 3 + [-4] * 8 + [word('assistant'), word(':')])
    assert ids == expect
    assert [f[0] for f in fills] == ['video', 'pose', 'video', 'pose']
    emb = m._embed(torch.tensor([ids]), [fills])[0]
    lv = m.video_mapper(sample['learner_video'])
    lp = m.pose_mapper(sample['learner_pose']).flatten(0, 1)
    ev = m.video_mapper(sample['expert_video'])
    ep = m.pose_mapper(sample['expert_pose']).flatten(0, 1)
    torch.testing.assert_close(emb[4:7], lv)
    torch.testing.assert_close(emb[8:16], lp)
    torch.testing.assert_close(emb[17:20], ev)
    torch.testing.assert_close(emb[20:28], ep)
    text_pos = [0, 1, 2, 3, 7, 16, 28, 29]
    torch.testing.assert_close(emb[text_pos], m.lm.get_input_embeddings()(torch.tensor(ids)[text_pos]))


def test_ablations_change_the_prompt():
    sample = {k: v[0] for k, v in _inputs(b=1).items()}
    n_full = len(_model().prompt_row('commentary', sample, None)[0])
    no_video = _model(use_video=False).prompt_row('commentary', sample, None)
    assert len(no_video[0]) == n_full - 3 and [f[0] for f in no_video[1]] == ['pose']
    no_pose = _model(pose_input=None).prompt_row('commentary', sample, None)
    assert len(no_pose[0]) == n_full - F_ * M_ and [f[0] for f in no_pose[1]] == ['video']
    glob = _model(pose_input='global').prompt_row('commentary', sample, None)
    assert len(glob[0]) == n_full - F_ * M_ + 1 and [f[0] for f in glob[1]] == ['video', 'global_pose']
    m = _model(pose_input='text')
    ids, fills = m.prompt_row('commentary', sample, None)
    stream = pose_stream_ids(sample['learner_pose'], m.base_vocab, K_).tolist()
    assert len(ids) == n_full - F_ * M_ + len(stream) and [f[0] for f in fills] == ['video']
    start = ids.index(stream[0])
    assert ids[start:start + len(stream)] == stream  # pose as <pose_k> tokens (LLaVA-FT w/ pose)


def test_missing_input_and_bad_shapes_are_named():
    m = _model()
    with pytest.raises(KeyError, match='learner_pose'):
        m.prompt_row('commentary', dict(learner_video=torch.randn(3, 12)), None)
    with pytest.raises(ValueError, match=r'learner_pose must be \(2, 4\)'):
        m.prompt_row('commentary', dict(learner_video=torch.randn(3, 12), learner_pose=torch.zeros(2, 5).long()),
                     None)
    with pytest.raises(ValueError, match=r'learner_video must be \(T, 12\)'):
        m.prompt_row('commentary', dict(learner_video=torch.randn(3, 11), learner_pose=torch.zeros(2, 4).long()),
                     None)


# ---------------------------------------------------------------- loss
def test_task_mixed_response_only_loss():
    m = _model()
    inp = _inputs()
    ds = [dict(gt_text='raise your arms higher'), dict(gt_text='bend your knees more', task='commentary')]
    batch = m.build_train_batch(inp, ds)
    # sample 0 -> both tasks, sample 1 -> commentary only
    assert batch['tasks'] == ['commentary', 'pose_generation', 'commentary']
    n_scored = (batch['labels'] != -100).sum(1).tolist()
    assert n_scored == [4 + 1, F_ * (M_ + 1) + 1 + 1, 4 + 1]  # words + eos; stream + eos
    # the pose row's labels are exactly the expert's stream, then eos
    lab = batch['labels'][1][batch['labels'][1] != -100].tolist()
    assert lab == pose_stream_ids(inp['expert_pose'][0], m.base_vocab, K_).tolist() + [m.tokenizer.eos_token_id]
    losses = m.loss(inp, ds)
    assert set(losses) == {'loss_commentary', 'loss_pose'}
    # hand cross-check of loss_pose: CE over the pose row's response tokens of the full logits
    logits = m(inp, ds, mode='tensor')
    row = batch['labels'][1]
    sel = row[1:] != -100
    ref = torch.nn.functional.cross_entropy(logits[1, :-1][sel], row[1:][sel])
    torch.testing.assert_close(losses['loss_pose'], ref)
    (losses['loss_commentary'] + losses['loss_pose']).backward()
    assert m.pose_token_head.weight.grad.abs().sum() > 0 and m.video_mapper.proj[0].weight.grad.abs().sum() > 0
    assert m.pose_tokenizer.joint_head.weight.grad is None  # the PCT tokenizer stays frozen


def test_new_pose_rows_start_at_the_embedding_mean():
    m = _model()
    mean = m.lm.get_input_embeddings().weight.mean(0)
    torch.testing.assert_close(m.pose_token_embed.weight, mean.expand_as(m.pose_token_embed.weight))


# ---------------------------------------------------------------- retrieval and generation
def test_vectorised_retrieval_scores_equal_a_plain_forward():
    m = _model(retrieval_chunk=3)
    with torch.no_grad():
        m.pose_token_embed.weight.normal_()
        m.pose_token_head.weight.normal_()
    inp = _inputs(b=1)
    sample = {k: v[0] for k, v in inp.items()}
    cands = torch.randint(0, K_, (5, F_, M_), generator=torch.Generator().manual_seed(3))
    scores = m.retrieval_scores(sample, 'raise your arms higher', cands)
    p, fills = m.prompt_row('pose_generation', sample, 'raise your arms higher')
    for c in range(5):
        stream = pose_stream_ids(cands[c], m.base_vocab, K_).tolist()
        ids = torch.tensor([p + stream])
        logits = m._logits(m._run(m._embed(ids, [fills]))[0])[0]
        logp = torch.log_softmax(logits[len(p) - 1:-1], -1).gather(-1, torch.tensor(stream)[:, None])[:, 0]
        is_code = torch.tensor(stream) < m.frame_end_id
        torch.testing.assert_close(scores[c], (logp * is_code).sum(), rtol=1e-4, atol=1e-4)


def test_retrieval_ranks_the_planted_candidate_first_after_training():
    m = _model(train_tasks=('pose_generation', ), condition_on='gt', predict_tasks=('retrieval', ))
    n = 4
    inp = _inputs(b=n, seed=5)
    texts = ['raise your arms higher', 'bend your knees more', 'raise your knees', 'bend your arms']
    ds = [dict(gt_text=t, sample_id=str(i)) for i, t in enumerate(texts)]
    opt = torch.optim.Adam([p for p in m.parameters() if p.requires_grad], lr=1e-2)
    m.train()
    for _ in range(60):
        opt.zero_grad()
        m.loss(inp, ds)['loss_pose'].backward()
        opt.step()
    m.eval()
    m.set_retrieval_pool(inp['expert_pose'], [str(i) for i in range(n)])
    out = m.predict(inp, [BaseDataElement(**d) for d in ds])
    for i, o in enumerate(out):
        assert o.gt_candidate_index == i
        assert int(o.pred_retrieval_scores.argmax()) == i, (i, o.pred_retrieval_scores)


def test_pose_generation_decodes_to_coco17_poses():
    m = _model(predict_tasks=('pose_generation', ), condition_on='gt', pose_decoding='constrained')
    inp = _inputs(b=2)
    ds = [BaseDataElement(gt_text='raise your arms higher'), BaseDataElement(gt_text='bend your knees more')]
    out = m.predict(inp, ds)
    for i, o in enumerate(out):
        assert o.pred_expert_pose.shape == (F_, M_) and o.pred_expert_joints.shape == (F_, 17, 3)
        assert o.gt_expert_joints.shape == (F_, 17, 3)
        assert o.pred_pose_stream['well_formed'] == 1  # the grammar is enforced
        torch.testing.assert_close(o.pred_expert_joints, m.pose_tokenizer.decode(o.pred_expert_pose))
    # free decoding of an untrained model: ill-formed, counted, and the learner's pose as fallback
    m.pose_decoding = 'free'
    out = m.predict(inp, [BaseDataElement(gt_text='a b c'), BaseDataElement(gt_text='a b c')])
    for i, o in enumerate(out):
        if o.pred_pose_stream['fallback']:
            assert torch.equal(o.pred_expert_pose, inp['learner_pose'][i])
        assert o.pred_expert_joints.shape == (F_, 17, 3)


def test_commentary_generation_learns_a_response():
    m = _model(train_tasks=('commentary', ), predict_tasks=('commentary', ))
    inp = _inputs(b=2, seed=7)
    texts = ['raise your arms higher', 'bend your knees more']
    ds = [dict(gt_text=t) for t in texts]
    opt = torch.optim.Adam([p for p in m.parameters() if p.requires_grad], lr=3e-3)
    for _ in range(40):
        opt.zero_grad()
        m.loss(inp, ds)['loss_commentary'].backward()
        opt.step()
    out = m.predict(inp, [BaseDataElement(**d) for d in ds])
    assert [o.pred_text for o in out] == texts


# ---------------------------------------------------------------- param groups, meta build
def test_pose_generation_params_get_their_own_learning_rate():
    from mmengine.optim import build_optim_wrapper
    m = _model()
    cfg = dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=2e-4, weight_decay=0.0),
               paramwise_cfg=dict(bypass_duplicate=True, custom_keys={'pose_token_embed': dict(lr_mult=0.1),
                                               'pose_token_head': dict(lr_mult=0.1)}))
    wrapper = build_optim_wrapper(m, cfg)
    lr_of = {}
    for group in wrapper.optimizer.param_groups:
        for p in group['params']:
            lr_of[id(p)] = group['lr']
    assert lr_of[id(m.pose_token_embed.weight)] == pytest.approx(2e-5)
    assert lr_of[id(m.pose_token_head.weight)] == pytest.approx(2e-5)
    assert lr_of[id(m.video_mapper.proj[0].weight)] == pytest.approx(2e-4)
    assert lr_of[id(m.lm.get_input_embeddings().weight)] == pytest.approx(2e-4)
    assert id(m.pose_tokenizer.joint_head.weight) not in lr_of  # frozen: not optimised


def test_meta_device_build_counts_llama3_8b_parameters():
    m = ExpertFeedbackModel(backbone=dict(preset='llama3-8b'), tokenizer=None, init_device='meta',
                            pose_tokenizer=dict(type='PoseTokenizer', num_tokens=34, codebook_size=2048,
                                                code_dim=512, hidden_dim=512, num_blocks=4),
                            video_dim=768, num_pose_frames=10)
    assert m.lm.get_input_embeddings().weight.is_meta and m.pose_token_embed.weight.is_meta
    lm = sum(p.numel() for p in m.lm.parameters())
    assert lm == 8_030_261_248  # Meta-Llama-3-8B
    h = 4096
    assert m.pose_token_embed.weight.numel() == m.pose_token_head.weight.numel() == 2050 * h
    video = 768 * h + h + h * h + h  # mlp2x_gelu
    pose = 2048 * 512 + (512 * h + h + h * h + h)  # frozen codebook + mlp2x_gelu
    assert sum(p.numel() for p in m.video_mapper.parameters()) == video
    assert sum(p.numel() for p in m.pose_mapper.parameters()) == pose
    assert m.base_vocab == 128256 and m.frame_end_id == 128256 + 2048 and m.pose_stream_length == 351
