// Audit proofs checked in the browser, with WebCrypto only: the entry's RFC 6962 leaf hash from
// its canonical JSON, its inclusion proof up to the checkpoint's root, and the checkpoint's
// Ed25519 signed-note signature (C2SP signed-note / tlog-checkpoint), as `sentinel audit proof`
// and Go's sumdb/tlog do. Nothing here trusts the server's word for a hash.

const subtle = () => globalThis.crypto.subtle;

export const b64decode = (s: string): Uint8Array<ArrayBuffer> => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
export const b64encode = (b: Uint8Array): string => btoa(String.fromCharCode(...b));

async function sha256(...parts: Uint8Array[]): Promise<Uint8Array<ArrayBuffer>> {
  const len = parts.reduce((n, p) => n + p.length, 0);
  const all = new Uint8Array(len);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return new Uint8Array(await subtle().digest('SHA-256', all));
}

const equal = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * RFC 8785 canonical JSON of a parsed value: object keys sorted by UTF-16 code units, no
 * whitespace, and numbers and strings as ECMAScript serializes them (which is what JCS
 * specifies). Integers beyond 2^53 lose precision when parsed, so such an entry fails to verify
 * rather than verifying wrongly.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

/** RFC 6962 leaf hash: SHA-256(0x00 || entry). */
export async function leafHash(entry: unknown): Promise<Uint8Array> {
  return sha256(new Uint8Array([0]), new TextEncoder().encode(canonicalJson(entry)));
}

const node = (left: Uint8Array, right: Uint8Array) => sha256(new Uint8Array([1]), left, right);

/** The root an inclusion proof leads to (RFC 9162 §2.1.3.2), or null when the proof is malformed. */
export async function rootFromInclusionProof(
  index: bigint,
  size: bigint,
  leaf: Uint8Array,
  proof: Uint8Array[],
): Promise<Uint8Array | null> {
  if (index >= size) return null;
  let fn = index;
  let sn = size - 1n;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0n) return null;
    if ((fn & 1n) === 1n || fn === sn) {
      r = await node(p, r);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      r = await node(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n ? r : null;
}

export interface Checkpoint {
  origin: string;
  size: bigint;
  root: Uint8Array;
  /** The signed text: everything before the blank line, with its final newline. */
  text: string;
  signatures: { name: string; keyId: Uint8Array; sig: Uint8Array<ArrayBuffer> }[];
}

export function parseCheckpoint(note: string): Checkpoint {
  const split = note.indexOf('\n\n');
  if (split < 0) throw new Error('not a signed note: no blank line');
  const text = note.slice(0, split + 1);
  const [origin, size, root] = text.split('\n');
  if (!origin || !/^\d+$/.test(size ?? '') || !root) throw new Error('not a checkpoint');
  const signatures = note
    .slice(split + 2)
    .split('\n')
    .filter((l) => l.startsWith('\u2014 '))
    .map((l) => {
      const [, name, b64] = l.split(' ');
      const raw = b64decode(b64);
      return { name, keyId: raw.slice(0, 4), sig: raw.slice(4) };
    });
  return { origin, size: BigInt(size), root: b64decode(root), text, signatures };
}

export interface VerifierKey {
  name: string;
  keyId: Uint8Array;
  publicKey: Uint8Array<ArrayBuffer>;
}

/** `name+hexkeyid+base64(0x01 || key)`, the note verifier-key form. */
export function parseVerifierKey(vkey: string): VerifierKey {
  // The base64 key may itself contain '+': split at the first two only.
  const m = /^([^+]+)\+([0-9a-f]{8})\+(.+)$/.exec(vkey.trim());
  const [, name, hash, b64] = m ?? [];
  if (!name || !hash || !b64) throw new Error('not a verifier key (name+hash+key)');
  const raw = b64decode(b64);
  if (raw[0] !== 1 || raw.length !== 33) throw new Error('not an Ed25519 verifier key');
  const keyId = Uint8Array.from(hash.match(/../g) ?? [], (h) => parseInt(h, 16));
  return { name, keyId, publicKey: raw.slice(1) };
}

export type SignatureCheck = 'valid' | 'invalid' | 'unsupported';

/** Checks the checkpoint's signature by `key`; 'unsupported' when WebCrypto lacks Ed25519. */
export async function checkSignature(cp: Checkpoint, key: VerifierKey): Promise<SignatureCheck> {
  const sig = cp.signatures.find((s) => s.name === key.name && equal(s.keyId, key.keyId));
  if (!sig || cp.origin !== key.name) return 'invalid';
  let cryptoKey: CryptoKey;
  try {
    cryptoKey = await subtle().importKey('raw', key.publicKey, { name: 'Ed25519' }, false, ['verify']);
  } catch {
    return 'unsupported';
  }
  const ok = await subtle().verify({ name: 'Ed25519' }, cryptoKey, sig.sig, new TextEncoder().encode(cp.text));
  return ok ? 'valid' : 'invalid';
}

export interface EntryProof {
  index: number;
  leaf_hash: string;
  entry: unknown;
  tree_size: number;
  inclusion_proof: string[];
  checkpoint: string;
}

export interface ProofReport {
  leafMatches: boolean;
  included: boolean;
  signature: SignatureCheck;
  treeSize: string;
  root: string;
  /** Everything that was checked holds (the signature may be unsupported, never invalid). */
  verified: boolean;
}

/** The whole check of one entry, as `sentinel audit proof` does it. */
export async function verifyEntry(p: EntryProof, verifierKey: string): Promise<ProofReport> {
  const cp = parseCheckpoint(p.checkpoint);
  const leaf = await leafHash(p.entry);
  const leafMatches = b64encode(leaf) === p.leaf_hash;
  const root = await rootFromInclusionProof(BigInt(p.index), cp.size, leaf, p.inclusion_proof.map(b64decode));
  const included = root !== null && equal(root, cp.root) && BigInt(p.tree_size) === cp.size;
  const signature = await checkSignature(cp, parseVerifierKey(verifierKey));
  return {
    leafMatches,
    included,
    signature,
    treeSize: cp.size.toString(),
    root: b64encode(cp.root),
    verified: leafMatches && included && signature !== 'invalid',
  };
}
