"""Nearest-neighbour retrieval baseline of CigTime: descriptors and the k-vote by hand, self-retrieval
on real triplets."""
import pytest
import torch
from mmengine.registry import init_default_scope

from motionkit.models.generators.nearest_neighbour_instruction import (NearestNeighbourInstructionRetrieval,
                                                                       pair_descriptor, pair_step_descriptor,
                                                                       vote_neighbours)
from motionkit.utils.text import normalize_text


def test_pair_descriptor_by_hand():
    # D=1; source 3 valid frames [1, 2, 3] (+1 pad), target 2 valid frames [2, 6]
    src = torch.tensor([[[1.], [2.], [3.], [0.]]])
    smask = torch.tensor([[True, True, True, False]])
    tgt = torch.tensor([[[2.], [6.], [0.]]])
    tmask = torch.tensor([[True, True, False]])
    d = pair_descriptor(src, smask, tgt, tmask)
    # mean(src)=2, mean(tgt)-mean(src)=4-2=2, mean |tgt-src| over the 2 common valid frames = (1+4)/2
    assert torch.allclose(d, torch.tensor([[2.0, 2.0, 2.5]]))


def _dataset(root, split):
    return dict(type='CigTimeTripletDataset', data_root=str(root / 'triplets'), split=split,
                pipeline=[dict(type='LoadMotionPair', max_length=196),
                          dict(type='PackMotionPairInputs', response_key='instruction', test_mode=True)])


def test_retrieves_its_own_instruction_and_only_training_answers(cigtime_work_dir):
    init_default_scope('motionkit')
    from motionkit.datasets.collate import motion_pair_collate
    from motionkit.registry import DATASETS
    model = NearestNeighbourInstructionRetrieval(train_dataset=_dataset(cigtime_work_dir, 'train'))
    n = model.build_index()
    train = DATASETS.build(_dataset(cigtime_work_dir, 'train'))
    assert n == len(train) > 20
    items = [train[i] for i in range(len(train))]
    out = model.test_step(motion_pair_collate(items))
    same = sum(o.pred_instruction == o.gt_instruction for o in out)
    assert same == len(items)  # every training pair is its own nearest neighbour
    test = DATASETS.build(_dataset(cigtime_work_dir, 'test'))
    train_answers = {o.gt_instruction for o in out}
    preds = model.test_step(motion_pair_collate([test[i] for i in range(len(test))]))
    assert preds and all(p.pred_instruction in train_answers for p in preds)
    with pytest.raises(RuntimeError, match='learns nothing'):
        model(dict(), [], mode='loss')


def test_pair_step_descriptor_by_hand():
    # D=1, steps of 2 frames, 3 steps kept. Pair 0: source 5 valid frames [1..5] -> 2 steps (the
    # 5th frame is after the last complete step), target 6 frames [2, 4, .., 12] -> 3 steps.
    # Pair 1: source 2 frames [1, 1] -> 1 step, target 3 frames [3, 3, 3] -> 1 step.
    src = torch.tensor([[1., 2., 3., 4., 5.], [1., 1., 0., 0., 0.]]).unsqueeze(-1)
    smask = torch.tensor([[True] * 5, [True, True, False, False, False]])
    tgt = torch.tensor([[2., 4., 6., 8., 10., 12.], [3., 3., 3., 0., 0., 0.]]).unsqueeze(-1)
    tmask = torch.tensor([[True] * 6, [True, True, True, False, False, False]])
    desc, valid = pair_step_descriptor(src, smask, tgt, tmask, unit_length=2, num_steps=3)
    assert desc.shape == (2, 3, 3) and valid.shape == (2, 3)
    # step k: [s_k, t_k, t_k - s_k]; the ended source (pair 0, step 2) reads 0, and so does the difference
    assert torch.allclose(desc[0], torch.tensor([[1.5, 3., 1.5], [3.5, 7., 3.5], [0., 11., 0.]]))
    assert torch.allclose(desc[1], torch.tensor([[1., 3., 2.], [0., 0., 0.], [0., 0., 0.]]))
    assert valid.tolist() == [[True, True, True], [True, False, False]]
    # cropped to fewer steps; padded to more
    short, short_valid = pair_step_descriptor(src, smask, tgt, tmask, unit_length=2, num_steps=2)
    assert short.shape == (2, 2, 3) and torch.equal(short, desc[:, :2])
    assert short_valid.tolist() == [[True, True], [True, False]]
    long, long_valid = pair_step_descriptor(src, smask, tgt, tmask, unit_length=2, num_steps=5)
    assert torch.equal(long[:, :3], desc) and not long[:, 3:].any() and not long_valid[:, 3:].any()


