#!/usr/bin/env python3
"""Independent verifier of one entry of a Trường Số transparency log, from its static files.

    python3 scripts/tlog_verify.py --url http://host:port/<prefix> --vkey <log vkey> \\
        [--witness <vkey>]... [--quorum K] [--origin <origin>] \\
        --leaf-index N --leaf-hex <hex of the leaf data>

It fetches <prefix>/checkpoint, checks the log's Ed25519 signature (C2SP signed note, type 0x01)
and the witnesses' cosignatures (c2sp.org/tlog-cosignature, type 0x04, "cosignature/v1"),
then fetches the tiles (c2sp.org/tlog-tiles: tile/<L>/<N>[.p/<W>]) that hold the leaf's
inclusion proof, rebuilds the proof, recomputes the RFC 6962 root from the leaf and compares it
with the checkpoint's. It prints one line of JSON, {"ok": true, ...} or
{"ok": false, "error": ...}, and exits 0 only when ok.

--quorum defaults to the number of --witness keys given. --origin defaults to the log key's name.

It shares no code with the Rust implementation on purpose: Python 3.11 standard library plus
the `cryptography` package for Ed25519.
"""

import argparse
import base64
import binascii
import hashlib
import json
import struct
import sys
import urllib.error
import urllib.request

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

EM_DASH = "\u2014"
TILE_WIDTH = 256
MAX_SIGNATURES = 100


class VerifyError(Exception):
    pass


def b64decode_strict(s):
    try:
        raw = base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError):
        raise VerifyError(f"bad base64: {s!r}")
    if base64.b64encode(raw).decode() != s:
        raise VerifyError(f"non-canonical base64: {s!r}")
    return raw


def key_id(name, alg, public_key):
    return hashlib.sha256(name.encode() + b"\n" + bytes([alg]) + public_key).digest()[:4]


def parse_vkey(vkey, expected_alg):
    parts = vkey.split("+", 2)
    if len(parts) != 3:
        raise VerifyError(f"malformed vkey {vkey!r}")
    name, hex8, key64 = parts
    if not name or any(c.isspace() for c in name):
        raise VerifyError(f"bad key name in {vkey!r}")
    if len(hex8) != 8:
        raise VerifyError(f"bad key id in {vkey!r}")
    key = b64decode_strict(key64)
    if len(key) != 33 or key[0] != expected_alg:
        raise VerifyError(f"vkey {vkey!r} is not of type {expected_alg:#04x}")
    if key_id(name, key[0], key[1:]).hex() != hex8.lower():
        raise VerifyError(f"key id does not match key in {vkey!r}")
    return {"name": name, "id": bytes.fromhex(hex8), "key": Ed25519PublicKey.from_public_bytes(key[1:])}


def parse_note(data):
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise VerifyError("checkpoint is not UTF-8")
    if any(ord(c) < 0x20 and c != "\n" for c in text):
        raise VerifyError("checkpoint has control characters")
    split = text.rfind("\n\n")
    if split < 0:
        raise VerifyError("checkpoint has no signature block")
    body, sig_block = text[: split + 1], text[split + 2 :]
    if not sig_block.endswith("\n"):
        raise VerifyError("signature block does not end with a newline")
    sigs = []
    lines = sig_block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise VerifyError("too many signatures")
    for line in lines:
        if not line.startswith(EM_DASH + " "):
            raise VerifyError(f"bad signature line {line!r}")
        name, _, b64 = line[2:].partition(" ")
        raw = b64decode_strict(b64)
        if not name or len(raw) < 5:
            raise VerifyError(f"bad signature line {line!r}")
        sigs.append({"name": name, "id": raw[:4], "sig": raw[4:]})
    return body, sigs


def parse_checkpoint(body):
    lines = body[:-1].split("\n")
    if len(lines) < 3 or not lines[0]:
        raise VerifyError("checkpoint needs origin, size and root")
    origin, size_s, root_s = lines[0], lines[1], lines[2]
    if not size_s.isascii() or not size_s.isdigit() or (len(size_s) > 1 and size_s[0] == "0"):
        raise VerifyError(f"bad tree size {size_s!r}")
    root = b64decode_strict(root_s)
    if len(root) != 32:
        raise VerifyError("root hash is not 32 bytes")
    if any(not line for line in lines[3:]):
        raise VerifyError("empty extension line")
    return origin, int(size_s), root


def verify_log_signature(body, sigs, log_key):
    verified = False
    for s in sigs:
        if s["name"] == log_key["name"] and s["id"] == log_key["id"]:
            try:
                log_key["key"].verify(s["sig"], body.encode())
            except InvalidSignature:
                raise VerifyError("invalid log signature")
            verified = True
    if not verified:
        raise VerifyError("no signature from the log key")


def count_cosignatures(body, sigs, witnesses):
    cosigners = []
    for w in witnesses:
        for s in sigs:
            if s["name"] != w["name"] or s["id"] != w["id"] or len(s["sig"]) != 72:
                continue
            (timestamp,) = struct.unpack(">Q", s["sig"][:8])
            if timestamp >= 1 << 63:
                continue
            message = f"cosignature/v1\ntime {timestamp}\n".encode() + body.encode()
            try:
                w["key"].verify(s["sig"][8:], message)
            except InvalidSignature:
                continue
            cosigners.append({"name": w["name"], "time": timestamp})
            break
    return cosigners


def leaf_hash(data):
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def tile_index_path(n):
    groups = [f"{n % 1000:03d}"]
    n //= 1000
    while n > 0:
        groups.append(f"x{n % 1000:03d}")
        n //= 1000
    return "/".join(reversed(groups))


