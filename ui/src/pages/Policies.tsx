import { useEffect, useState } from 'react';
import { can, getJson, message, send, t } from '../api';
import { RegoEditor } from '../components/RegoEditor';
import { Alert, DataTable, PageHead, Time } from '../components/bits';
import { useConsole } from '../context';
import { useLoad } from '../hooks';

interface Overview {
  bundle: string;
  active: string | null;
  shadow: string | null;
  revisions: string[];
  activations: { revision: string; activated_by: string; activated_at: string }[];
}
interface Bundle {
  modules: Record<string, string>;
  data: unknown;
}
interface SourceError {
  file: string;
  line: number;
  col: number;
  message: string;
}
interface TestRun {
  passed: number;
  failed: number;
  errored: number;
  tests: { name: string; outcome: string; message?: string }[];
}
interface Simulation {
  candidate: string;
  evaluated: number;
  before: Record<string, number>;
  after: Record<string, number>;
  changed: {
    decision_id: string;
    agent: string;
    tool: string;
    before: string;
    after: string;
    reasons_after: string[];
  }[];
  rules_never_fired: { file: string; line: number; head: string }[];
}

type Result =
  | { kind: 'validate'; valid: boolean; revision: string; errors: SourceError[] }
  | ({ kind: 'test' } & TestRun)
  | ({ kind: 'simulate' } & Simulation)
  | { kind: 'message'; text: string };

const short = (rev: string | null | undefined) => (rev ? rev.replace('sha256:', '').slice(0, 12) : '—');

