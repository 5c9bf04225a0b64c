import { useState } from 'react';
import { ApiError, can, getJson, items, message, send, t, type Agent, type Kill, type Page, type Tool } from '../api';
import { KillButton } from '../components/KillButton';
import { Alert, DataTable, NotEnabled, PageHead, Risk, Time } from '../components/bits';
import { useConsole } from '../context';
import { useEvents, useLoad } from '../hooks';

interface McpServer {
  name: string;
  status?: string;
  url?: string | null;
  transport?: string;
  [k: string]: unknown;
}

/** MCP servers come with the MCP gateway (issue 7); a 404 means this server has none yet. */
async function mcpServers(tenant: string): Promise<McpServer[] | 'not-enabled'> {
  try {
    return items(await getJson<Page<McpServer> | McpServer[]>(`${t(tenant)}/mcp/servers`));
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return 'not-enabled';
    throw e;
  }
}

/** Agents, tools and MCP servers, with their status, and the kill switch. */
export function Inventory() {
  const { tenant, role } = useConsole();
  const mayKill = can(role, 'kill');
  const agents = useLoad(() => getJson<Page<Agent> | Agent[]>(`${t(tenant)}/agents?limit=500`).then(items), [tenant]);
  const tools = useLoad(() => getJson<Page<Tool> | Tool[]>(`${t(tenant)}/tools?limit=500`).then(items), [tenant]);
  const kills = useLoad(() => getJson<Kill[]>(`${t(tenant)}/kills`), [tenant]);
  const servers = useLoad(() => mcpServers(tenant), [tenant]);
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState('');

  const refresh = () => {
    agents.reload();
    tools.reload();
    kills.reload();
  };
  useEvents({ types: 'kill.activated,kill.restored', tenant }, refresh);

  const active = kills.data ?? [];
  const killOf = (scope: string, target: string) => active.find((k) => k.scope === scope && k.target === target);

  const restore = async (k: Kill) => {
    setError(undefined);
    try {
      await send('POST', `${t(tenant)}/restore`, { kill_id: k.id });
      setNotice(`Restored ${k.scope} ${k.target}.`);
      refresh();
    } catch (e) {
      setError(message(e));
    }
  };

  const killed = (what: string) => () => {
    setNotice(`Killed ${what}.`);
    refresh();
  };

  const killCell = (scope: Kill['scope'], target: string) => {
    const k = killOf(scope, target);
    if (!mayKill) return k ? <span className="badge outcome-deny">killed</span> : null;
    return k ? (
      <button type="button" onClick={() => restore(k)} aria-label={`Restore ${scope} ${target}`}>
        Restore
      </button>
    ) : (
      <KillButton tenant={tenant} scope={scope} target={target} onDone={killed(`${scope} ${target}`)} />
    );
  };

  const tenantKill = killOf('tenant', tenant) ?? active.find((k) => k.scope === 'tenant');

  return (
    <section aria-labelledby="inv-title">
      <PageHead id="inv-title" title="Inventory">
        {mayKill &&
          (tenantKill ? (
            <button type="button" onClick={() => restore(tenantKill)}>
              Restore tenant
            </button>
          ) : (
            <KillButton tenant={tenant} scope="tenant" onDone={killed('the tenant')} />
          ))}
      </PageHead>
      <p className="sr-only" role="status" aria-live="polite">
        {notice}
      </p>
      {notice && <p className="notice">{notice}</p>}
      <Alert error={error} />

      <h2 id="agents-title">Agents</h2>
      <Alert error={agents.error} />
      <DataTable labelledBy="agents-title" columns={['Name', 'Status', 'Framework', 'Owner', 'Labels', 'Kill switch']}>
        {(agents.data ?? []).map((a) => (
          <tr key={a.id} data-testid={`agent-${a.name}`}>
            <th scope="row">{a.name}</th>
            <td>
              <span className={`badge status-${a.status}`}>{a.status}</span>
            </td>
            <td>{a.framework}</td>
            <td>{a.owner}</td>
            <td>
              {Object.entries(a.labels ?? {})
                .map(([k, v]) => `${k}=${v}`)
                .join(', ')}
            </td>
            <td>{killCell('agent', a.name)}</td>
          </tr>
        ))}
        {agents.data?.length === 0 && (
          <tr>
            <td colSpan={6} className="muted">
              No agents.
            </td>
          </tr>
        )}
      </DataTable>

      <h2 id="tools-title">Tools</h2>
      <Alert error={tools.error} />
      <DataTable labelledBy="tools-title" columns={['Name', 'Server', 'Risk', 'Active', 'Pinning', 'Kill switch']}>
        {(tools.data ?? []).map((tool) => (
          <tr key={tool.id}>
            <th scope="row">{tool.name}</th>
            <td>{tool.server}</td>
            <td>
              <Risk value={tool.risk} />
            </td>
            <td>{tool.is_active ? 'yes' : 'no'}</td>
            <td>{pinning(tool)}</td>
            <td>{killCell('tool', tool.name)}</td>
          </tr>
        ))}
        {tools.data?.length === 0 && (
          <tr>
            <td colSpan={6} className="muted">
              No tools.
            </td>
          </tr>
        )}
      </DataTable>

      <h2 id="mcp-title">MCP servers</h2>
      <Alert error={servers.error} />
      {servers.data === 'not-enabled' ? (
        <NotEnabled what="The MCP gateway" />
      ) : (
        <DataTable labelledBy="mcp-title" columns={['Name', 'Status', 'Where', 'Pinning']}>
          {(servers.data ?? []).map((s) => (
            <tr key={s.name}>
              <th scope="row">{s.name}</th>
              <td>{s.status}</td>
              <td>{s.url ?? s.transport}</td>
              <td>{pinning(s)}</td>
            </tr>
          ))}
        </DataTable>
      )}

      <h2 id="kills-title">Active kill switches</h2>
      {active.length === 0 ? (
        <p className="muted">None.</p>
      ) : (
        <ul className="kills" aria-labelledby="kills-title">
          {active.map((k) => (
            <li key={k.id}>
              <strong>
                {k.scope} {k.target}
              </strong>{' '}
              — {k.reason} <Time at={k.created_at} />{' '}
              {mayKill && (
                <button type="button" onClick={() => restore(k)}>
                  Restore
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** Whatever pinning state the record carries (the MCP gateway adds it); "—" when none. */
function pinning(record: Record<string, unknown>): string {
  const meta = (record.metadata ?? {}) as Record<string, unknown>;
  const v = record.pinning ?? record.pinned ?? meta.pinning ?? meta.pinned;
  if (v === undefined || v === null) return '—';
  if (typeof v === 'boolean') return v ? 'pinned' : 'not pinned';
  return typeof v === 'string' ? v : JSON.stringify(v);
}
