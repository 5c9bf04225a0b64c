// Live events over SSE read with fetch and a streaming body: EventSource cannot send the
// Authorization header, and the key must not go in the URL. Reconnects with Last-Event-ID, so
// the server replays what was missed (or says `stream.gap`, and the page re-reads its state).

import { session } from './api';

export interface SentinelEvent {
  id?: string;
  type: string;
  time: string;
  tenant_id?: string | null;
  agent_id?: string | null;
  data: Record<string, any>;
}

/** Splits an SSE byte stream into events; keeps partial frames between chunks. */
export class SseParser {
  private buffer = '';

  push(chunk: string): SentinelEvent[] {
    this.buffer += chunk.replace(/\r\n?/g, '\n');
    const out: SentinelEvent[] = [];
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const frame = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const data: string[] = [];
      let id: string | undefined;
      for (const line of frame.split('\n')) {
        if (line.startsWith(':')) continue; // heartbeat comment
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'data') data.push(value);
        else if (field === 'id') id = value;
      }
      if (data.length === 0) continue;
      try {
        const event = JSON.parse(data.join('\n')) as SentinelEvent;
        if (id && !event.id) event.id = id;
        out.push(event);
      } catch {
        // A frame that is not JSON is not ours; skip it.
      }
    }
    return out;
  }
}

export interface Subscription {
  close(): void;
}

/**
 * Follows `/v1/events` until closed. `onState` reports whether the stream is connected.
 * `query` holds filters such as `types` and `tenant`.
 */
export function subscribe(
  query: Record<string, string>,
  onEvent: (e: SentinelEvent) => void,
  onState: (connected: boolean) => void = () => {},
): Subscription {
  let closed = false;
  let lastId: string | undefined;
  let controller: AbortController | undefined;
  let retry = 500;

  const run = async () => {
    while (!closed) {
      controller = new AbortController();
      try {
        const headers: Record<string, string> = { accept: 'text/event-stream' };
        const key = session.get();
        if (key) headers.authorization = `Bearer ${key}`;
        if (lastId) headers['last-event-id'] = lastId;
        const params = new URLSearchParams({ heartbeat: '15', ...query });
        const res = await fetch(`/v1/events?${params}`, { headers, signal: controller.signal });
        if (!res.ok || !res.body) throw new Error(`events: ${res.status}`);
        onState(true);
        retry = 500;
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        const parser = new SseParser();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          for (const event of parser.push(value)) {
            if (event.id) lastId = event.id;
            onEvent(event);
          }
        }
      } catch {
        // Network error or abort: fall through to the retry.
      }
      onState(false);
      if (closed) break;
      await new Promise((r) => setTimeout(r, retry));
      retry = Math.min(retry * 2, 10_000);
    }
  };
  void run();
  return {
    close() {
      closed = true;
      controller?.abort();
    },
  };
}