/** Edit the tenant's bundle; validate, test and simulate it; push, activate and roll back. */
export function Policies() {
  const { tenant, role } = useConsole();
  const mayManage = can(role, 'manage');
  const base = `${t(tenant)}/policies`;
  const overview = useLoad(() => getJson<Overview>(base), [tenant]);
  const [bundle, setBundle] = useState<Bundle>({ modules: {}, data: {} });
  const [dataText, setDataText] = useState('{}');
  const [file, setFile] = useState('');
  const [result, setResult] = useState<Result>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const loadRevision = async (rev: string) => {
    setError(undefined);
    try {
      const r = await getJson<{ bundle: Bundle }>(`${base}/${encodeURIComponent(rev)}`);
      setBundle(r.bundle);
      setDataText(JSON.stringify(r.bundle.data ?? {}, null, 2));
      setFile(Object.keys(r.bundle.modules)[0] ?? '');
    } catch (e) {
      setError(message(e));
    }
  };

  useEffect(() => {
    const rev = overview.data?.active ?? overview.data?.revisions.at(-1);
    if (rev && !file) void loadRevision(rev);
    // When the overview arrives: `file` is read here, not watched.
  }, [overview.data]);

  const current = (): Bundle => {
    let data: unknown;
    try {
      data = JSON.parse(dataText || '{}');
    } catch {
      throw new Error('The data is not valid JSON.');
    }
    return { modules: bundle.modules, data };
  };

  const run = async (what: () => Promise<Result>) => {
    setBusy(true);
    setError(undefined);
    try {
      setResult(await what());
    } catch (e) {
      setError(message(e));
    } finally {
      setBusy(false);
    }
  };

  const validate = () =>
    run(async () => ({
      kind: 'validate',
      ...(await send<{ valid: boolean; revision: string; errors: SourceError[] }>(
        'POST',
        `${base}/validate`,
        current(),
      )),
    }));
  const test = () => run(async () => ({ kind: 'test', ...(await send<TestRun>('POST', `${base}/test`, current())) }));
  const simulate = () =>
    run(async () => ({
      kind: 'simulate',
      ...(await send<Simulation>('POST', `${base}/simulate`, { bundle: current(), last: 1000 })),
    }));
  const push = () =>
    run(async () => {
      const r = await send<{ revision?: string }>('POST', `${base}?activate=true`, current());
      overview.reload();
      return { kind: 'message', text: `Pushed and activated ${short(r?.revision)}.` };
    });
  const activate = (rev: string) =>
    run(async () => {
      await send('POST', `${base}/${encodeURIComponent(rev)}/activate`);
      overview.reload();
      return { kind: 'message', text: `Activated ${short(rev)}.` };
    });
  const rollback = () =>
    run(async () => {
      await send('POST', `${base}/rollback`);
      overview.reload();
      return { kind: 'message', text: 'Rolled back to the previous revision.' };
    });

  const files = Object.keys(bundle.modules);
  const ov = overview.data;

  return (
    <section aria-labelledby="policies-title">
      <PageHead id="policies-title" title="Policies" />
      <Alert error={overview.error} />
      {ov && (
        <dl className="facts">
          <dt>Bundle</dt>
          <dd>{ov.bundle}</dd>
          <dt>Active</dt>
          <dd className="mono">{short(ov.active)}</dd>
          <dt>Shadow</dt>
          <dd className="mono">{short(ov.shadow)}</dd>
        </dl>
      )}

      <div className="editor-grid">
        <div>
          <div className="tabs" role="group" aria-label="Modules">
            {files.map((f) => (
              <button key={f} type="button" aria-pressed={f === file} onClick={() => setFile(f)}>
                {f}
              </button>
            ))}
          </div>
          {mayManage && (
            <NewModule
              onAdd={(name) => {
                if (!bundle.modules[name])
                  setBundle({ ...bundle, modules: { ...bundle.modules, [name]: 'package sentinel\n' } });
                setFile(name);
              }}
            />
          )}
          {file ? (
            <RegoEditor
              id="rego"
              label={`Rego module ${file}`}
              value={bundle.modules[file] ?? ''}
              onChange={(v) => setBundle({ ...bundle, modules: { ...bundle.modules, [file]: v } })}
            />
          ) : (
            <p className="muted">
              No policy yet. Push one with <code>sentinel policy push</code>.
            </p>
          )}
          <label htmlFor="bundle-data">Bundle data (JSON)</label>
          <textarea
            id="bundle-data"
            className="mono"
            rows={5}
            value={dataText}
            onChange={(e) => setDataText(e.target.value)}
            spellCheck={false}
          />
          <div className="buttons">
            <button type="button" onClick={validate} disabled={busy || !files.length}>
              Validate
            </button>
            <button type="button" onClick={test} disabled={busy || !files.length}>
              Run tests
            </button>
            <button type="button" onClick={simulate} disabled={busy || !files.length}>
              Simulate against history
            </button>
            {mayManage && (
              <button type="button" className="ok" onClick={push} disabled={busy || !files.length}>
                Push and activate
              </button>
            )}
          </div>
          <Alert error={error} />
          <div aria-live="polite">{result && <ResultView result={result} />}</div>
        </div>

        <aside className="card" aria-labelledby="revisions-title">
          <h2 id="revisions-title">Revisions</h2>
          <ul className="revisions">
            {[...(ov?.revisions ?? [])].reverse().map((rev) => (
              <li key={rev}>
                <span className="mono">{short(rev)}</span>
                {rev === ov?.active && <span className="badge outcome-allow">active</span>}
                <button
                  type="button"
                  className="link"
                  onClick={() => loadRevision(rev)}
                  aria-label={`Open revision ${short(rev)}`}
                >
                  open
                </button>
                {mayManage && rev !== ov?.active && (
                  <button
                    type="button"
                    className="link"
                    onClick={() => activate(rev)}
                    aria-label={`Activate revision ${short(rev)}`}
                  >
                    activate
                  </button>
                )}
              </li>
            ))}
          </ul>
          {mayManage && (ov?.activations.length ?? 0) > 1 && (
            <button type="button" onClick={rollback} disabled={busy}>
              Roll back
            </button>
          )}
          <h3>Activations</h3>
          <ol className="small">
            {[...(ov?.activations ?? [])]
              .reverse()
              .slice(0, 10)
              .map((a) => (
                <li key={a.activated_at + a.revision}>
                  <span className="mono">{short(a.revision)}</span> <Time at={a.activated_at} />
                </li>
              ))}
          </ol>
        </aside>
      </div>
    </section>
  );
}

