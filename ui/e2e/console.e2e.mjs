// End-to-end test of the admin console against a real `sentinel serve`, in Debian's headless
// Chromium driven by playwright-core. It covers exactly the flows — sign in; a check
// held for approval appears live and is approved in the UI, and the agent's resubmission with
// its grant is allowed; an agent killed in the UI has its next check denied; an audit entry
// shows as verified — and takes the screenshots docs/console.md shows.
//
// Run by crates/cli/tests/console_e2e.rs, which starts the server and passes:
//   SENTINEL_URL, SENTINEL_ADMIN_KEY, SENTINEL_AGENT_KEY (agent `bot` of tenant `acme`, SRE policy),
//   SENTINEL_AUDITOR_KEY (an auditor of `acme`)
// Optional: CHROMIUM (default /usr/bin/chromium), SCREENSHOTS (directory; none when unset).
// Prints node:test-style lines and "N passed, N failed"; exits non-zero on any failure.

import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const url = need('SENTINEL_URL');
const adminKey = need('SENTINEL_ADMIN_KEY');
const agentKey = need('SENTINEL_AGENT_KEY');
const auditorKey = need('SENTINEL_AUDITOR_KEY');
const shots = process.env.SCREENSHOTS;
if (shots) mkdirSync(shots, { recursive: true });

function need(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`console.e2e: ${name} is not set`);
    process.exit(2);
  }
  return v;
}

/** The agent's side, over plain HTTP with its own key. */
async function agent(method, path, body, headers = {}) {
  const res = await fetch(url + path, {
    method,
    headers: { authorization: `Bearer ${agentKey}`, 'content-type': 'application/json', ...headers },
    body: body && JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

const check = (tool, args = {}, headers) =>
  agent('POST', '/v1/check', { kind: 'tool_call', target: { tool }, arguments: args }, headers);

function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}

const profile = mkdtempSync(join(tmpdir(), 'sentinel-e2e-chromium-'));
// A fresh profile every run (playwright-core wants it as launchPersistentContext's directory).
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
  viewport: { width: 1280, height: 860 },
});
const page = await context.newPage();
page.setDefaultTimeout(15_000);
const consoleErrors = [];
page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
page.on('pageerror', (e) => consoleErrors.push(String(e)));

async function shot(name, fullPage = false) {
  if (shots) await page.screenshot({ path: join(shots, `${name}.png`), fullPage });
}

async function go(label) {
  await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: label }).click();
  await page.getByRole('heading', { level: 1, name: label }).waitFor();
}

let passed = 0;
let failed = 0;
async function step(name, fn) {
  const start = Date.now();
  try {
    await fn();
    passed++;
    console.log(`ok ${passed + failed} - ${name} (${Date.now() - start} ms)`);
  } catch (e) {
    failed++;
    console.log(`not ok ${passed + failed} - ${name}\n  ${String(e?.stack ?? e).replace(/\n/g, '\n  ')}`);
    await shot(`failure-${passed + failed}`).catch(() => {});
  }
}

let allowedAuditIndex;

await step('an agent key is refused at sign-in with a clear message', async () => {
  await page.goto(url + '/');
  await page.getByLabel('API key').fill(agentKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'agent key' }).waitFor();
});

await step('an admin signs in; the console shows the role and the tenant', async () => {
  await page.getByLabel('API key').fill(adminKey);
  await shot('login');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('role').filter({ hasText: 'admin' }).waitFor();
  // The tenant list loads after whoami: wait for it rather than read it once.
  await page.waitForFunction(() => document.querySelector('select[aria-label="Tenant"]')?.value === 'acme');
  await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
  // The key is in sessionStorage, never in localStorage or the URL.
  const stored = await page.evaluate(() => [
    sessionStorage.getItem('sentinel.apiKey'),
    localStorage.length,
    location.href,
  ]);
  assert(stored[0] === adminKey && stored[1] === 0 && !stored[2].includes(adminKey), 'key kept in sessionStorage only');
});