def test_normalize_text():
    assert normalize_text('Raise your arm, higher!') == 'raise your arm higher'
    assert normalize_text("  Don't   bow.") == 'don t bow'
    assert normalize_text('bow deeper') == normalize_text('Bow deeper.')


def test_vote_neighbours_majority_then_summed_similarity_then_nearest():
    # majority: two votes for b beat the nearest a
    assert vote_neighbours(['a', 'b', 'b'], [0.9, 0.8, 0.7]) == 1
    # 2 votes each: a sums 0.9 + 0.5 = 1.4, b sums 0.8 + 0.7 = 1.5 -> b, answered by its nearest voter
    assert vote_neighbours(['a', 'b', 'b', 'a'], [0.9, 0.8, 0.7, 0.5]) == 1
    # 2 votes each, equal sums (0.75 + 0.25 = 0.5 + 0.5): the label of the nearest neighbour wins
    assert vote_neighbours(['a', 'b', 'b', 'a'], [0.75, 0.5, 0.5, 0.25]) == 0
    assert vote_neighbours(['b', 'a', 'a', 'b'], [0.75, 0.5, 0.5, 0.25]) == 0
    # one vote each: the largest similarity, i.e. the nearest (k = 1 behaviour)
    assert vote_neighbours(['a', 'b', 'c'], [-1.0, -2.0, -3.0]) == 0
    with pytest.raises(ValueError, match='as many similarities'):
        vote_neighbours(['a', 'b'], [1.0])


class _Pairs:
    """A tiny training set of constant D=1 motions: source 0 over ``frames`` frames, target ``b``."""

    def __init__(self, rows):
        self.rows = rows

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, i):
        from motionkit.structures import MotionDataSample
        b, text, edit, frames = self.rows[i]
        sample = MotionDataSample(gt_instruction=text)
        if edit is not None:
            sample.edit = edit
        return dict(inputs=dict(source=torch.zeros(frames, 1), target=torch.full((frames, 1), float(b))),
                    data_samples=sample)


def _query(bs, frames=8):
    return _Pairs([(b, 'query', None, frames) for b in bs])


def _tiny_model(rows, metric='euclidean', **kwargs):
    init_default_scope('motionkit')
    model = NearestNeighbourInstructionRetrieval(
        train_dataset=dict(type='unused'), metric=metric,
        data_preprocessor=dict(type='MotionPairDataPreprocessor', mean=[0.0], std=[1.0]), **kwargs)
    assert model.build_index(_Pairs(rows)) == len(rows)
    return model


def _predict(model, queries):
    from motionkit.datasets.collate import motion_pair_collate
    out = model.test_step(motion_pair_collate([queries[i] for i in range(len(queries))]))
    return [o.pred_instruction for o in out]


# pooled descriptor [0, b, |b|]: after standardisation the euclidean distance grows with |b - b_query|;
# from a query with b = 0.9 the training pairs are ordered 0, 1, 2, 3, 4
ROWS = [(1.0, 'kick higher', 'kick_higher', 8),
        (1.5, 'Bow deeper.', 'bow_deeper', 8),
        (1.75, 'bow deeper', 'bow_deeper', 8),
        (2.0, 'bend your upper body further forward', 'bow_deeper', 8),
        (10.0, 'jump lower', 'jump_lower', 8)]


def test_k_vote_on_instruction_text_returns_a_training_instruction():
    assert _predict(_tiny_model(ROWS), _query([0.9])) == ['kick higher']  # k=1: the nearest
    # k=3: 'Bow deeper.' and 'bow deeper' are one vote after normalisation and outvote 'kick higher';
    # the answer is the text of the nearest voter, as written in the training set
    assert _predict(_tiny_model(ROWS, k=3), _query([0.9])) == ['Bow deeper.']
    # k larger than the training set: everyone votes, bow_deeper's paraphrases split (2 + 1 votes)
    assert _predict(_tiny_model(ROWS, k=50), _query([0.9])) == ['Bow deeper.']


