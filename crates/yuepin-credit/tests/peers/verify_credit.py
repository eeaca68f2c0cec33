#!/usr/bin/env python3
"""Independent verifier for the credit capability's signed artefacts (test peer).

Input: JSON file {"jwk": {...}, "artefacts": [b64url COSE_Sign1, ...], "checkpoint": note,
"leaves": [hex entry bytes, ...], "inclusion": [{"index", "size", "proof": [hex]}],
"consistency": [{"first", "second", "first_root", "proof": [hex]}]}.

- Each consent artefact (tagged COSE_Sign1, EdDSA, embedded JSON payload) is verified twice:
  with pycose, and by hand with cbor2 + cryptography (RFC 9052 Sig_structure).
- The checkpoint (C2SP signed note) is verified with cryptography: key id
  SHA-256(name || 0x0A || 0x01 || key)[:4], Ed25519 over the note body.
- Inclusion and consistency proofs are checked with this file's own RFC 9162 §2.1.3.2 and
  §2.1.4.2 verifiers against the checkpoint's root (the tree head is also recomputed from the
  leaves by RFC 6962 §2.1's MTH).
Prints one JSON line per check and exits 1 if any fails.
"""
import base64
import hashlib
import json
import sys

import cbor2
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pycose.keys import OKPKey
from pycose.keys.curves import Ed25519
from pycose.messages import Sign1Message


def b64d(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def artefact(signed, jwk):
    raw = b64d(signed)
    x = b64d(jwk["x"])
    msg = Sign1Message.decode(raw)
    msg.key = OKPKey(crv=Ed25519, x=x)
    pycose_ok = msg.verify_signature()
    tag = cbor2.loads(raw)
    assert tag.tag == 18
    protected, unprotected, payload, sig = tag.value
    header = cbor2.loads(protected)
    assert header[1] == -8 and header[4] == jwk["kid"].encode(), header
    tbs = cbor2.dumps(["Signature1", protected, b"", payload])
    try:
        Ed25519PublicKey.from_public_bytes(x).verify(sig, tbs)
        raw_ok = True
    except Exception:
        raw_ok = False
    doc = json.loads(payload)
    return {"check": "artefact", "consent": doc["consent_id"], "pycose": bool(pycose_ok), "raw": raw_ok,
            "ok": bool(pycose_ok) and raw_ok}


def checkpoint(note, jwk):
    x = b64d(jwk["x"])
    body, _, sigs = note.partition("\n\n")
    body += "\n"
    origin, size, root_b64 = body.split("\n")[:3]
    want = hashlib.sha256(origin.encode() + b"\n\x01" + x).digest()[:4]
    ok = False
    for line in sigs.splitlines():
        name, blob = line[len("\u2014 "):].split(" ", 1)
        blob = base64.b64decode(blob)
        if name == origin and blob[:4] == want:
            try:
                Ed25519PublicKey.from_public_bytes(x).verify(blob[4:], body.encode())
                ok = True
            except Exception:
                ok = False
    return ok, int(size), base64.b64decode(root_b64)


def leaf(data):
    return hashlib.sha256(b"\x00" + data).digest()


def node(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def mth(leaves):
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = 1
    while k << 1 < n:
        k <<= 1
    return node(mth(leaves[:k]), mth(leaves[k:]))


def verify_inclusion(index, size, leaf_hash, proof, root):
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first, second, first_root, second_root, proof):
    if first > second:
        return False
    if first == second:
        return not proof and first_root == second_root
    if first == 0:
        return not proof
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node(c, fr)
            sr = node(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root


def main():
    with open(sys.argv[1]) as handle:
        job = json.load(handle)
    jwk = job["jwk"]
    results = []
    for signed in job["artefacts"]:
        try:
            results.append(artefact(signed, jwk))
        except Exception as error:
            results.append({"check": "artefact", "error": repr(error), "ok": False})
    cp_ok, size, root = checkpoint(job["checkpoint"], jwk)
    leaves = [leaf(bytes.fromhex(h)) for h in job["leaves"]]
    results.append({"check": "checkpoint", "ok": cp_ok and size == len(leaves) and mth(leaves) == root})
    for p in job["inclusion"]:
        proof = [bytes.fromhex(h) for h in p["proof"]]
        ok = p["size"] == size and verify_inclusion(p["index"], p["size"], leaves[p["index"]], proof, root)
        results.append({"check": "inclusion", "index": p["index"], "ok": ok})
    for p in job["consistency"]:
        proof = [bytes.fromhex(h) for h in p["proof"]]
        ok = p["second"] == size and verify_consistency(
            p["first"], p["second"], bytes.fromhex(p["first_root"]), root, proof)
        results.append({"check": "consistency", "first": p["first"], "ok": ok})
    failed = 0
    for r in results:
        failed += not r["ok"]
        print(json.dumps(r))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
