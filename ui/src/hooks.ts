// Small data hooks shared by the pages.

import { useCallback, useEffect, useRef, useState } from 'react';
import { message } from './api';
import { subscribe, type SentinelEvent } from './events';

export interface Loaded<T> {
  data?: T;
  error?: string;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` now and whenever `deps` change or `reload` is called. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => live && setState({ data, loading: false }),
      (e) => live && setState({ error: message(e), loading: false }),
    );
    return () => {
      live = false;
    };
    // The caller's `deps` decide when to load; `load` is a new closure every render.
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { ...state, reload };
}

/** Follows live events while mounted; returns whether the stream is connected. */
export function useEvents(query: Record<string, string>, onEvent: (e: SentinelEvent) => void): boolean {
  const [connected, setConnected] = useState(false);
  const handler = useRef(onEvent);
  handler.current = onEvent;
  const key = JSON.stringify(query);
  useEffect(() => {
    const sub = subscribe(JSON.parse(key), (e) => handler.current(e), setConnected);
    return () => sub.close();
  }, [key]);
  return connected;
}
