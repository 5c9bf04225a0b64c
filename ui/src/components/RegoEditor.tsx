import { useRef } from 'react';
import { tokenize } from './rego';

/**
 * A textarea over a highlighted copy of its text: the textarea keeps native editing, selection,
 * undo and accessibility; the `<pre>` behind it only colours. Both share font metrics and scroll.
 */
export function RegoEditor({
  id,
  value,
  onChange,
  readOnly,
  label,
}: {
  id: string;
  value: string;
  onChange: (v: string) => void;
  readOnly?: boolean;
  label: string;
}) {
  const pre = useRef<HTMLPreElement>(null);
  return (
    <div className="rego-editor">
      <pre ref={pre} aria-hidden="true" className="rego-highlight">
        {tokenize(value).map((t, i) =>
          t.kind === 'text' ? (
            t.text
          ) : (
            <span key={i} className={`tok-${t.kind}`}>
              {t.text}
            </span>
          ),
        )}
        {/* A trailing newline would otherwise collapse and misalign the last line. */}
        {'\n'}
      </pre>
      <textarea
        id={id}
        aria-label={label}
        value={value}
        readOnly={readOnly}
        spellCheck={false}
        autoCapitalize="off"
        autoComplete="off"
        onChange={(e) => onChange(e.target.value)}
        onScroll={(e) => {
          if (pre.current) {
            pre.current.scrollTop = e.currentTarget.scrollTop;
            pre.current.scrollLeft = e.currentTarget.scrollLeft;
          }
        }}
        onKeyDown={(e) => {
          // Tab indents inside the editor; Escape then Tab leaves it (keyboard users are not trapped).
          if (e.key === 'Tab' && !e.shiftKey && !readOnly && e.currentTarget.dataset.escaped !== '1') {
            e.preventDefault();
            const ta = e.currentTarget;
            const { selectionStart: s, selectionEnd: end } = ta;
            const next = value.slice(0, s) + '    ' + value.slice(end);
            onChange(next);
            requestAnimationFrame(() => ta.setSelectionRange(s + 4, s + 4));
          } else if (e.key === 'Escape') {
            e.currentTarget.dataset.escaped = '1';
          } else {
            delete e.currentTarget.dataset.escaped;
          }
        }}
      />
    </div>
  );
}