def test_k_vote_on_edit_operator_counts_paraphrases_together():
    rows = [ROWS[0], ROWS[1], ROWS[3], ROWS[4]]  # two paraphrases of bow_deeper, different texts
    # by text: one vote each, 'kick higher' is the nearest and has the largest similarity
    assert _predict(_tiny_model(rows, k=3), _query([0.9])) == ['kick higher']
    # by edit operator: bow_deeper has two votes; its nearest voter answers
    assert _predict(_tiny_model(rows, k=3, vote_on='edit'), _query([0.9])) == ['Bow deeper.']
    # a triplet without an edit operator votes with its text
    no_edit = [(b, text, None, n) for b, text, _, n in rows]
    assert _predict(_tiny_model(no_edit, k=3, vote_on='edit'), _query([0.9])) == ['kick higher']


def test_step_descriptor_sees_length_and_pooled_does_not():
    # the same constant pair over 8 and over 16 frames: pooled statistics are identical, the
    # per-step descriptor of the 8-frame pair has no steps 2..3 (zero after standardisation)
    rows = [(1.0, 'eight frames', None, 8), (1.0, 'sixteen frames', None, 16), (3.0, 'far', None, 16)]
    pooled = _tiny_model(rows)
    steps = _tiny_model(rows, descriptor='steps', num_steps=4)
    # pooled: a tie between the two, the first index wins whatever the query length
    assert _predict(pooled, _query([1.0], frames=16)) == ['eight frames']
    assert _predict(steps, _query([1.0], frames=16)) == ['sixteen frames']
    assert _predict(steps, _query([1.0], frames=8)) == ['eight frames']
    assert _predict(_tiny_model(rows, descriptor='steps', num_steps=4, metric='cosine'),
                    _query([1.0], frames=16)) == ['sixteen frames']
    from motionkit.datasets.collate import motion_pair_collate
    q = _query([1.0, 3.0], frames=8)
    batch = steps.data_preprocessor(motion_pair_collate([q[0], q[1]]), False)
    desc = steps(batch['inputs'], batch['data_samples'], mode='tensor')
    # 8 frames = 2 steps of 4; step descriptor [s_k, t_k, t_k - s_k] = [0, b, b]
    assert desc.shape == (2, 4, 3)
    assert torch.equal(desc[1], torch.tensor([[0., 3., 3.], [0., 3., 3.], [0., 0., 0.], [0., 0., 0.]]))


def test_options_are_checked():
    with pytest.raises(ValueError, match="descriptor must be 'pooled' or 'steps'"):
        NearestNeighbourInstructionRetrieval(train_dataset={}, descriptor='frames')
    with pytest.raises(ValueError, match="vote_on must be 'instruction' or 'edit'"):
        NearestNeighbourInstructionRetrieval(train_dataset={}, vote_on='body_part')
    with pytest.raises(ValueError, match='k, unit_length and num_steps must be >= 1'):
        NearestNeighbourInstructionRetrieval(train_dataset={}, k=0)


@pytest.mark.parametrize('vote_on', ['instruction', 'edit'])
def test_steps_k_vote_on_real_triplets(cigtime_work_dir, vote_on):
    init_default_scope('motionkit')
    from motionkit.datasets.collate import motion_pair_collate
    from motionkit.registry import DATASETS
    train = DATASETS.build(_dataset(cigtime_work_dir, 'train'))
    items = [train[i] for i in range(len(train))]
    exact = NearestNeighbourInstructionRetrieval(train_dataset=_dataset(cigtime_work_dir, 'train'),
                                                 descriptor='steps')
    exact.build_index()
    assert exact._keys.shape == (len(train), 49 * 3 * 263)
    out = exact.test_step(motion_pair_collate(items))
    assert all(o.pred_instruction == o.gt_instruction for o in out)  # its own nearest neighbour
    voted = NearestNeighbourInstructionRetrieval(train_dataset=_dataset(cigtime_work_dir, 'train'),
                                                 descriptor='steps', k=5, vote_on=vote_on)
    test = DATASETS.build(_dataset(cigtime_work_dir, 'test'))
    queries = motion_pair_collate([test[i] for i in range(len(test))])
    preds = voted.test_step(queries)
    answers = {o.gt_instruction for o in out}
    assert all(p.pred_instruction in answers for p in preds)
    # each answer is the instruction of one of the query's 5 nearest pairs, and wins their vote
    order, sim = voted.neighbours(voted.data_preprocessor(queries, False)['inputs'])
    for p, idx, s in zip(preds, order.tolist(), sim.tolist()):
        labels = [voted._labels[i] for i in idx]
        assert p.pred_instruction == voted._answers[idx[vote_neighbours(labels, s)]]
        assert labels.count(voted._labels[idx[vote_neighbours(labels, s)]]) == max(map(labels.count, labels))
