import { useState, type FormEvent } from 'react';
import { getJson, message, session, type WhoAmI } from '../api';

/** Signs in with an API key: checks it with `/v1/whoami` and refuses agent keys. */
export function Login({ onLogin }: { onLogin: (who: WhoAmI) => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const who = await getJson<WhoAmI>('/v1/whoami', key.trim());
      if (who.role === 'agent') {
        setError('This is an agent key. The console is for people: sign in with an admin, operator or auditor key.');
        return;
      }
      session.set(key.trim());
      onLogin(who);
    } catch (err) {
      setError(
        (err as { status?: number }).status === 401
          ? 'The server does not know this key (or it was revoked).'
          : message(err),
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="login">
      <form onSubmit={submit} aria-labelledby="login-title" className="card">
        <h1 id="login-title">Sentinel console</h1>
        <p>Sign in with an API key. It is kept in this tab only (session storage) and sent as a Bearer header.</p>
        <label htmlFor="api-key">API key</label>
        <input
          id="api-key"
          type="password"
          autoComplete="off"
          spellCheck={false}
          placeholder="snt_…"
          value={key}
          onChange={(e) => {
            setKey(e.target.value);
            setError(undefined);
          }}
          required
          aria-describedby={error ? 'login-error' : undefined}
        />
        <button type="submit" disabled={busy || !key.trim()}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
        {error && (
          <p id="login-error" role="alert" className="error">
            {error}
          </p>
        )}
      </form>
    </main>
  );
}
