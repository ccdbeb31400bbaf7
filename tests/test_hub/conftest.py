"""An HTTP file server on 127.0.0.1 for the hub tests: Range requests, 404, dropped connections,
slow transfers, and a log of every request."""
import hashlib
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class FileServer:

    def __init__(self):
        self.files = {}  # path -> bytes
        self.drop_after = {}  # path -> number of bytes after which the next N transfers are cut
        self.drops_left = {}  # path -> how many transfers are still cut
        self.delay = {}  # path -> seconds to sleep per 4 KiB chunk
        self.requests = []  # (path, Range header or None)
        self.content_type = {}  # path -> Content-Type (default application/octet-stream)
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):

            def log_message(self, *args):
                pass

            def do_GET(self):
                with server.lock:
                    server.requests.append((self.path, self.headers.get('Range')))
                data = server.files.get(self.path)
                if data is None:
                    self.send_error(404, 'Not Found')
                    return
                start = 0
                rng = self.headers.get('Range')
                if rng:
                    start = int(rng.split('=')[1].split('-')[0])
                    if start >= len(data):
                        self.send_error(416, 'Range Not Satisfiable')
                        return
                    self.send_response(206)
                    self.send_header('Content-Range', f'bytes {start}-{len(data) - 1}/{len(data)}')
                else:
                    self.send_response(200)
                self.send_header('Content-Length', str(len(data) - start))
                self.send_header('Content-Type',
                                 server.content_type.get(self.path, 'application/octet-stream'))
                self.end_headers()
                body = data[start:]
                with server.lock:
                    cut = server.drops_left.get(self.path, 0) > 0
                    if cut:
                        server.drops_left[self.path] -= 1
                if cut:
                    body = body[:server.drop_after[self.path]]
                for i in range(0, len(body), 4096):
                    self.wfile.write(body[i:i + 4096])
                    if self.path in server.delay:
                        time.sleep(server.delay[self.path])
                if cut:
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(2)

        self.httpd = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.url = f'http://127.0.0.1:{self.httpd.server_address[1]}'
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs=dict(poll_interval=0.05), daemon=True)
        self.thread.start()

    def add(self, path, data, drop_after=None, drops=0, delay=None):
        self.files[path] = data
        if drop_after is not None:
            self.drop_after[path] = drop_after
            self.drops_left[path] = drops
        if delay is not None:
            self.delay[path] = delay
        return self.url + path, hashlib.sha256(data).hexdigest()

    def hits(self, path):
        return [r for p, r in self.requests if p == path]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def file_server():
    server = FileServer()
    yield server
    server.close()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv('MOTIONKIT_CACHE', str(tmp_path / 'cache'))
    monkeypatch.delenv('MOTIONKIT_OFFLINE', raising=False)
    monkeypatch.delenv('HF_HUB_OFFLINE', raising=False)
    return tmp_path / 'cache' / 'checkpoints'
