import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { ProofResult } from './Audit';
import { ResultView } from './Policies';

afterEach(cleanup);

describe('ProofResult', () => {
  it('says plainly when the browser could not check the signature', () => {
    render(
      <ProofResult
        report={{
          leafMatches: true,
          included: true,
          signature: 'unsupported',
          treeSize: '9',
          root: 'r',
          verified: true,
        }}
      />,
    );
    expect(screen.getByTestId('verdict').textContent).toContain('signature NOT checked');
  });

  it('is not verified when the proof does not lead to the root', () => {
    render(
      <ProofResult
        report={{ leafMatches: true, included: false, signature: 'valid', treeSize: '9', root: 'r', verified: false }}
      />,
    );
    expect(screen.getByTestId('verdict').textContent).toMatch(/^NOT verified/);
  });
});

describe('simulation result', () => {
  it('shows outcome counts before and after and every changed decision', () => {
    render(
      <ResultView
        result={{
          kind: 'simulate',
          candidate: 'sha256:abc',
          evaluated: 3,
          before: { allow: 2, deny: 1 },
          after: { allow: 1, deny: 2 },
          changed: [
            {
              decision_id: 'd1',
              agent: 'bot',
              tool: 'restart_pod',
              before: 'allow',
              after: 'deny',
              reasons_after: ['not on weekends'],
            },
          ],
          rules_never_fired: [{ file: 'sre.rego', line: 12, head: 'deny contains msg if {' }],
        }}
      />,
    );
    expect(screen.getByRole('heading', { name: 'Simulation over 3 recorded decisions' })).toBeTruthy();
    expect(screen.getByRole('heading', { name: '1 changed decisions' })).toBeTruthy();
    const row = screen.getByRole('cell', { name: 'restart_pod' }).closest('tr')!;
    expect(row.textContent).toBe('botrestart_podallowdenynot on weekends');
    expect(screen.getByText(/sre.rego:12/)).toBeTruthy();
  });

  it('lists validation errors with file, line and column', () => {
    render(
      <ResultView
        result={{
          kind: 'validate',
          valid: false,
          revision: 'sha256:x',
          errors: [{ file: 'a.rego', line: 3, col: 7, message: 'unexpected }' }],
        }}
      />,
    );
    expect(screen.getByText('a.rego:3:7: unexpected }')).toBeTruthy();
  });
});
