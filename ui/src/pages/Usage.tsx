import { ApiError, getJson } from '../api';
import { LineChart, type Series } from '../components/Chart';
import { Alert, NotEnabled, PageHead } from '../components/bits';
import { useConsole } from '../context';
import { useLoad } from '../hooks';

/** One row of `GET /v1/usage?group_by=agent&period=day`. The LLM gateway (issue 8) defines the
 * API; until it lands this reads the likely field names and shows "not enabled" on a 404. */
type UsageRow = Record<string, unknown>;

export interface UsagePoint {
  agent: string;
  day: string;
  cost: number;
  tokens?: number;
}

const pick = (r: UsageRow, names: string[]) => names.map((n) => r[n]).find((v) => v !== undefined && v !== null);

export function normalizeUsage(body: unknown): UsagePoint[] {
  const rows: UsageRow[] = Array.isArray(body)
    ? body
    : ((body as { items?: UsageRow[]; rows?: UsageRow[]; usage?: UsageRow[] })?.items ??
      (body as { rows?: UsageRow[] })?.rows ??
      (body as { usage?: UsageRow[] })?.usage ??
      []);
  return rows.map((r) => ({
    agent: String(pick(r, ['agent', 'group', 'key', 'name']) ?? '—'),
    day: String(pick(r, ['period', 'day', 'date', 'bucket', 'period_start']) ?? '').slice(0, 10),
    cost: Number(pick(r, ['cost_usd', 'cost', 'usd', 'spend_usd']) ?? 0),
    tokens: Number(pick(r, ['total_tokens', 'tokens']) ?? NaN) || undefined,
  }));
}

export function toSeries(points: UsagePoint[]): { labels: string[]; series: Series[] } {
  const labels = [...new Set(points.map((p) => p.day))].sort();
  const agents = [...new Set(points.map((p) => p.agent))].sort();
  const series = agents.map((agent) => ({
    name: agent,
    values: labels.map((day) =>
      points.filter((p) => p.agent === agent && p.day === day).reduce((sum, p) => sum + p.cost, 0),
    ),
  }));
  return { labels, series };
}

async function load(tenant: string): Promise<UsagePoint[] | 'not-enabled'> {
  try {
    const q = new URLSearchParams({ tenant, group_by: 'agent', period: 'day' });
    return normalizeUsage(await getJson<unknown>(`/v1/usage?${q}`));
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return 'not-enabled';
    throw e;
  }
}

/** LLM cost per agent per day, as a chart and a table. */
export function Usage() {
  const { tenant } = useConsole();
  const usage = useLoad(() => load(tenant), [tenant]);
  const data = usage.data;
  return (
    <section aria-labelledby="usage-title">
      <PageHead id="usage-title" title="Usage" />
      <Alert error={usage.error} />
      {data === 'not-enabled' && <NotEnabled what="LLM usage (the LLM gateway)" />}
      {Array.isArray(data) && data.length === 0 && <p className="muted">No LLM usage recorded yet.</p>}
      {Array.isArray(data) && data.length > 0 && <UsageView points={data} />}
    </section>
  );
}

function UsageView({ points }: { points: UsagePoint[] }) {
  const { labels, series } = toSeries(points);
  const totals = series.map((s) => ({ name: s.name, total: s.values.reduce((a, b) => a + b, 0) }));
  return (
    <>
      <LineChart title="LLM cost per agent per day (USD)" labels={labels} series={series} unit="$" />
      <div className="table-wrap">
        <table>
          <caption>Total cost per agent</caption>
          <thead>
            <tr>
              <th scope="col">Agent</th>
              <th scope="col">Cost (USD)</th>
            </tr>
          </thead>
          <tbody>
            {totals.map((r) => (
              <tr key={r.name}>
                <th scope="row">{r.name}</th>
                <td>{r.total.toFixed(4)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
