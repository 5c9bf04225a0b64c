// Small presentational pieces shared by pages.

export function Time({ at }: { at: string | null | undefined }) {
  if (!at) return null;
  const d = new Date(at);
  return (
    <time dateTime={at} title={at}>
      {isNaN(d.getTime()) ? at : d.toLocaleString()}
    </time>
  );
}

export function Outcome({ value }: { value: string }) {
  return <span className={`badge outcome-${value}`}>{value.replace('_', ' ')}</span>;
}

export function Risk({ value }: { value: string | null | undefined }) {
  if (!value) return null;
  return <span className={`badge risk-${value}`}>{value}</span>;
}

export function Json({ value, label }: { value: unknown; label?: string }) {
  return (
    <pre className="json" tabIndex={0} aria-label={label ?? 'JSON'}>
      {JSON.stringify(value, null, 2)}
    </pre>
  );
}

export function NotEnabled({ what }: { what: string }) {
  return (
    <p className="muted" data-testid="not-enabled">
      {what} is not enabled on this server.
    </p>
  );
}
