#!/usr/bin/env python3
"""A fault-injecting OpenAI-compatible HTTP server, for recarena's LLM client tests only.

It answers POST {prefix}/chat/completions, /completions and /embeddings, and GET {prefix}/models,
like an OpenAI-compatible server, except that each request first takes the next *mode* from a
script the test sets:

  POST /_control  {"script": ["reset", "429:1", "ok"], "default": "ok", "answer": "b"}
  GET  /_stats    {"requests": n, "modes": {...}, "max_inflight": m, "auth": [...], ...}

Modes: ok | sleep:S (answer after S seconds) | slowbody:S (headers and half the body, S seconds,
the rest) | reset (close without answering) | 429:S (Retry-After: S seconds) | 429date:S (Retry-After
as an HTTP date S seconds ahead) | 500 | 503 | 401 | leak401 (401 whose body echoes the
Authorization header) | malformed (200, not JSON) | truncated (200, Content-Length larger than the
body, then close) | empty_choices | null_content | garbage (200, a nonsense answer).

The answer of `ok` is the control's "answer"; the answer "hash" picks, deterministically from the
prompt's MD5, one of the labels the prompt lists ("a. ...", ..., including the None label).

Usage: fault_server.py --port-file FILE [--port 0]. The port it bound is written to FILE
(atomically) once it accepts connections.
"""
import argparse
import email.utils
import hashlib
import json
import os
import re
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATE = {"script": [], "default": "ok", "answer": "b", "requests": 0, "modes": {},
         "inflight": 0, "max_inflight": 0, "auth": [], "connections": 0, "paths": []}


def next_mode():
    with LOCK:
        STATE["requests"] += 1
        mode = STATE["script"].pop(0) if STATE["script"] else STATE["default"]
        STATE["modes"][mode] = STATE["modes"].get(mode, 0) + 1
        return mode, STATE["answer"]


def answer_for(prompt, answer):
    if answer != "hash":
        return answer
    labels = re.findall(r"^([a-y])\. ", prompt, flags=re.M)
    if not labels:
        return "none"
    h = int(hashlib.md5(prompt.encode("utf-8")).hexdigest(), 16)
    return labels[h % len(labels)]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def send_json(self, status, obj, extra=None):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def read_body(self):
        n = int(self.headers.get("Content-Length", "0"))
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        if self.path == "/_stats":
            with LOCK:
                self.send_json(200, {k: v for k, v in STATE.items() if k != "script"})
        elif self.path.endswith("/models"):
            self.send_json(200, {"object": "list", "data": [{"id": "fault-model"}]})
        else:
            self.send_json(404, {"error": "no such path"})

    def do_POST(self):
        raw = self.read_body()
        if self.path == "/_control":
            ctl = json.loads(raw or b"{}")
            with LOCK:
                STATE["script"] = list(ctl.get("script", []))
                STATE["default"] = ctl.get("default", "ok")
                STATE["answer"] = ctl.get("answer", "b")
                if ctl.get("reset_stats", True):
                    for k in ("requests", "max_inflight", "connections"):
                        STATE[k] = 0
                    STATE["modes"], STATE["auth"], STATE["paths"] = {}, [], []
            self.send_json(200, {"ok": True})
            return
        with LOCK:
            if not getattr(self, "counted", False):  # connections that carried API requests
                self.counted = True
                STATE["connections"] += 1
            STATE["inflight"] += 1
            STATE["max_inflight"] = max(STATE["max_inflight"], STATE["inflight"])
            STATE["auth"].append(self.headers.get("Authorization", ""))
            STATE["paths"].append(self.path)
        try:
            self.serve_api(raw)
        finally:
            with LOCK:
                STATE["inflight"] -= 1

    def serve_api(self, raw):
        mode, answer = next_mode()
        try:
            req = json.loads(raw or b"{}")
        except ValueError:
            req = {}
        prompt = req.get("prompt") or ""
        if "messages" in req and req["messages"]:
            prompt = req["messages"][-1].get("content", "")
        name, _, arg = mode.partition(":")
        if name == "sleep":
            time.sleep(float(arg))
            name = "ok"
        if name == "reset":
            # RST instead of FIN: linger 0, then close.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        if name in ("429", "429date"):
            secs = float(arg or "1")
            ra = str(int(secs)) if name == "429" else email.utils.formatdate(time.time() + secs, usegmt=True)
            self.send_json(429, {"error": {"message": "rate limited"}}, {"Retry-After": ra})
            return
        if name in ("500", "503"):
            self.send_json(int(name), {"error": {"message": "server error"}})
            return
        if name == "401":
            self.send_json(401, {"error": {"message": "invalid api key"}})
            return
        if name == "leak401":
            self.send_json(401, {"error": {"message": "bad key: " + self.headers.get("Authorization", "")}})
            return
        if name in ("malformed", "truncated"):
            body = b'{"choices": [{"message": {"content": "b"'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body) + (100 if name == "truncated" else 0)))
            self.end_headers()
            self.wfile.write(body)
            if name == "truncated":
                self.close_connection = True
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if self.path.endswith("/embeddings"):
            text = req.get("input", "")
            self.send_json(200, {"data": [{"embedding": [float(len(text)), 0.5, -1.0]}],
                                 "usage": {"prompt_tokens": 3}})
            return
        if name == "empty_choices":
            self.send_json(200, {"choices": []})
            return
        content = answer_for(prompt, answer)
        if name == "garbage":
            content = "zq@@ 9 lorem ipsum ]]]"
        if name == "null_content":
            content = None
        if self.path.endswith("/chat/completions"):
            choice = {"index": 0, "message": {"role": "assistant", "content": content},
                      "finish_reason": "stop"}
        else:
            choice = {"index": 0, "text": content, "finish_reason": "stop"}
        obj = {"id": "x", "object": "chat.completion", "model": req.get("model", ""),
               "choices": [choice], "usage": {"prompt_tokens": len(prompt.split()),
                                              "completion_tokens": 1}}
        if name == "slowbody":
            body = json.dumps(obj).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            half = len(body) // 2
            self.wfile.write(body[:half])
            self.wfile.flush()
            time.sleep(float(arg or "1"))
            self.wfile.write(body[half:])
            return
        self.send_json(200, obj)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--port", type=int, default=0)
    a = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.replace(tmp, a.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
