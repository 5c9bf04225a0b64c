import { useMemo, useState } from 'react';
import { getJson, t, type Kill } from '../api';
import { useConsole } from '../context';
import { useEvents, useLoad } from '../hooks';
import { Alert, DataTable, Outcome, PageHead, Time } from '../components/bits';

interface Row {
  id: string;
  time: string;
  agent: string;
  tool: string;
  outcome: string;
  reasons?: string[];
}

interface DecisionRecord {
  decision_id: string;
  agent: string;
  tool: string;
  outcome: string;
  timestamp: string;
  result?: { reasons?: string[] };
}

const KEEP = 500;

/** Live decisions, counts by outcome, top agents and tools, active kills. */
export function Overview() {
  const { tenant } = useConsole();
  const [live, setLive] = useState<Row[]>([]);
  const history = useLoad(() => getJson<DecisionRecord[]>(`${t(tenant)}/decisions?limit=200`), [tenant]);
  const kills = useLoad(() => getJson<Kill[]>(`${t(tenant)}/kills`), [tenant]);

  const connected = useEvents({ types: 'decision.made,kill.activated,kill.restored', tenant }, (e) => {
    if (e.type === 'decision.made') {
      const d = e.data;
      setLive((rows) =>
        [
          { id: d.decision_id, time: e.time, agent: d.agent, tool: d.tool, outcome: d.outcome, reasons: d.reasons },
          ...rows,
        ].slice(0, KEEP),
      );
    } else if (e.type.startsWith('kill.')) {
      kills.reload();
    } else if (e.type === 'stream.gap') {
      history.reload();
      kills.reload();
    }
  });

  const rows = useMemo(() => {
    const seen = new Set(live.map((r) => r.id));
    const old = (history.data ?? [])
      .filter((d) => !seen.has(d.decision_id))
      .map((d) => ({
        id: d.decision_id,
        time: d.timestamp,
        agent: d.agent,
        tool: d.tool,
        outcome: d.outcome,
        reasons: d.result?.reasons,
      }));
    return [...live, ...old].slice(0, KEEP);
  }, [live, history.data]);

  const byOutcome = count(rows.map((r) => r.outcome));
  const topAgents = top(count(rows.map((r) => r.agent)));
  const topTools = top(count(rows.map((r) => r.tool)));
  const active = kills.data ?? [];

  return (
    <section aria-labelledby="overview-title">
      <PageHead id="overview-title" title="Overview" connected={connected} />
      <Alert error={history.error} />
      <div className="tiles" aria-label="Decisions by outcome">
        {['allow', 'deny', 'approval_required'].map((o) => (
          <div key={o} className={`tile outcome-${o}`}>
            <span className="tile-n" data-testid={`count-${o}`}>
              {byOutcome.get(o) ?? 0}
            </span>
            <span className="tile-label">{o.replace('_', ' ')}</span>
          </div>
        ))}
        <div className={`tile ${active.length ? 'tile-alert' : ''}`}>
          <span className="tile-n">{active.length}</span>
          <span className="tile-label">active kills</span>
        </div>
      </div>
      <p className="hint">Counts over the latest {rows.length} decisions (recorded history plus live).</p>

      <div className="grid2">
        <Ranking title="Top agents" entries={topAgents} />
        <Ranking title="Top tools" entries={topTools} />
      </div>

      <h2>Active kill switches</h2>
      {active.length === 0 ? (
        <p className="muted">None.</p>
      ) : (
        <ul className="kills">
          {active.map((k) => (
            <li key={k.id}>
              <strong>
                {k.scope} {k.scope !== 'tenant' && k.target}
              </strong>{' '}
              — {k.reason} <Time at={k.created_at} />
            </li>
          ))}
        </ul>
      )}

      <h2 id="live-title">Live decisions</h2>
      <DataTable
        labelledBy="live-title"
        columns={['Time', 'Agent', 'Tool', 'Outcome', 'Reasons']}
        bodyProps={{ 'aria-live': 'polite', 'aria-relevant': 'additions', 'data-testid': 'live-decisions' }}
      >
        {rows.slice(0, 50).map((r) => (
          <tr key={r.id}>
            <td>
              <Time at={r.time} />
            </td>
            <td>{r.agent}</td>
            <td>{r.tool}</td>
            <td>
              <Outcome value={r.outcome} />
            </td>
            <td className="reasons">{r.reasons?.join('; ')}</td>
          </tr>
        ))}
        {rows.length === 0 && (
          <tr>
            <td colSpan={5} className="muted">
              No decisions yet.
            </td>
          </tr>
        )}
      </DataTable>
    </section>
  );
}

function count(values: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
}

function top(m: Map<string, number>, n = 5): [string, number][] {
  return [...m.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, n);
}

function Ranking({ title, entries }: { title: string; entries: [string, number][] }) {
  const max = Math.max(1, ...entries.map((e) => e[1]));
  return (
    <div className="card">
      <h2>{title}</h2>
      {entries.length === 0 ? (
        <p className="muted">Nothing yet.</p>
      ) : (
        <ol className="ranking">
          {entries.map(([name, n]) => (
            <li key={name}>
              <span className="rank-name">{name}</span>
              <meter min={0} max={max} value={n} aria-label={`${name}: ${n} decisions`} />
              <span className="rank-n">{n}</span>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
