import json
import os
import subprocess
import sys
import urllib.request

from motionkit.feedback import OpenAIChatClient

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_serve_llm_cli(tiny_lm_dir, tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS='1')
    proc = subprocess.Popen([sys.executable, os.path.join(REPO, 'tools', 'serve_llm.py'), '--model-dir',
                             str(tiny_lm_dir), '--port', '0', '--model-name', 'cli-model'],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    try:
        line = proc.stdout.readline()
        assert line.startswith('serving ') and ' at http://127.0.0.1:' in line, line
        base = line.split(' at ')[1].split()[0]
        with urllib.request.urlopen(f'{base}/models', timeout=30) as r:
            assert json.loads(r.read())['data'][0]['id'] == 'cli-model'
        client = OpenAIChatClient(base, 'cli-model', cache_dir=False, max_tokens=4)
        assert isinstance(client.chat([dict(role='user', content='hello')]), str)
        assert client.num_requests == 1
    finally:
        proc.terminate()
        proc.wait(timeout=30)
