import { useEffect, useState, type FormEvent } from 'react';
import { ApiError, getJson, getText, message, send } from '../api';
import { Alert, DataTable, Json, Outcome, PageHead } from '../components/bits';
import { useLoad } from '../hooks';
import { navigate } from '../router';
import {
  checkSignature,
  parseCheckpoint,
  parseVerifierKey,
  verifyEntry,
  type EntryProof,
  type ProofReport,
} from '../verify';

interface EntryView {
  index: number;
  kind: string;
  agent?: string | null;
  tool?: string | null;
  outcome?: string | null;
  leaf_hash: string;
  entry: { time?: string; actor?: string; [k: string]: unknown };
}

const KINDS = [
  '',
  'decision',
  'approval',
  'kill',
  'restore',
  'policy_activation',
  'key_change',
  'configuration',
  'execution_result',
  'provenance_manifest',
];

/** Search the audit log, verify an entry's inclusion proof in the browser, check the checkpoint, view manifests. */
export function Audit({ selected }: { selected?: number }) {
  const [filters, setFilters] = useState({ kind: '', agent: '', tool: '', outcome: '' });
  const [applied, setApplied] = useState(filters);
  const [cursor, setCursor] = useState<number | undefined>();
  const [pinned, setPinned] = useState('');

  const page = useLoad(() => {
    const q = new URLSearchParams({ limit: '50' });
    for (const [k, v] of Object.entries(applied)) if (v) q.set(k, v);
    if (cursor !== undefined) q.set('cursor', String(cursor));
    return getJson<{ items: EntryView[]; next_cursor?: number }>(`/v1/audit/entries?${q}`);
  }, [applied, cursor]);
  const serverKey = useLoad(() => getText('/v1/audit/verifier-key'), []);
  const verifierKey = pinned.trim() || serverKey.data?.trim() || '';

  const search = (e: FormEvent) => {
    e.preventDefault();
    setCursor(undefined);
    setApplied(filters);
  };

  return (
    <section aria-labelledby="audit-title">
      <PageHead id="audit-title" title="Audit" />

      {selected !== undefined && <EntryDetail index={selected} verifierKey={verifierKey} />}

      <div className="grid2">
        <CheckpointPanel verifierKey={verifierKey} />
        <div className="card">
          <h2>Verifier key</h2>
          <p className="hint">
            Proofs are checked against this key. The server's own is shown; paste one you obtained separately to pin it.
          </p>
          <label htmlFor="pinned-key">Pinned verifier key (optional)</label>
          <input
            id="pinned-key"
            value={pinned}
            onChange={(e) => setPinned(e.target.value)}
            placeholder={serverKey.data?.trim() ?? 'name+hash+key'}
            spellCheck={false}
          />
          <p className="mono small">
            {pinned.trim() ? 'using the pinned key' : `server key: ${serverKey.data?.trim() ?? '…'}`}
          </p>
        </div>
      </div>

      <h2 id="entries-title">Entries</h2>
      <form className="filters" onSubmit={search} aria-label="Search the audit log">
        <label>
          Kind
          <select value={filters.kind} onChange={(e) => setFilters({ ...filters, kind: e.target.value })}>
            {KINDS.map((k) => (
              <option key={k} value={k}>
                {k || 'any'}
              </option>
            ))}
          </select>
        </label>
        <label>
          Agent
          <input value={filters.agent} onChange={(e) => setFilters({ ...filters, agent: e.target.value })} />
        </label>
        <label>
          Tool
          <input value={filters.tool} onChange={(e) => setFilters({ ...filters, tool: e.target.value })} />
        </label>
        <label>
          Outcome
          <select value={filters.outcome} onChange={(e) => setFilters({ ...filters, outcome: e.target.value })}>
            {['', 'allow', 'deny', 'approval_required'].map((o) => (
              <option key={o} value={o}>
                {o || 'any'}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Search</button>
      </form>
      <Alert error={page.error} />
      <DataTable labelledBy="entries-title" columns={['Index', 'Time', 'Kind', 'Agent', 'Tool', 'Outcome']}>
        {(page.data?.items ?? []).map((e) => (
          <tr key={e.index}>
            <td>
              <a
                href={`/audit/${e.index}`}
                onClick={(ev) => {
                  ev.preventDefault();
                  navigate(`/audit/${e.index}`);
                }}
                aria-label={`Entry ${e.index}: open and verify`}
              >
                #{e.index}
              </a>
            </td>
            <td className="mono small">{e.entry.time}</td>
            <td>{e.kind}</td>
            <td>{e.agent}</td>
            <td>{e.tool}</td>
            <td>{e.outcome && <Outcome value={e.outcome} />}</td>
          </tr>
        ))}
      </DataTable>
      <div className="buttons">
        {cursor !== undefined && (
          <button type="button" onClick={() => setCursor(undefined)}>
            First page
          </button>
        )}
        {page.data?.next_cursor !== undefined && page.data?.next_cursor !== null && (
          <button type="button" onClick={() => setCursor(page.data!.next_cursor)}>
            Next page
          </button>
        )}
      </div>

      <ManifestViewer verifierKey={verifierKey} />
    </section>
  );
}

/** One entry with its proof, verified here; a 409 (not in a checkpoint yet) is retried. */
function EntryDetail({ index, verifierKey }: { index: number; verifierKey: string }) {
  const [proof, setProof] = useState<EntryProof>();
  const [report, setReport] = useState<ProofReport>();
  const [error, setError] = useState<string>();
  const [waiting, setWaiting] = useState(false);

  useEffect(() => {
    let live = true;
    setProof(undefined);
    setReport(undefined);
    setError(undefined);
    (async () => {
      for (let attempt = 0; attempt < 10 && live; attempt++) {
        try {
          const p = await getJson<EntryProof>(`/v1/audit/entries/${index}`);
          if (live) setProof(p);
          setWaiting(false);
          return;
        } catch (e) {
          if (e instanceof ApiError && e.code === 'not_checkpointed_yet') {
            setWaiting(true);
            await new Promise((r) => setTimeout(r, 700));
            continue;
          }
          if (live) setError(message(e));
          return;
        }
      }
    })();
    return () => {
      live = false;
    };
  }, [index]);

  useEffect(() => {
    if (!proof || !verifierKey) return;
    verifyEntry(proof, verifierKey).then(setReport, (e) => setError(message(e)));
  }, [proof, verifierKey]);

  return (
    <div className="card selected" aria-labelledby="entry-title">
      <h2 id="entry-title">Entry #{index}</h2>
      {waiting && <p role="status">Waiting for a checkpoint to cover this entry…</p>}
      <Alert error={error} />
      {report && <ProofResult report={report} />}
      {proof && (
        <>
          <dl className="facts">
            <dt>Leaf hash</dt>
            <dd className="mono small">{proof.leaf_hash}</dd>
            <dt>Tree size</dt>
            <dd>{proof.tree_size}</dd>
            <dt>Proof</dt>
            <dd>{proof.inclusion_proof.length} hashes</dd>
          </dl>
          <Json value={proof.entry} label={`Audit entry ${index}`} />
        </>
      )}
      <button type="button" className="link" onClick={() => navigate('/audit')}>
        Close
      </button>
    </div>
  );
}

export function ProofResult({ report }: { report: ProofReport }) {
  const sig =
    report.signature === 'valid'
      ? 'checkpoint signature valid (Ed25519)'
      : report.signature === 'unsupported'
        ? 'checkpoint signature NOT checked: this browser has no Ed25519 in WebCrypto'
        : 'checkpoint signature INVALID for this key';
  return (
    <div role="status" className={`verdict ${report.verified ? 'good' : 'bad'}`} data-testid="verdict">
      <strong>{report.verified ? 'Verified' : 'NOT verified'}</strong>
      <ul>
        <li>
          {report.leafMatches ? 'leaf hash recomputed from the entry matches' : 'leaf hash does NOT match the entry'}
        </li>
        <li>
          {report.included
            ? `inclusion proof leads to the root of the checkpoint of size ${report.treeSize}`
            : 'inclusion proof does NOT lead to the checkpoint root'}
        </li>
        <li>{sig}</li>
      </ul>
    </div>
  );
}

function CheckpointPanel({ verifierKey }: { verifierKey: string }) {
  const cp = useLoad(() => getText('/v1/audit/checkpoint'), []);
  const [sig, setSig] = useState<string>();
  useEffect(() => {
    if (!cp.data || !verifierKey) return;
    (async () => {
      try {
        const r = await checkSignature(parseCheckpoint(cp.data!), parseVerifierKey(verifierKey));
        setSig(r);
      } catch (e) {
        setSig(`error: ${message(e)}`);
      }
    })();
  }, [cp.data, verifierKey]);
  return (
    <div className="card">
      <h2>Checkpoint</h2>
      <Alert error={cp.error} />
      {cp.data && <pre className="json small">{cp.data}</pre>}
      {sig && (
        <p className={`verdict ${sig === 'valid' ? 'good' : 'bad'}`} role="status">
          {sig === 'valid'
            ? 'Signature valid (checked in this browser)'
            : sig === 'unsupported'
              ? 'Signature not checked: no Ed25519 in this browser'
              : `Signature ${sig}`}
        </p>
      )}
      <button type="button" onClick={cp.reload}>
        Refresh
      </button>
    </div>
  );
}

interface Envelope {
  payloadType: string;
  payload: string;
  signatures: { keyid?: string; sig: string }[];
}

/** A provenance manifest (DSSE envelope) by decision id or pasted; the server verifies it. */
function ManifestViewer({ verifierKey }: { verifierKey: string }) {
  const [decision, setDecision] = useState('');
  const [text, setText] = useState('');
  const [result, setResult] = useState<{ valid: boolean; error?: string | null } | null>(null);
  const [error, setError] = useState<string>();

  const load = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    setResult(null);
    try {
      const env = await getJson<Envelope>(`/v1/provenance/${encodeURIComponent(decision.trim())}`);
      setText(JSON.stringify(env, null, 2));
    } catch (err) {
      setError(message(err));
    }
  };
  const check = async () => {
    setError(undefined);
    try {
      setResult(await send('POST', '/v1/provenance/verify', JSON.parse(text)));
    } catch (err) {
      setError(message(err));
    }
  };
  let statement: unknown;
  try {
    const env = JSON.parse(text) as Envelope;
    statement = JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(env.payload), (c) => c.charCodeAt(0))));
  } catch {
    statement = undefined;
  }

  return (
    <div className="card">
      <h2 id="manifest-title">Provenance manifests</h2>
      <form className="filters" onSubmit={load}>
        <label>
          Decision id
          <input value={decision} onChange={(e) => setDecision(e.target.value)} spellCheck={false} />
        </label>
        <button type="submit" disabled={!decision.trim()}>
          Load manifest
        </button>
      </form>
      <label htmlFor="manifest-text">Manifest (DSSE envelope JSON)</label>
      <textarea id="manifest-text" rows={6} value={text} onChange={(e) => setText(e.target.value)} spellCheck={false} />
      <div className="buttons">
        <button type="button" onClick={check} disabled={!text.trim()}>
          Verify manifest
        </button>
      </div>
      <Alert error={error} />
      {result && (
        <p role="status" className={`verdict ${result.valid ? 'good' : 'bad'}`}>
          {result.valid ? 'Manifest valid (checked by the server)' : `Manifest invalid: ${result.error}`}
        </p>
      )}
      {statement !== undefined && (
        <details open>
          <summary>Statement</summary>
          <Json value={statement} label="in-toto statement" />
        </details>
      )}
      <p className="hint small">
        Offline: <code>sentinel manifest verify manifest.json --key verifier-key.txt</code> with the key{' '}
        <span className="mono">{verifierKey.split('+')[0]}</span>.
      </p>
    </div>
  );
}
