import { describe, expect, it } from 'vitest';
import { SseParser } from './events';

describe('SseParser', () => {
  it('reads frames split across chunks, skips heartbeats and keeps the id', () => {
    const p = new SseParser();
    const frame =
      'data: {"type":"decision.made","time":"t","data":{"outcome":"allow"}}\nid: 1-2\nevent: decision.made\n\n';
    expect(p.push(': heartbeat\n\n')).toEqual([]);
    expect(p.push(frame.slice(0, 20))).toEqual([]);
    const events = p.push(frame.slice(20) + frame.replace('1-2', '1-3').replace(/\n/g, '\r\n'));
    expect(events.map((e) => e.id)).toEqual(['1-2', '1-3']);
    expect(events[0].data.outcome).toBe('allow');
  });

  it('ignores frames that are not JSON', () => {
    expect(new SseParser().push('data: hello\n\n')).toEqual([]);
  });
});
