"""Scorer cache: hit rate and time of a VLMScorer run against a local vision-model server, first
run (every motion rendered, sent and parsed) vs a rerun on the same cache folder.

The server is a local HTTP server on 127.0.0.1 that answers every chat completion with a fixed
'Score: N' after ``--latency`` seconds (standing in for a remote model's response time); the motions
are SynthMotion motions (every 8th frame, full-image injection).

    python benchmarks/bench_scorer_cache.py [--n 20] [--latency 0.05] [--injection full_image]
"""
import argparse
import json
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout
from motionkit.feedback import OpenAIChatClient, ScoreRequest, VLMScorer  # noqa: E402
from motionkit.synthmotion.program import ClassDistribution, sample_motion  # noqa: E402


def serve(latency):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers['Content-Length']))
            time.sleep(latency)
            data = json.dumps(dict(choices=[dict(index=0, message=dict(role='assistant', content='Score: 6'))])).encode()
            self.send_response(200)
            self.send_header('Content-Length', str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    httpd = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f'http://127.0.0.1:{httpd.server_address[1]}/v1'


def run(scorer, requests):
    t0 = time.perf_counter()
    for r in requests:
        scorer.score(r)
    return time.perf_counter() - t0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--n', type=int, default=20, help='motions')
    p.add_argument('--latency', type=float, default=0.05, help='server answer delay (s)')
    p.add_argument('--injection', default='full_image', choices=['frames', 'full_image', 'trajectory'])
    args = p.parse_args(argv)
    dist = ClassDistribution()
    reqs = [ScoreRequest(f'S{i}', f'prompt {i}: a person moves.', 'integrity',
                         sample_motion(0, i, dist).motion.joints) for i in range(args.n)]
    httpd, url = serve(args.latency)
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        for label in ('first run', 'rerun (same cache)'):
            client = OpenAIChatClient(url, 'vlm', cache_dir=False)
            s = VLMScorer(client, injection=args.injection, cache_dir=cache)
            dt = run(s, reqs)
            rows.append((label, args.n, s.num_cache_hits, client.num_requests, dt))
    httpd.shutdown()
    print(f'{args.n} SynthMotion motions, injection={args.injection}, server latency {args.latency * 1000:.0f} ms')
    print(f"{'run':<20}{'motions':>8}{'hits':>6}{'hit rate':>10}{'requests':>10}{'time (s)':>10}{'ms/motion':>11}")
    for label, n, hits, req, dt in rows:
        print(f'{label:<20}{n:>8}{hits:>6}{hits / n:>10.0%}{req:>10}{dt:>10.2f}{1000 * dt / n:>11.1f}')
    print(f'speed-up of the rerun: {rows[0][4] / rows[1][4]:.0f}x')


if __name__ == '__main__':
    main()
