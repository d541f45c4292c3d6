#!/usr/bin/env python3
"""A remote ("hash in, signature out") signing service for the Rust tests, speaking the protocol of
docs/signing.md over real HTTPS.

It loads one key from a PKCS#12 file and serves it under --key-id. Every signing request is
answered 202 with a request id, as a service that waits for the holder to approve on a phone;
the holder "approves" once the request has been polled --approve-after-polls times. Requests for
--reject-key-id (same key) are "rejected" by the holder at the first poll (410); requests for
--broken-key-id get a 200 whose JSON lacks the signature, like a misbehaving service.

Prints "LISTENING <port>" on stdout once the socket is bound (port 0 picks a free port), so the
test knows where to connect without racing for a port.
"""

import argparse
import base64
import json
import ssl
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from cryptography.hazmat.primitives.serialization import pkcs12


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--p12", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--key-id", required=True)
    parser.add_argument("--reject-key-id", required=True)
    parser.add_argument("--broken-key-id", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--tls-cert", required=True)
    parser.add_argument("--tls-key", required=True)
    parser.add_argument("--approve-after-polls", type=int, default=1)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()

    with open(args.p12, "rb") as f:
        key, cert, extra = pkcs12.load_key_and_certificates(f.read(), args.password.encode())
    chain = [cert.public_bytes(serialization.Encoding.DER)]
    chain += [c.public_bytes(serialization.Encoding.DER) for c in extra or []]

    lock = threading.Lock()
    pending = {}  # request id -> {"digest": bytes, "key_id": str, "polls": int}

    def event(*words):
        # One line per protocol event on stdout, which the test reads and asserts on.
        print("EVENT", *words, flush=True)

    def sign(digest, algorithm):
        if isinstance(key, rsa.RSAPrivateKey):
            if algorithm != "rsa-pkcs1v15-sha256":
                return None
            return key.sign(digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
        if isinstance(key, ec.EllipticCurvePrivateKey):
            if algorithm != "ecdsa-p256-sha256":
                return None
            return key.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
        return None

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            # The EVENT lines are the log the test reads; access lines would only add noise.
            pass

        def reply(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def authorized(self):
            if self.headers.get("Authorization") != "Bearer " + args.token:
                self.reply(401, {"error": "unauthorized"})
                return False
            return True

        def known(self, key_id):
            return key_id in (args.key_id, args.reject_key_id, args.broken_key_id)

        def do_GET(self):
            if not self.authorized():
                return
            url = urlparse(self.path)
            if url.path == "/certificates":
                key_id = parse_qs(url.query).get("key_id", [""])[0]
                if not self.known(key_id):
                    return self.reply(404, {"error": "unknown key"})
                return self.reply(200, {"certificates": [base64.b64encode(c).decode() for c in chain]})
            if url.path.startswith("/sign/"):
                request_id = url.path[len("/sign/"):]
                with lock:
                    request = pending.get(request_id)
                    if request is None:
                        return self.reply(404, {"error": "unknown request"})
                    request["polls"] += 1
                    if request["key_id"] == args.reject_key_id:
                        del pending[request_id]
                        event("poll", request["key_id"], request["polls"], "rejected")
                        return self.reply(410, {"error": "rejected by the holder"})
                    if request["polls"] <= args.approve_after_polls:
                        event("poll", request["key_id"], request["polls"], "pending")
                        return self.reply(202, {"request_id": request_id})
                    del pending[request_id]
                    event("poll", request["key_id"], request["polls"], "approved")
                signature = sign(request["digest"], request["algorithm"])
                return self.reply(200, {"signature": base64.b64encode(signature).decode()})
            return self.reply(404, {"error": "not found"})

        def do_POST(self):
            if not self.authorized():
                return
            if urlparse(self.path).path != "/sign":
                return self.reply(404, {"error": "not found"})
            length = int(self.headers.get("Content-Length", "0"))
            try:
                body = json.loads(self.rfile.read(length))
                key_id = body["key_id"]
                algorithm = body["algorithm"]
                digest = base64.b64decode(body["digest"], validate=True)
            except (ValueError, KeyError, TypeError):
                return self.reply(400, {"error": "bad request"})
            if not self.known(key_id):
                return self.reply(404, {"error": "unknown key"})
            if len(digest) != 32 or sign(b"\0" * 32, algorithm) is None:
                return self.reply(400, {"error": "bad digest or algorithm"})
            if key_id == args.broken_key_id:
                event("sign", key_id, "broken")
                return self.reply(200, {"sig": "not what the protocol says"})
            request_id = uuid.uuid4().hex
            with lock:
                pending[request_id] = {"digest": digest, "key_id": key_id, "algorithm": algorithm, "polls": 0}
                event("sign", key_id)
            return self.reply(202, {"request_id": request_id})

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(args.tls_cert, args.tls_key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    print("LISTENING", server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