await step('decisions appear live on the overview', async () => {
  await page.getByText('Live', { exact: true }).waitFor();
  const r = await check('query_metrics', { query: 'up' });
  assert(r.outcome === 'allow', `query_metrics allowed, got ${r.outcome}`);
  allowedAuditIndex = r.audit?.index;
  await check('drop_database', { name: 'orders' });
  await page.getByTestId('live-decisions').getByRole('cell', { name: 'drop_database', exact: true }).first().waitFor();
  await page
    .getByTestId('count-deny')
    .filter({ hasText: /^[1-9]/ })
    .waitFor();
});

let approvalId;
await step(
  'a check held for approval appears live and is approved in the UI; the resubmission is allowed',
  async () => {
    await go('Approvals');
    await page.getByText('Live', { exact: true }).waitFor();
    const args = { service: 'payments-api', to: 'v41' };
    const held = await check('rollback_deployment', args);
    assert(held.outcome === 'approval_required' && held.approval_id, `held for approval: ${JSON.stringify(held)}`);
    approvalId = held.approval_id;
    // Live: the card arrives over the event stream, without a reload.
    const card = page.getByTestId(`approval-${approvalId}`);
    await card.waitFor();
    assert((await card.textContent()).includes('needs a human'), 'the reasons are shown');
    await card.getByText('Full action').click();
    assert((await card.textContent()).includes('payments-api'), 'the full action is shown');
    await card.getByLabel('Reason').fill('CHG-981: error budget burnt');
    await shot('approvals');
    await card.getByRole('button', { name: 'Approve' }).click();
    await page.getByText('No pending requests.').waitFor();

    const answered = await agent('GET', `/v1/approvals/${approvalId}`);
    assert(answered.status === 'approved' && answered.grant?.token, `approved with a grant: ${answered.status}`);
    const again = await check('rollback_deployment', args, { 'sentinel-grant': answered.grant.token });
    assert(again.outcome === 'allow', `resubmission allowed, got ${again.outcome}: ${again.reasons}`);
  },
);

await step('the Slack link /approvals/{id} opens that request', async () => {
  await page.goto(`${url}/approvals/${approvalId}`);
  await page.getByRole('heading', { name: `Request ${approvalId}` }).waitFor();
  await page.getByTestId(`approval-${approvalId}`).first().getByText('approved', { exact: true }).waitFor();
});

await step('an agent killed from the UI gets its next check denied', async () => {
  await go('Inventory');
  await page.getByRole('button', { name: 'Kill agent bot' }).click();
  await page.getByRole('form', { name: 'Kill agent bot' }).getByLabel('Reason').fill('runaway loop (incident 42)');
  await page.getByRole('button', { name: 'Confirm kill' }).click();
  await page.getByRole('button', { name: 'Restore agent bot' }).waitFor();
  await page.getByTestId('agent-bot').getByText('killed').waitFor();
  await shot('inventory');
  const denied = await check('query_metrics', { query: 'up' });
  assert(denied.outcome === 'deny', `denied after the kill, got ${denied.outcome}`);
  assert(denied.reasons.join(' ').includes('runaway loop'), `the kill's reason: ${denied.reasons}`);
});

await step('overview screenshot with live counts and the active kill', async () => {
  await go('Overview');
  await page.getByText('runaway loop (incident 42)').first().waitFor();
  await shot('overview');
});

await step('an audit entry shows as verified, its proof checked in the browser', async () => {
  assert(Number.isInteger(allowedAuditIndex), 'the allowed check reported its audit index');
  await go('Audit');
  await page.getByRole('link', { name: `Entry ${allowedAuditIndex}: open and verify` }).click();
  const verdict = page.getByTestId('verdict');
  await verdict.waitFor({ timeout: 20_000 });
  const text = await verdict.textContent();
  assert(text.startsWith('Verified'), `verdict: ${text}`);
  assert(text.includes('leaf hash recomputed from the entry matches'), text);
  assert(text.includes('inclusion proof leads to the root'), text);
  // Chromium's WebCrypto has Ed25519: the checkpoint's signature is checked too.
  assert(text.includes('checkpoint signature valid (Ed25519)'), text);
  await page.getByText('Signature valid (checked in this browser)').waitFor();
  await shot('audit');
});

