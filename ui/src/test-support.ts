// Component tests answer the console's HTTP calls from a table (the real server is exercised
// by the Playwright end-to-end test in e2e/).
import { vi } from 'vitest';

export type Reply = { status?: number; body?: unknown } | ((init: RequestInit) => { status?: number; body?: unknown });

/** Stubs fetch: `routes` maps "METHOD /path" (query ignored) to a reply; records every call. */
export function stubFetch(routes: Record<string, Reply>) {
  const calls: { method: string; path: string; headers: Headers; body?: string }[] = [];
  const fetch = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = new URL(String(input), 'http://console.test');
    const method = (init.method ?? 'GET').toUpperCase();
    calls.push({
      method,
      path: url.pathname + url.search,
      headers: new Headers(init.headers),
      body: init.body as string,
    });
    const route = routes[`${method} ${url.pathname}`];
    if (url.pathname === '/v1/events') {
      // A stream that never sends: the page shows itself as connected.
      return new Response(new ReadableStream({ start() {} }), {
        status: 200,
        headers: { 'content-type': 'text/event-stream' },
      });
    }
    const reply = typeof route === 'function' ? route(init) : route;
    if (!reply) {
      return new Response(JSON.stringify({ status: 404, code: 'not_found', detail: 'no such route' }), { status: 404 });
    }
    return new Response(
      reply.body === undefined ? null : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body),
      {
        status: reply.status ?? 200,
        headers: { 'content-type': 'application/json' },
      },
    );
  });
  vi.stubGlobal('fetch', fetch);
  return calls;
}
