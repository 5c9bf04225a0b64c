import { describe, expect, it } from 'vitest';
import {
  b64encode,
  canonicalJson,
  checkSignature,
  leafHash,
  parseCheckpoint,
  parseVerifierKey,
  rootFromInclusionProof,
  verifyEntry,
} from './verify';

const subtle = globalThis.crypto.subtle;
const sha = async (...parts: Uint8Array[]) => {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return new Uint8Array(await subtle.digest('SHA-256', all));
};

// RFC 6962 §2.1 written out independently: MTH and PATH by recursion.
const split = (n: number) => 2 ** Math.floor(Math.log2(n - 1));
async function mth(leaves: Uint8Array[]): Promise<Uint8Array> {
  if (leaves.length === 1) return leaves[0];
  const k = split(leaves.length);
  return sha(new Uint8Array([1]), await mth(leaves.slice(0, k)), await mth(leaves.slice(k)));
}
async function path(m: number, leaves: Uint8Array[]): Promise<Uint8Array[]> {
  if (leaves.length === 1) return [];
  const k = split(leaves.length);
  return m < k
    ? [...(await path(m, leaves.slice(0, k))), await mth(leaves.slice(k))]
    : [...(await path(m - k, leaves.slice(k))), await mth(leaves.slice(0, k))];
}

describe('canonical JSON (RFC 8785)', () => {
  it('sorts keys, drops whitespace and writes numbers as ECMAScript does', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x\n'], c: { z: 1.5, y: 1e21 } })).toBe(
      '{"a":[true,null,"x\\n"],"b":1,"c":{"y":1e+21,"z":1.5}}',
    );
  });
});

describe('inclusion proofs', () => {
  it('lead to the root for every index of trees of size 1 to 9, and fail when doctored', async () => {
    for (let size = 1; size <= 9; size++) {
      const leaves = await Promise.all(Array.from({ length: size }, (_, i) => leafHash({ seq: i })));
      const root = await mth(leaves);
      for (let i = 0; i < size; i++) {
        const proof = await path(i, leaves);
        const got = await rootFromInclusionProof(BigInt(i), BigInt(size), leaves[i], proof);
        expect(got && b64encode(got)).toBe(b64encode(root));
        if (proof.length > 0) {
          const bad = proof.map((p) => p.slice());
          bad[0][0] ^= 1;
          const doctored = await rootFromInclusionProof(BigInt(i), BigInt(size), leaves[i], bad);
          expect(doctored && b64encode(doctored)).not.toBe(b64encode(root));
        }
        // The wrong index with the right proof does not verify either.
        if (size > 1) {
          const other = await rootFromInclusionProof(BigInt((i + 1) % size), BigInt(size), leaves[i], proof);
          expect(other && b64encode(other)).not.toBe(b64encode(root));
        }
      }
    }
  });

  it('refuses an index outside the tree', async () => {
    const leaf = await leafHash({});
    expect(await rootFromInclusionProof(3n, 3n, leaf, [])).toBeNull();
  });
});

/** A signed note as Sentinel's audit writer makes one: Ed25519 over the checkpoint text. */
async function signedCheckpoint(name: string, size: number, root: Uint8Array) {
  const keys = (await subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  const pub = new Uint8Array(await subtle.exportKey('raw', keys.publicKey));
  const keyBytes = new Uint8Array([1, ...pub]);
  const keyId = (await sha(new TextEncoder().encode(`${name}\n`), keyBytes)).slice(0, 4);
  const text = `${name}\n${size}\n${b64encode(root)}\n`;
  const sig = new Uint8Array(await subtle.sign({ name: 'Ed25519' }, keys.privateKey, new TextEncoder().encode(text)));
  const hex = [...keyId].map((b) => b.toString(16).padStart(2, '0')).join('');
  return {
    note: `${text}\n\u2014 ${name} ${b64encode(new Uint8Array([...keyId, ...sig]))}\n`,
    vkey: `${name}+${hex}+${b64encode(keyBytes)}`,
  };
}

describe('checkpoints', () => {
  it('parse and verify their Ed25519 signature; an edited note does not', async () => {
    const root = await leafHash({ seq: 0 });
    const { note, vkey } = await signedCheckpoint('sentinel.local/audit', 1, root);
    const cp = parseCheckpoint(note);
    expect(cp.size).toBe(1n);
    expect(cp.origin).toBe('sentinel.local/audit');
    expect(await checkSignature(cp, parseVerifierKey(vkey))).toBe('valid');
    const edited = parseCheckpoint(note.replace('\n1\n', '\n2\n'));
    expect(await checkSignature(edited, parseVerifierKey(vkey))).toBe('invalid');
    const other = await signedCheckpoint('sentinel.local/audit', 1, root);
    expect(await checkSignature(cp, parseVerifierKey(other.vkey))).toBe('invalid');
  });

  it('verify an entry end to end, and report a changed entry', async () => {
    const entries = [0, 1, 2].map((seq) => ({
      seq,
      kind: 'decision',
      details: { outcome: seq === 1 ? 'deny' : 'allow' },
    }));
    const leaves = await Promise.all(entries.map(leafHash));
    const { note, vkey } = await signedCheckpoint('sentinel.local/audit', 3, await mth(leaves));
    const proof = {
      index: 1,
      leaf_hash: b64encode(leaves[1]),
      entry: entries[1],
      tree_size: 3,
      inclusion_proof: (await path(1, leaves)).map(b64encode),
      checkpoint: note,
    };
    const good = await verifyEntry(proof, vkey);
    expect(good).toMatchObject({ leafMatches: true, included: true, signature: 'valid', verified: true });
    const changed = await verifyEntry({ ...proof, entry: { ...entries[1], details: { outcome: 'allow' } } }, vkey);
    expect(changed.verified).toBe(false);
    expect(changed.leafMatches).toBe(false);
  });
});
