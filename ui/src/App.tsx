import { useEffect, useRef, useState } from 'react';
import { getJson, items, message, session, type Page, type Tenant, type WhoAmI } from './api';
import { Alert } from './components/bits';
import { ConsoleContext } from './context';
import { match, navigate, usePath } from './router';
import { Approvals } from './pages/Approvals';
import { Audit } from './pages/Audit';
import { Inventory } from './pages/Inventory';
import { Login } from './pages/Login';
import { Overview } from './pages/Overview';
import { Policies } from './pages/Policies';
import { Usage } from './pages/Usage';

const TENANT_STORAGE = 'sentinel.tenant';

const PAGES = [
  { path: '/', label: 'Overview' },
  { path: '/inventory', label: 'Inventory' },
  { path: '/approvals', label: 'Approvals' },
  { path: '/audit', label: 'Audit' },
  { path: '/policies', label: 'Policies' },
  { path: '/usage', label: 'Usage' },
];

export function App() {
  const [who, setWho] = useState<WhoAmI | null>(null);
  const [checking, setChecking] = useState(!!session.get());

  // A reload keeps the session: re-check the stored key.
  useEffect(() => {
    if (!session.get()) return;
    getJson<WhoAmI>('/v1/whoami')
      .then((w) => (w.role === 'agent' ? session.clear() : setWho(w)))
      .catch(() => session.clear())
      .finally(() => setChecking(false));
  }, []);

  if (checking) return <p className="loading">Loading…</p>;
  if (!who) return <Login onLogin={setWho} />;
  return (
    <SignedIn
      who={who}
      onLogout={() => {
        session.clear();
        sessionStorage.removeItem(TENANT_STORAGE);
        setWho(null);
      }}
    />
  );
}

function SignedIn({ who, onLogout }: { who: WhoAmI; onLogout: () => void }) {
  const path = usePath();
  const [tenants, setTenants] = useState<Tenant[]>(who.tenant ? [who.tenant] : []);
  const [tenant, setTenant] = useState<string>(who.tenant?.slug ?? sessionStorage.getItem(TENANT_STORAGE) ?? '');
  const [error, setError] = useState<string>();

  useEffect(() => {
    if (who.role !== 'admin') return;
    getJson<Page<Tenant> | Tenant[]>('/v1/tenants?limit=500')
      .then((list) => {
        const all = items(list);
        setTenants(all);
        if (!all.some((t) => t.slug === tenant) && all[0]) setTenant(all[0].slug);
      })
      .catch((e) => setError(message(e)));
    // Once per sign-in: `tenant` is read here, not watched.
  }, [who.role]);

  useEffect(() => {
    if (tenant) sessionStorage.setItem(TENANT_STORAGE, tenant);
  }, [tenant]);

  // Move focus to the page's heading on navigation (not on the first load, where the skip link
  // should come first), for keyboard and screen-reader users.
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    document.querySelector<HTMLElement>('main h1')?.focus();
  }, [path]);

  const current = PAGES.find((p) => (p.path === '/' ? path === '/' : path.startsWith(p.path)));

  return (
    <>
      <a href="#main" className="skip">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">Sentinel</span>
        <nav aria-label="Pages">
          <ul>
            {PAGES.map((p) => (
              <li key={p.path}>
                <a
                  href={p.path}
                  aria-current={current?.path === p.path ? 'page' : undefined}
                  onClick={(e) => {
                    e.preventDefault();
                    navigate(p.path);
                  }}
                >
                  {p.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          {who.role === 'admin' ? (
            <label>
              <span className="sr-only">Tenant</span>
              <select aria-label="Tenant" value={tenant} onChange={(e) => setTenant(e.target.value)}>
                {tenants.length === 0 && <option value="">no tenants</option>}
                {tenants.map((t) => (
                  <option key={t.id} value={t.slug}>
                    {t.slug}
                  </option>
                ))}
              </select>
            </label>
          ) : (
            <span className="tenant" title="Tenant">
              {tenant}
            </span>
          )}
          <span className={`badge role-${who.role}`} data-testid="role">
            {who.role}
          </span>
          <button type="button" className="link" onClick={onLogout}>
            Sign out
          </button>
        </div>
      </header>
      <Alert error={error} />
      <main id="main">
        {!tenant ? (
          <section>
            <h1 tabIndex={-1}>No tenant</h1>
            <p>
              Create a tenant first: <code>sentinel tenants create acme</code>.
            </p>
          </section>
        ) : (
          <ConsoleContext.Provider value={{ who, role: who.role, tenant }}>
            <Route path={path} key={tenant} />
          </ConsoleContext.Provider>
        )}
      </main>
    </>
  );
}

function Route({ path }: { path: string }) {
  let m: Record<string, string> | null;
  if (path === '/') return <Overview />;
  if (path === '/inventory') return <Inventory />;
  if (path === '/approvals') return <Approvals />;
  if ((m = match('/approvals/:id', path))) return <Approvals selected={m.id} />;
  if (path === '/audit') return <Audit />;
  if ((m = match('/audit/:index', path))) return <Audit selected={Number(m.index)} />;
  if (path === '/policies') return <Policies />;
  if (path === '/usage') return <Usage />;
  return (
    <section>
      <h1 tabIndex={-1}>Not found</h1>
      <p>
        No console page at <code>{path}</code>.
      </p>
    </section>
  );
}
