// The one HTTP client of the console: every call sends the session's key as a Bearer header
// (never in a URL, which would end up in logs) and turns problem responses into ApiError.

const KEY_STORAGE = 'sentinel.apiKey';

/** The key lives in sessionStorage: gone when the tab closes, never shared between tabs. */
export const session = {
  get(): string | null {
    return sessionStorage.getItem(KEY_STORAGE);
  },
  set(key: string) {
    sessionStorage.setItem(KEY_STORAGE, key);
  },
  clear() {
    sessionStorage.removeItem(KEY_STORAGE);
  },
};

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public field?: string,
  ) {
    super(message);
  }
}

export type Role = 'admin' | 'operator' | 'auditor' | 'agent';

export interface Tenant {
  id: string;
  slug: string;
  display_name?: string | null;
}

export interface WhoAmI {
  key_id: string;
  role: Role;
  tenant: Tenant | null;
  agent: { id: string; name: string } | null;
}

export interface Agent {
  id: string;
  name: string;
  status: string;
  framework?: string | null;
  owner?: string | null;
  labels?: Record<string, string>;
  updated_at?: string;
}

export interface Tool {
  id: string;
  name: string;
  kind?: string;
  server?: string | null;
  risk?: string;
  is_active?: boolean;
  schema_hash?: string | null;
  [k: string]: unknown;
}

export interface Kill {
  id: string;
  scope: 'tenant' | 'agent' | 'tool' | 'session';
  target: string;
  reason: string;
  created_by: string;
  created_at: string;
  lifted_at?: string | null;
}

export interface Vote {
  key_id: string;
  key_name?: string | null;
  granted: boolean;
  reason: string;
  at: string;
}

export interface Approval {
  id: string;
  tenant_id: string;
  agent: string;
  tool: string;
  action: Record<string, unknown>;
  reasons: string[];
  risk?: string | null;
  status: string;
  resolution?: string | null;
  required_approvals: number;
  votes: Vote[];
  created_at: string;
  expires_at: string;
  decided_at?: string | null;
}

export interface Page<T> {
  items: T[];
  next_cursor?: string | number | null;
}

/** What a role may do in the console; mirrors crates/core/src/roles.rs. */
export function can(role: Role, what: 'manage' | 'approve' | 'kill' | 'admin'): boolean {
  if (role === 'admin') return true;
  if (role === 'operator') return what !== 'admin';
  return false;
}

/** A fetch with the session's key. `key` overrides it (the login form checks a key first). */
export async function request(path: string, init: RequestInit = {}, key = session.get()): Promise<Response> {
  const headers = new Headers(init.headers);
  if (key) headers.set('authorization', `Bearer ${key}`);
  if (init.body && !headers.has('content-type')) headers.set('content-type', 'application/json');
  const res = await fetch(path, { ...init, headers });
  if (!res.ok) throw await problem(res);
  return res;
}

async function problem(res: Response): Promise<ApiError> {
  try {
    const body = await res.json();
    return new ApiError(res.status, body.code ?? 'error', body.detail ?? body.title ?? res.statusText, body.field);
  } catch {
    return new ApiError(res.status, 'error', `${res.status} ${res.statusText}`);
  }
}

export async function getJson<T>(path: string, key?: string): Promise<T> {
  const res = await request(path, {}, key ?? session.get());
  return (await res.json()) as T;
}

export async function getText(path: string): Promise<string> {
  return (await request(path)).text();
}

export async function send<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await request(path, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/** Lists are either a bare array or a page `{items, next_cursor}`. */
export function items<T>(list: T[] | Page<T>): T[] {
  return Array.isArray(list) ? list : list.items;
}

export const t = (tenant: string) => `/v1/tenants/${encodeURIComponent(tenant)}`;

/** A human message for any error a page shows. */
export function message(e: unknown): string {
  if (e instanceof ApiError) return `${e.message}${e.field ? ` (${e.field})` : ''} [${e.status}]`;
  return e instanceof Error ? e.message : String(e);
}
