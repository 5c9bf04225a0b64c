// Small presentational pieces shared by pages.
import type { HTMLAttributes, ReactNode } from 'react';

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

/** A page's heading (focused on navigation) and, for live pages, the stream's state. */
export function PageHead({
  id,
  title,
  connected,
  children,
}: {
  id: string;
  title: string;
  connected?: boolean;
  children?: ReactNode;
}) {
  return (
    <div className="page-head">
      <h1 id={id} tabIndex={-1}>
        {title}
      </h1>
      {connected !== undefined && (
        <span className={`status ${connected ? 'on' : 'off'}`} role="status">
          {connected ? 'Live' : 'Connecting…'}
        </span>
      )}
      {children}
    </div>
  );
}

/** A scrollable table with column headings; `children` are its body rows. */
export function DataTable({
  labelledBy,
  columns,
  children,
  bodyProps,
}: {
  labelledBy?: string;
  columns: string[];
  children: ReactNode;
  bodyProps?: HTMLAttributes<HTMLTableSectionElement> & { 'data-testid'?: string };
}) {
  return (
    <div className="table-wrap">
      <table aria-labelledby={labelledBy}>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c} scope="col">
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody {...bodyProps}>{children}</tbody>
      </table>
    </div>
  );
}

/** An error message, announced at once; nothing when there is none. */
export function Alert({ error }: { error: string | undefined }) {
  if (!error) return null;
  return (
    <p role="alert" className="error">
      {error}
    </p>
  );
}