/** "+ module" → a file name field; adds an empty module to the bundle being edited. */
function NewModule({ onAdd }: { onAdd: (name: string) => void }) {
  const [open, setOpen] = useState(false);
  const [name, setName] = useState('');
  if (!open)
    return (
      <button type="button" className="link" onClick={() => setOpen(true)}>
        + module
      </button>
    );
  const valid = /^[\w.-]+\.rego$/.test(name);
  return (
    <form
      className="inline-form"
      aria-label="New module"
      onSubmit={(e) => {
        e.preventDefault();
        if (!valid) return;
        onAdd(name);
        setOpen(false);
        setName('');
      }}
    >
      <label htmlFor="new-module">File name</label>
      <input
        id="new-module"
        value={name}
        onChange={(e) => setName(e.target.value)}
        placeholder="extra.rego"
        autoFocus
      />
      <button type="submit" disabled={!valid}>
        Add
      </button>
      <button type="button" onClick={() => setOpen(false)}>
        Cancel
      </button>
    </form>
  );
}

export function ResultView({ result }: { result: Result }) {
  if (result.kind === 'message') return <p className="notice">{result.text}</p>;
  if (result.kind === 'validate')
    return result.valid ? (
      <p className="verdict good">
        Valid — revision <span className="mono">{short(result.revision)}</span>
      </p>
    ) : (
      <div className="verdict bad">
        <strong>Invalid</strong>
        <ul>
          {result.errors.map((e, i) => (
            <li key={i}>
              {e.file}:{e.line}:{e.col}: {e.message}
            </li>
          ))}
        </ul>
      </div>
    );
  if (result.kind === 'test')
    return (
      <div className={`verdict ${result.failed + result.errored === 0 ? 'good' : 'bad'}`}>
        <strong>
          {result.passed} passed, {result.failed} failed, {result.errored} errored
        </strong>
        <ul>
          {result.tests
            .filter((x) => x.outcome !== 'pass' && x.outcome !== 'passed')
            .map((x) => (
              <li key={x.name}>
                {x.name}: {x.outcome} {x.message}
              </li>
            ))}
        </ul>
      </div>
    );
  const outcomes = [...new Set([...Object.keys(result.before), ...Object.keys(result.after)])].sort();
  return (
    <div className="card">
      <h3>Simulation over {result.evaluated} recorded decisions</h3>
      <DataTable columns={['Outcome', 'Recorded', 'Candidate']}>
        {outcomes.map((o) => (
          <tr key={o}>
            <th scope="row">{o}</th>
            <td>{result.before[o] ?? 0}</td>
            <td>{result.after[o] ?? 0}</td>
          </tr>
        ))}
      </DataTable>
      <h4>{result.changed.length} changed decisions</h4>
      {result.changed.length > 0 && (
        <DataTable columns={['Agent', 'Tool', 'Before', 'After', 'Why now']}>
          {result.changed.map((c) => (
            <tr key={c.decision_id}>
              <td>{c.agent}</td>
              <td>{c.tool}</td>
              <td className="diff-del">{c.before}</td>
              <td className="diff-add">{c.after}</td>
              <td>{c.reasons_after.join('; ')}</td>
            </tr>
          ))}
        </DataTable>
      )}
      {result.rules_never_fired.length > 0 && (
        <>
          <h4>Rules no recorded input triggered</h4>
          <ul className="small mono">
            {result.rules_never_fired.map((r) => (
              <li key={`${r.file}:${r.line}`}>
                {r.file}:{r.line} {r.head}
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}
