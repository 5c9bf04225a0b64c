import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { ReactNode } from 'react';
import { session, type Approval, type Role, type WhoAmI } from '../api';
import { ConsoleContext } from '../context';
import { stubFetch } from '../test-support';
import { Login } from './Login';
import { Approvals } from './Approvals';
import { Inventory } from './Inventory';
import { Usage, normalizeUsage, toSeries } from './Usage';

afterEach(() => {
  cleanup();
  sessionStorage.clear();
});

const acme = { id: 't1', slug: 'acme' };
const as = (role: Role, children: ReactNode) => {
  const who: WhoAmI = { key_id: 'k1', role, tenant: acme, agent: null };
  return <ConsoleContext.Provider value={{ who, role, tenant: 'acme' }}>{children}</ConsoleContext.Provider>;
};

describe('Login', () => {
  it('refuses an agent key with a clear message and stores nothing', async () => {
    stubFetch({
      'GET /v1/whoami': { body: { key_id: 'k', role: 'agent', tenant: acme, agent: { id: 'a', name: 'bot' } } },
    });
    let signedIn = false;
    render(<Login onLogin={() => (signedIn = true)} />);
    fireEvent.change(screen.getByLabelText('API key'), { target: { value: 'snt_agent' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('alert')).toHaveProperty('textContent', expect.stringContaining('agent key'));
    expect(signedIn).toBe(false);
    expect(session.get()).toBeNull();
  });

  it('signs an operator in, sending the key only as a Bearer header', async () => {
    const calls = stubFetch({
      'GET /v1/whoami': { body: { key_id: 'k', role: 'operator', tenant: acme, agent: null } },
    });
    let who: WhoAmI | undefined;
    render(<Login onLogin={(w) => (who = w)} />);
    fireEvent.change(screen.getByLabelText('API key'), { target: { value: 'snt_op' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    await waitFor(() => expect(who?.role).toBe('operator'));
    expect(calls[0].headers.get('authorization')).toBe('Bearer snt_op');
    expect(calls[0].path).not.toContain('snt_op');
    expect(session.get()).toBe('snt_op');
  });

  it('says so when the server does not know the key', async () => {
    stubFetch({ 'GET /v1/whoami': { status: 401, body: { code: 'unauthorized', detail: 'unknown key' } } });
    render(<Login onLogin={() => {}} />);
    fireEvent.change(screen.getByLabelText('API key'), { target: { value: 'snt_nope' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/does not know this key/);
  });
});

const pending: Approval = {
  id: 'ap1',
  tenant_id: 't1',
  agent: 'sre-bot',
  tool: 'rollback_deployment',
  action: {
    kind: 'tool_call',
    target: { tool: 'rollback_deployment' },
    arguments: { service: 'payments-api', to: 'v41' },
  },
  reasons: ['rollback_deployment is CRITICAL and needs a human'],
  risk: 'critical',
  status: 'pending',
  required_approvals: 1,
  votes: [],
  created_at: '2026-11-22T05:00:00Z',
  expires_at: '2026-11-22T05:15:00Z',
};

describe('Approvals', () => {
  it('shows the full action and reasons, and approves with a reason', async () => {
    let answered: unknown;
    stubFetch({
      'GET /v1/tenants/acme/approvals': { body: { items: [pending] } },
      'POST /v1/approvals/ap1/decision': (init) => {
        answered = JSON.parse(String(init.body));
        return { body: { ...pending, status: 'approved' } };
      },
    });
    render(as('operator', <Approvals />));
    const card = await screen.findByRole('article', { name: 'sre-bot → rollback_deployment' });
    expect(card.textContent).toContain('needs a human');
    expect(card.textContent).toContain('payments-api');
    const approve = screen.getByRole('button', { name: 'Approve' });
    expect(approve).toHaveProperty('disabled', true); // a reason is required first
    fireEvent.change(screen.getByLabelText('Reason'), { target: { value: 'CHG-981' } });
    fireEvent.click(approve);
    await waitFor(() => expect(answered).toEqual({ granted: true, reason: 'CHG-981' }));
  });

  it('is read-only for an auditor', async () => {
    stubFetch({ 'GET /v1/tenants/acme/approvals': { body: { items: [pending] } } });
    render(as('auditor', <Approvals />));
    await screen.findByRole('article', { name: 'sre-bot → rollback_deployment' });
    expect(screen.queryByRole('button', { name: 'Approve' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Deny' })).toBeNull();
  });

  it('opens the request a notification links to', async () => {
    stubFetch({
      'GET /v1/tenants/acme/approvals': { body: { items: [] } },
      'GET /v1/approvals/ap1': { body: pending },
    });
    render(as('operator', <Approvals selected="ap1" />));
    expect(await screen.findByRole('heading', { name: 'Request ap1' })).toBeTruthy();
    expect(await screen.findByRole('article', { name: 'sre-bot → rollback_deployment' })).toBeTruthy();
  });
});

describe('Inventory', () => {
  const routes = {
    'GET /v1/tenants/acme/agents': {
      body: { items: [{ id: 'a1', name: 'sre-bot', status: 'active', labels: { team: 'sre' } }] },
    },
    'GET /v1/tenants/acme/tools': { body: { items: [] } },
    'GET /v1/tenants/acme/kills': { body: [] },
  };

  it('kills an agent with a reason; the MCP section says the gateway is not enabled on a 404', async () => {
    let killed: unknown;
    stubFetch({
      ...routes,
      'POST /v1/tenants/acme/kill': (init) => {
        killed = JSON.parse(String(init.body));
        return { status: 201, body: {} };
      },
    });
    render(as('operator', <Inventory />));
    expect((await screen.findByTestId('not-enabled')).textContent).toMatch(/not enabled on this server/);
    fireEvent.click(await screen.findByRole('button', { name: 'Kill agent sre-bot' }));
    fireEvent.change(screen.getByLabelText('Reason'), { target: { value: 'runaway loop' } });
    fireEvent.click(screen.getByRole('button', { name: 'Confirm kill' }));
    await waitFor(() => expect(killed).toEqual({ scope: 'agent', target: 'sre-bot', reason: 'runaway loop' }));
  });

  it('hides the kill switch from an auditor', async () => {
    stubFetch(routes);
    render(as('auditor', <Inventory />));
    await screen.findByText('sre-bot');
    expect(screen.queryByRole('button', { name: /Kill/ })).toBeNull();
  });
});

describe('Usage', () => {
  it('says LLM usage is not enabled when the endpoint is a 404', async () => {
    stubFetch({});
    render(as('admin', <Usage />));
    expect((await screen.findByTestId('not-enabled')).textContent).toMatch(/not enabled on this server/);
  });

  it('draws one line per agent over days', async () => {
    stubFetch({
      'GET /v1/usage': {
        body: {
          items: [
            { agent: 'a', period: '2026-11-20', cost_usd: 1.5 },
            { agent: 'b', period: '2026-11-21', cost_usd: 0.25 },
            { agent: 'a', period: '2026-11-21', cost_usd: 2 },
          ],
        },
      },
    });
    render(as('admin', <Usage />));
    expect(await screen.findByRole('img', { name: /LLM cost per agent/ })).toBeTruthy();
    const { labels, series } = toSeries(normalizeUsage([{ agent: 'a', day: '2026-11-20', cost: 1 }]));
    expect(labels).toEqual(['2026-11-20']);
    expect(series).toEqual([{ name: 'a', values: [1] }]);
  });
});
