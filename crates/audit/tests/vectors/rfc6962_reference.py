"""Independent RFC 6962 reference (Python hashlib) used to produce the expected
values in tests/rfc6962_vectors.rs. Written straight from RFC 6962 §2.1; shares no
code with the Rust crate. Run: python3 tests/vectors/rfc6962_reference.py"""
import hashlib

def leaf(d): return hashlib.sha256(b"\x00" + d).digest()
def node(l, r): return hashlib.sha256(b"\x01" + l + r).digest()
def k_of(n):
    k = 1
    while k * 2 < n: k *= 2
    return k
def mth(ds):
    if not ds: return hashlib.sha256(b"").digest()
    if len(ds) == 1: return leaf(ds[0])
    k = k_of(len(ds)); return node(mth(ds[:k]), mth(ds[k:]))
def path(m, ds):
    if len(ds) <= 1: return []
    k = k_of(len(ds))
    if m < k: return path(m, ds[:k]) + [mth(ds[k:])]
    return path(m - k, ds[k:]) + [mth(ds[:k])]
def subproof(m, ds, b):
    n = len(ds)
    if m == n: return [] if b else [mth(ds)]
    k = k_of(n)
    if m <= k: return subproof(m, ds[:k], b) + [mth(ds[k:])]
    return subproof(m - k, ds[k:], False) + [mth(ds[:k])]

# The leaves used by the certificate-transparency test suites.
LEAVES = [bytes.fromhex(x) for x in [
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f"]]

print("empty", mth([]).hex())
for n in range(1, 9): print("root", n, mth(LEAVES[:n]).hex())
for (m, n) in [(0, 1), (0, 8), (5, 8), (2, 3), (1, 5)]:
    print("path", m, n, [h.hex() for h in path(m, LEAVES[:n])])
for (m, n) in [(1, 1), (1, 8), (6, 8), (2, 5), (3, 7)]:
    print("consistency", m, n, [h.hex() for h in subproof(m, LEAVES[:n], True)])
