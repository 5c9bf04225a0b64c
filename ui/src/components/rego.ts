// Rego syntax highlighting without a dependency: a tokenizer good enough for colouring
// (comments, strings, keywords, numbers, operators), never for parsing.

export type TokenKind = 'comment' | 'string' | 'keyword' | 'number' | 'operator' | 'text';

export interface Token {
  kind: TokenKind;
  text: string;
}

const KEYWORDS = new Set([
  'package',
  'import',
  'default',
  'if',
  'else',
  'not',
  'some',
  'every',
  'in',
  'contains',
  'with',
  'as',
  'true',
  'false',
  'null',
]);

const PATTERN =
  /(#[^\n]*)|("(?:[^"\\\n]|\\.)*"?|`[^`]*`?)|([A-Za-z_][A-Za-z0-9_]*)|(\d+(?:\.\d+)?)|(:=|==|!=|<=|>=|[=<>|&+\-*/%])|(\s+|.)/gy;

export function tokenize(source: string): Token[] {
  const out: Token[] = [];
  PATTERN.lastIndex = 0;
  let m: RegExpExecArray | null;
  while (PATTERN.lastIndex < source.length && (m = PATTERN.exec(source))) {
    const [text, comment, str, word, num, op] = m;
    const kind: TokenKind = comment
      ? 'comment'
      : str
        ? 'string'
        : word
          ? KEYWORDS.has(word)
            ? 'keyword'
            : 'text'
          : num
            ? 'number'
            : op
              ? 'operator'
              : 'text';
    const last = out[out.length - 1];
    // Merge neighbours of the same kind: fewer spans to render.
    if (last && last.kind === kind && kind === 'text') last.text += text;
    else out.push({ kind, text });
  }
  return out;
}