class Tiles:
    """Hashes of complete subtrees, read from the tiles a tree of `size` leaves publishes."""

    def __init__(self, base_url, size):
        self.base_url = base_url
        self.size = size
        self.cache = {}
        self.fetched = []

    def tile(self, level, index):
        hashes_at_level = self.size // (TILE_WIDTH**level)
        width = min(hashes_at_level - index * TILE_WIDTH, TILE_WIDTH)
        if width <= 0:
            raise VerifyError(f"tile {level}/{index} is beyond the tree")
        path = f"tile/{level}/{tile_index_path(index)}"
        if width < TILE_WIDTH:
            path += f".p/{width}"
        if path not in self.cache:
            data = fetch(f"{self.base_url}/{path}")
            if len(data) != 32 * width:
                raise VerifyError(f"{path} has {len(data)} bytes, expected {32 * width}")
            self.cache[path] = data
            self.fetched.append(path)
        return self.cache[path]

    def complete_subtree(self, height, n):
        """Hash of leaves [n * 2^height, (n+1) * 2^height)."""
        level, within = divmod(height, 8)
        first = n << within
        tile = self.tile(level, first // TILE_WIDTH)
        offset = first % TILE_WIDTH
        hashes = [tile[32 * i : 32 * (i + 1)] for i in range(offset, offset + (1 << within))]
        while len(hashes) > 1:
            hashes = [node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes), 2)]
        return hashes[0]

    def range_hash(self, lo, hi):
        """MTH(D[lo:hi]) for a range RFC 6962's recursion produces: split into complete subtrees."""
        parts = []
        while lo < hi:
            k = 1 << ((hi - lo).bit_length() - 1)
            parts.append(self.complete_subtree(k.bit_length() - 1, lo // k))
            lo += k
        h = parts[-1]
        for p in reversed(parts[:-1]):
            h = node_hash(p, h)
        return h


def inclusion_path(tiles, index, lo, hi):
    """RFC 6962 PATH(m, D[lo:hi]), leaf sibling first."""
    if hi - lo == 1:
        return []
    k = 1 << ((hi - lo - 1).bit_length() - 1)
    if index < lo + k:
        return inclusion_path(tiles, index, lo, lo + k) + [tiles.range_hash(lo + k, hi)]
    return inclusion_path(tiles, index, lo + k, hi) + [tiles.range_hash(lo, lo + k)]


def root_from_proof(index, size, leaf, proof):
    """RFC 9162 section 2.1.3.2."""
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise VerifyError("inclusion proof too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn & 1 == 0 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerifyError("inclusion proof too short")
    return r


def fetch(url):
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return resp.read()
    except urllib.error.HTTPError as e:
        raise VerifyError(f"GET {url}: HTTP {e.code}")
    except urllib.error.URLError as e:
        raise VerifyError(f"GET {url}: {e.reason}")


def verify(args):
    base = args.url.rstrip("/")
    log_key = parse_vkey(args.vkey, 0x01)
    witnesses = [parse_vkey(w, 0x04) for w in args.witness]
    quorum = len(witnesses) if args.quorum is None else args.quorum
    if quorum < 0 or quorum > len(witnesses):
        raise VerifyError(f"quorum {quorum} with {len(witnesses)} witnesses")
    origin_wanted = args.origin or log_key["name"]
    try:
        leaf_data = bytes.fromhex(args.leaf_hex)
    except ValueError:
        raise VerifyError("--leaf-hex is not hex")

    body, sigs = parse_note(fetch(f"{base}/checkpoint"))
    origin, size, root = parse_checkpoint(body)
    if origin != origin_wanted:
        raise VerifyError(f"checkpoint origin {origin!r} is not {origin_wanted!r}")
    verify_log_signature(body, sigs, log_key)
    cosigners = count_cosignatures(body, sigs, witnesses)
    if len(cosigners) < quorum:
        raise VerifyError(f"witness quorum not met: {len(cosigners)} of {quorum}")
    index = args.leaf_index
    if not 0 <= index < size:
        raise VerifyError(f"leaf index {index} is outside the tree of size {size}")

    tiles = Tiles(base, size)
    proof = inclusion_path(tiles, index, 0, size)
    computed = root_from_proof(index, size, leaf_hash(leaf_data), proof)
    if computed != root:
        raise VerifyError("recomputed root does not match the checkpoint")
    return {
        "ok": True,
        "origin": origin,
        "tree_size": size,
        "root": base64.b64encode(root).decode(),
        "leaf_index": index,
        "proof_length": len(proof),
        "cosigners": [c["name"] for c in cosigners],
        "quorum": quorum,
        "tiles": tiles.fetched,
    }


def main():
    parser = argparse.ArgumentParser(description="Verify a log entry from its checkpoint and tiles.")
    parser.add_argument("--url", required=True, help="log prefix URL, e.g. http://127.0.0.1:8000/log")
    parser.add_argument("--vkey", required=True, help="the log's verifier key")
    parser.add_argument("--witness", action="append", default=[], help="a witness's verifier key")
    parser.add_argument("--quorum", type=int, help="cosignatures required (default: all witnesses)")
    parser.add_argument("--origin", help="expected checkpoint origin (default: the log key name)")
    parser.add_argument("--leaf-index", type=int, required=True)
    parser.add_argument("--leaf-hex", required=True, help="hex of the leaf data")
    args = parser.parse_args()
    try:
        verdict = verify(args)
    except VerifyError as e:
        print(json.dumps({"ok": False, "error": str(e)}, ensure_ascii=False))
        return 1
    print(json.dumps(verdict, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
