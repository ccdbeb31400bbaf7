"""Text encoders: hashed learned encoder and the Hugging Face wrapper (tiny local models)."""
import os

import pytest
import torch

from motionkit.models.encoders import HFTextEncoder, LearnedTextEncoder, hash_word, split_words
from motionkit.registry import MODELS


def test_split_and_hash_are_stable():
    assert split_words("A person WALKS, then jumps!") == ['a', 'person', 'walks', 'then', 'jumps']
    assert hash_word('walk', 100) == hash_word('walk', 100)
    assert all(2 <= hash_word(w, 50) < 50 for w in ('a', 'b', 'walk', 'jump'))
    import zlib
    assert hash_word('walk', 1000) == 2 + zlib.crc32(b'walk') % 998


@pytest.mark.parametrize('layers', [0, 1])
def test_learned_encoder_is_independent_of_batch_padding(layers):
    torch.manual_seed(0)
    enc = LearnedTextEncoder(embed_dim=12, word_dim=8, num_layers=layers, num_heads=2,
                             num_buckets=64).eval()
    alone = enc(['jump'])
    batch = enc(['jump', 'a person walks forward slowly'])
    assert batch.shape == (2, 12)
    assert torch.allclose(alone[0], batch[0], atol=1e-6)
    assert not torch.allclose(batch[0], batch[1])
    ids, mask = enc.tokenize(['', 'walk walk'])
    assert ids[0].tolist() == [1, 0] and mask.tolist() == [[True, False], [True, True]]


def test_learned_encoder_bag_of_words_is_mean_of_word_vectors():
    torch.manual_seed(0)
    enc = LearnedTextEncoder(embed_dim=4, word_dim=4, num_layers=0, num_buckets=32)
    w = enc.word_emb.weight
    ids = [hash_word('walk', 32), hash_word('fast', 32)]
    expected = enc.proj((w[ids[0]] + w[ids[1]]) / 2)
    assert torch.allclose(enc(['Walk fast'])[0], expected)
    with pytest.raises(TypeError, match='list of str'):
        enc('walk')


def _tiny_hf_folder(tmp_path, clip: bool):
    transformers = pytest.importorskip('transformers')
    vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'a', 'person', 'walks', 'jumps']
    (tmp_path / 'vocab.txt').write_text('\n'.join(vocab))
    tok = transformers.BertTokenizer(str(tmp_path / 'vocab.txt'))
    tok.save_pretrained(str(tmp_path))
    torch.manual_seed(0)
    if clip:
        cfg = transformers.CLIPTextConfig(
            vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
            intermediate_size=32, projection_dim=8, max_position_embeddings=32, eos_token_id=3,
            bos_token_id=2, pad_token_id=0)
        model = transformers.CLIPTextModelWithProjection(cfg)
    else:
        cfg = transformers.BertConfig(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1,
                                      num_attention_heads=2, intermediate_size=32)
        model = transformers.BertModel(cfg)
    model.save_pretrained(str(tmp_path))
    return tok, model.eval()


def test_hf_encoder_mean_pooling_and_frozen_state(tmp_path):
    tok, model = _tiny_hf_folder(tmp_path, clip=False)
    enc = HFTextEncoder(str(tmp_path), embed_dim=16, pooling='mean')
    assert list(enc.state_dict()) == [] and list(enc.parameters()) == []  # loaded lazily, frozen
    texts = ['a person walks', 'jumps']
    out = enc(texts)
    batch = tok(texts, padding=True, return_tensors='pt')
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    m = batch['attention_mask'][..., None].float()
    assert torch.allclose(out, (hidden * m).sum(1) / m.sum(1), atol=1e-5)


def test_hf_encoder_clip_uses_projected_text_embeds(tmp_path):
    tok, model = _tiny_hf_folder(tmp_path, clip=True)
    enc = MODELS.build(dict(type='HFTextEncoder', model_path=str(tmp_path), embed_dim=8))
    texts = ['a person walks', 'jumps']
    batch = tok(texts, padding=True, return_tensors='pt')
    with torch.no_grad():
        expected = model(**batch).text_embeds
    assert torch.allclose(enc(texts), expected, atol=1e-5)
    wrong = HFTextEncoder(str(tmp_path), embed_dim=512)
    with pytest.raises(ValueError, match='embed_dim=512'):
        wrong(['a'])


def test_hf_encoder_missing_folder_names_the_path(tmp_path):
    path = os.path.join(str(tmp_path), 'clip-vit-base-patch32')
    enc = HFTextEncoder(path, embed_dim=512)  # building does not load
    with pytest.raises(FileNotFoundError, match='clip-vit-base-patch32'):
        enc(['a person walks'])
    with pytest.raises(FileNotFoundError, match='clip-vit-base-patch32'):
        HFTextEncoder(path, embed_dim=512, freeze=False)  # trainable: loaded at construction
