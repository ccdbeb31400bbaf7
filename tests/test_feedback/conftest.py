"""A tiny random Llama + word-level tokenizer saved to disk, and an OpenAI-compatible server over it."""
import pytest

WORDS = ['user', 'assistant', 'system', ':', 'hello', 'world', 'raise', 'lower', 'the', 'left', 'right',
         'arm', 'leg', 'walk', 'faster', 'slower', 'jump', 'higher', 'please', 'say', 'something', '.']


@pytest.fixture(scope='package')
def tiny_lm_dir(tmp_path_factory):
    torch = pytest.importorskip('torch')
    transformers = pytest.importorskip('transformers')
    from tokenizers import Tokenizer, models, pre_tokenizers

    specials = ['[PAD]', '[UNK]', '[BOS]', '[EOS]']
    vocab = {w: i for i, w in enumerate(specials + WORDS)}
    core = Tokenizer(models.WordLevel(vocab, unk_token='[UNK]'))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    tok = transformers.PreTrainedTokenizerFast(tokenizer_object=core, pad_token='[PAD]', unk_token='[UNK]',
                                               bos_token='[BOS]', eos_token='[EOS]')
    torch.manual_seed(0)
    cfg = transformers.LlamaConfig(vocab_size=len(vocab), hidden_size=32, intermediate_size=64,
                                   num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                                   max_position_embeddings=128, bos_token_id=2, eos_token_id=3, pad_token_id=0)
    model = transformers.LlamaForCausalLM(cfg).eval()
    out = tmp_path_factory.mktemp('tiny_llama')
    model.save_pretrained(str(out))
    tok.save_pretrained(str(out))
    return out


@pytest.fixture(scope='package')
def llm_server(tiny_lm_dir):
    from motionkit.feedback import start_server
    server, thread, base_url = start_server(tiny_lm_dir, model_name='tiny-llama', max_new_tokens=64)
    yield server, base_url
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
