#!/usr/bin/env python3
"""Independent verifier for yuepin-code URIs (test peer).

Input: JSON file {"keys": {kid: x_base64url}, "codes": [uri, ...]}.
For each code it verifies the detached COSE_Sign1 twice: with pycose, and by hand with
cbor2 + cryptography (RFC 9052 Sig_structure). Prints one JSON line per code with the decoded
kid, issue day and status index, and exits 1 if any code fails.
"""
import base64
import json
import sys

import cbor2
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pycose.algorithms import EdDSA
from pycose.headers import Algorithm, KID
from pycose.keys import OKPKey
from pycose.keys.curves import Ed25519
from pycose.messages import Sign1Message


def b64d(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def check(uri, keys):
    unsigned, _, signature = uri.partition("?s=")
    cose = b64d(signature)
    # Untagged COSE_Sign1 (RFC 9052 §2): pycose wants the tag, so add 18.
    msg = Sign1Message.decode(cbor2.dumps(cbor2.CBORTag(18, cbor2.loads(cose))))
    kid = msg.phdr[KID].decode()
    x = b64d(keys[kid])
    msg.uhdr_update({Algorithm: EdDSA})
    msg.payload = unsigned.encode()
    msg.key = OKPKey(crv=Ed25519, x=x)
    pycose_ok = msg.verify_signature()

    protected, unprotected, payload, sig = cbor2.loads(cose)
    assert payload is None and unprotected == {}
    to_be_signed = cbor2.dumps(["Signature1", protected, b"", unsigned.encode()])
    try:
        Ed25519PublicKey.from_public_bytes(x).verify(sig, to_be_signed)
        raw_ok = True
    except Exception:
        raw_ok = False
    claims = cbor2.loads(protected)["c"]
    return {
        "uri": uri,
        "kid": kid,
        "day": int.from_bytes(claims[:2], "big"),
        "index": int.from_bytes(claims[2:], "big"),
        "pycose": bool(pycose_ok),
        "raw": raw_ok,
    }


def main():
    with open(sys.argv[1]) as handle:
        job = json.load(handle)
    failed = 0
    for uri in job["codes"]:
        try:
            result = check(uri, job["keys"])
        except Exception as error:  # report and continue
            result = {"uri": uri, "error": repr(error), "pycose": False, "raw": False}
        failed += not (result["pycose"] and result["raw"])
        print(json.dumps(result))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
