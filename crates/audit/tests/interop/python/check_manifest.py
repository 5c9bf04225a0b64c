"""Verify a Sentinel provenance manifest with tools Sentinel did not write.

    python3 check_manifest.py <envelope.json> <ed25519-public-key-hex> <predicate-type>

- DSSE: securesystemslib's ``dsse.Envelope`` and an ``SSlibKey`` built from the raw
  public key by securesystemslib itself (so its default key id must match the one
  in the envelope).
- Statement: in-toto-attestation's ``Statement`` v1 protobuf binding and its
  ``validate()``, plus the checks the binding leaves out (64-hex sha256 digests,
  the expected predicate type and fields).

Exit status 0 and "ok" on success; 1 and "FAIL: <reason>" otherwise.
"""

import json
import re
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from google.protobuf import json_format
from in_toto_attestation.v1 import statement_pb2
from in_toto_attestation.v1.statement import Statement
from securesystemslib.dsse import Envelope
from securesystemslib.signer import SSlibKey

PAYLOAD_TYPE = "application/vnd.in-toto+json"
PREDICATE_FIELDS = ("actionType", "parametersDigest", "policyRevision", "approvals",
                    "inputProvenance", "audit")


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def main():
    if len(sys.argv) != 4:
        fail("usage: check_manifest.py <envelope.json> <pubkey-hex> <predicate-type>")
    env_path, pub_hex, predicate_type = sys.argv[1:]
    with open(env_path, encoding="utf-8") as f:
        envelope = Envelope.from_dict(json.load(f))

    key = SSlibKey.from_crypto(Ed25519PublicKey.from_public_bytes(bytes.fromhex(pub_hex)))
    try:
        envelope.verify([key], 1)
    except Exception as e:  # VerificationError, or a malformed signature
        fail("DSSE signature: %s: %s" % (type(e).__name__, e))
    if envelope.payload_type != PAYLOAD_TYPE:
        fail("payloadType %r" % envelope.payload_type)

    try:
        pb = json_format.Parse(envelope.payload.decode("utf-8"), statement_pb2.Statement())
        Statement.copy_from_pb(pb).validate()
    except Exception as e:
        fail("in-toto statement: %s: %s" % (type(e).__name__, e))

    stmt = json.loads(envelope.payload)
    for s in stmt["subject"]:
        if not re.fullmatch(r"[0-9a-f]{64}", s["digest"].get("sha256", "")):
            fail("subject %r lacks a sha256 digest" % s.get("name"))
    if stmt["predicateType"] != predicate_type:
        fail("predicateType %r" % stmt["predicateType"])
    missing = [k for k in PREDICATE_FIELDS if k not in stmt["predicate"]]
    if missing:
        fail("predicate lacks %s" % ", ".join(missing))
    print("ok: keyid %s, %d subjects" % (key.keyid, len(stmt["subject"])))


if __name__ == "__main__":
    main()
