import { describe, expect, it } from 'vitest';
import { tokenize } from './rego';

describe('tokenize', () => {
  it('colours keywords, strings, comments, numbers and operators, and loses no text', () => {
    const src = 'package sentinel\n# why\ndeny contains msg if {\n  input.n > 3\n  msg := "too \\"many\\""\n}\n';
    const tokens = tokenize(src);
    expect(tokens.map((t) => t.text).join('')).toBe(src);
    const kinds = (k: string) => tokens.filter((t) => t.kind === k).map((t) => t.text);
    expect(kinds('keyword')).toEqual(['package', 'contains', 'if']);
    expect(kinds('comment')).toEqual(['# why']);
    expect(kinds('string')).toEqual(['"too \\"many\\""']);
    expect(kinds('number')).toEqual(['3']);
    expect(kinds('operator')).toEqual(['>', ':=']);
  });

  it('copes with an unterminated string while typing', () => {
    expect(
      tokenize('x := "abc')
        .map((t) => t.text)
        .join(''),
    ).toBe('x := "abc');
  });
});
