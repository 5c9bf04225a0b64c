import { useId, useState, type FormEvent } from 'react';
import { can, getJson, items, message, send, t, type Approval, type Page } from '../api';
import { Alert, Json, PageHead, Risk, Time } from '../components/bits';
import { useConsole } from '../context';
import { useEvents, useLoad } from '../hooks';
import { navigate } from '../router';

const STATUSES = ['pending', 'approved', 'denied', 'expired', 'cancelled', 'all'];

/** The approval queue, live; `selected` (from `/approvals/{id}`) opens one request. */
export function Approvals({ selected }: { selected?: string }) {
  const { tenant } = useConsole();
  const [status, setStatus] = useState('pending');
  const [announce, setAnnounce] = useState('');
  const queue = useLoad(
    () =>
      getJson<Page<Approval> | Approval[]>(
        `${t(tenant)}/approvals?limit=200${status === 'all' ? '' : `&status=${status}`}`,
      ).then(items),
    [tenant, status],
  );
  const one = useLoad(
    () => (selected ? getJson<Approval>(`/v1/approvals/${encodeURIComponent(selected)}`) : Promise.resolve(undefined)),
    [selected],
  );

  const connected = useEvents(
    {
      types:
        'approval.requested,approval.voted,approval.decided,approval.expired,approval.cancelled,approval.grant_used',
      tenant,
    },
    (e) => {
      if (e.type === 'approval.requested') setAnnounce(`New approval request: ${e.data.agent} wants ${e.data.tool}.`);
      queue.reload();
      if (selected && e.data?.id === selected) one.reload();
    },
  );

  const done = () => {
    queue.reload();
    one.reload();
  };

  return (
    <section aria-labelledby="approvals-title">
      <PageHead id="approvals-title" title="Approvals" connected={connected} />
      <p className="sr-only" aria-live="assertive">
        {announce}
      </p>

      {selected && (
        <div className="selected">
          <h2>Request {selected}</h2>
          <Alert error={one.error} />
          {one.data && <ApprovalCard approval={one.data} onDone={done} expanded />}
          <button type="button" className="link" onClick={() => navigate('/approvals')}>
            Back to the queue
          </button>
        </div>
      )}

      <div className="filters">
        <label htmlFor="approval-status">Status</label>
        <select id="approval-status" value={status} onChange={(e) => setStatus(e.target.value)}>
          {STATUSES.map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
      </div>
      <Alert error={queue.error} />
      <ul className="cards" aria-label="Approval requests" data-testid="approval-queue">
        {(queue.data ?? []).map((a) => (
          <li key={a.id}>
            <ApprovalCard approval={a} onDone={done} />
          </li>
        ))}
      </ul>
      {queue.data?.length === 0 && <p className="muted">No {status === 'all' ? '' : status} requests.</p>}
    </section>
  );
}

export function ApprovalCard({
  approval: a,
  onDone,
  expanded = false,
}: {
  approval: Approval;
  onDone: () => void;
  expanded?: boolean;
}) {
  const { role } = useConsole();
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const id = useId();

  const answer = (granted: boolean) => async (e?: FormEvent) => {
    e?.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await send('POST', `/v1/approvals/${a.id}/decision`, { granted, reason });
      setReason('');
      onDone();
    } catch (err) {
      setError(message(err));
    } finally {
      setBusy(false);
    }
  };

  const title = `${a.agent} → ${a.tool}`;
  return (
    <article className="card approval" aria-label={title} data-testid={`approval-${a.id}`}>
      <header>
        <h3>
          <a
            href={`/approvals/${a.id}`}
            onClick={(e) => {
              e.preventDefault();
              navigate(`/approvals/${a.id}`);
            }}
          >
            {title}
          </a>
        </h3>
        <Risk value={a.risk} /> <span className={`badge status-${a.status}`}>{a.status}</span>
      </header>
      <ul className="reasons">
        {a.reasons.map((r) => (
          <li key={r}>{r}</li>
        ))}
      </ul>
      <dl className="facts">
        <dt>Asked</dt>
        <dd>
          <Time at={a.created_at} />
        </dd>
        {a.status === 'pending' ? (
          <>
            <dt>Expires</dt>
            <dd>
              <Time at={a.expires_at} />
            </dd>
          </>
        ) : (
          <>
            <dt>Resolution</dt>
            <dd>{a.resolution}</dd>
          </>
        )}
        <dt>Approvals</dt>
        <dd>
          {a.votes.filter((v) => v.granted).length} of {a.required_approvals}
        </dd>
      </dl>
      {a.votes.length > 0 && (
        <ul className="votes" aria-label="Votes">
          {a.votes.map((v) => (
            <li key={v.key_id + v.at}>
              {v.granted ? 'approved' : 'denied'} by {v.key_name ?? v.key_id}: {v.reason}
            </li>
          ))}
        </ul>
      )}
      <details open={expanded}>
        <summary>Full action</summary>
        <Json value={a.action} label={`Action of ${title}`} />
      </details>
      {a.status === 'pending' && can(role, 'approve') && (
        <form className="answer" onSubmit={answer(true)}>
          <label htmlFor={id}>Reason</label>
          <input
            id={id}
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            placeholder="e.g. change CHG-981"
            required
          />
          <div className="buttons">
            <button type="submit" className="ok" disabled={busy || !reason.trim()}>
              Approve
            </button>
            <button type="button" className="danger" disabled={busy || !reason.trim()} onClick={() => answer(false)()}>
              Deny
            </button>
          </div>
          <Alert error={error} />
        </form>
      )}
    </article>
  );
}