await step('policies: the active bundle in the editor, simulated against history', async () => {
  await go('Policies');
  await page.getByRole('textbox', { name: /Rego module/ }).waitFor();
  await page.getByRole('button', { name: 'Validate' }).click();
  await page.getByText(/^Valid — revision/).waitFor();
  await page.getByRole('button', { name: 'Simulate against history' }).click();
  await page.getByRole('heading', { name: /Simulation over \d+ recorded decisions/ }).waitFor();
  await shot('policies', true);
});

await step('usage: the LLM gateway answers; this test server has recorded no LLM calls yet', async () => {
  await go('Usage');
  await page.getByText('No LLM usage recorded yet.').waitFor();
  await shot('usage');
});

await step('usage chart (sample rows routed in the browser: this test server has no LLM deployments)', async () => {
  // Only for the docs' picture of the chart: the answer is the browser's, not the server's.
  const days = ['2026-11-16', '2026-11-17', '2026-11-18', '2026-11-19', '2026-11-20', '2026-11-21', '2026-11-22'];
  const items = days.flatMap((period, i) => [
    { agent: 'sre-bot', period, cost_usd: 1.2 + i * 0.35 + (i % 2) * 0.4 },
    { agent: 'support-bot', period, cost_usd: 0.6 + Math.abs(3 - i) * 0.3 },
    { agent: 'billing-agent', period, cost_usd: 0.2 + (i > 3 ? 1.1 : 0.1) },
  ]);
  await page.route('**/v1/usage?*', (route) => route.fulfill({ json: { items } }));
  await page.reload();
  await page.getByRole('img', { name: /LLM cost per agent per day/ }).waitFor();
  await shot('usage-sample');
  await page.unroute('**/v1/usage?*');
});

await step('works at phone width (375 px): navigation and the approval queue', async () => {
  await page.setViewportSize({ width: 375, height: 740 });
  await go('Approvals');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert(overflow <= 0, `no horizontal page scroll at 375 px (overflow ${overflow} px)`);
  await page.getByLabel('Status').selectOption('approved');
  await page.getByTestId(`approval-${approvalId}`).waitFor();
  await shot('phone-approvals');
  await page.setViewportSize({ width: 1280, height: 860 });
});

await step('keyboard: the skip link and the navigation are reachable with Tab', async () => {
  await page.goto(url + '/');
  await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
  const focused = () => page.evaluate(() => document.activeElement?.textContent ?? '');
  await page.keyboard.press('Tab');
  const first = await focused();
  assert(first === 'Skip to content', `skip link first, got ${JSON.stringify(first)}`);
  await page.keyboard.press('Tab');
  const second = await focused();
  assert(second === 'Overview', `then the navigation, got ${JSON.stringify(second)}`);
});

await step('an auditor signs in read-only: no approve, kill or policy buttons', async () => {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('API key').fill(auditorKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('role').filter({ hasText: 'auditor' }).waitFor();
  await page.getByTitle('Tenant').filter({ hasText: 'acme' }).waitFor();
  await go('Inventory');
  // The status, and in place of the kill switch only a badge.
  await page.getByTestId('agent-bot').getByText('killed').nth(1).waitFor();
  assert((await page.getByRole('button', { name: /^(Kill|Restore)/ }).count()) === 0, 'no kill or restore buttons');
  await go('Approvals');
  await page.getByLabel('Status').selectOption('approved');
  await page.getByTestId(`approval-${approvalId}`).waitFor();
  assert((await page.getByRole('button', { name: /^(Approve|Deny)$/ }).count()) === 0, 'no approve or deny buttons');
  await go('Policies');
  await page.getByRole('button', { name: 'Validate' }).waitFor();
  assert((await page.getByRole('button', { name: 'Push and activate' }).count()) === 0, 'no push button');
});

await step('no errors in the browser console (the CSP blocked nothing)', async () => {
  // Chromium logs every 4xx response as an error; the MCP and usage endpoints answer 404 by
  // design on this server, so those lines are expected. Anything else is a failure.
  const unexpected = consoleErrors.filter(
    (m) => !/Failed to load resource: the server responded with a status of 404/.test(m),
  );
  assert(unexpected.length === 0, unexpected.join('\n'));
});

await context.close();
rmSync(profile, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
