import { useId, useState, type FormEvent } from 'react';
import { message, send, t, type Kill } from '../api';

/** "Kill" → a reason field and a confirm button; posts `/kill` for one scope and target. */
export function KillButton({
  tenant,
  scope,
  target,
  onDone,
}: {
  tenant: string;
  scope: Kill['scope'];
  target?: string;
  onDone: () => void;
}) {
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string>();
  const id = useId();
  const what = scope === 'tenant' ? `tenant ${tenant}` : `${scope} ${target}`;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    try {
      await send('POST', `${t(tenant)}/kill`, { scope, target, reason });
      setOpen(false);
      setReason('');
      onDone();
    } catch (err) {
      setError(message(err));
    }
  };

  if (!open)
    return (
      <button type="button" className="danger" onClick={() => setOpen(true)} aria-label={`Kill ${what}`}>
        {scope === 'tenant' ? 'Kill tenant' : 'Kill'}
      </button>
    );
  return (
    <form onSubmit={submit} className="inline-form" aria-label={`Kill ${what}`}>
      <label htmlFor={id}>Reason</label>
      <input id={id} value={reason} onChange={(e) => setReason(e.target.value)} required autoFocus />
      <button type="submit" className="danger" disabled={!reason.trim()}>
        Confirm kill
      </button>
      <button type="button" onClick={() => setOpen(false)}>
        Cancel
      </button>
      {error && (
        <span role="alert" className="error">
          {error}
        </span>
      )}
    </form>
  );
}
