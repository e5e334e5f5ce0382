import { render, screen } from '@testing-library/react';
import { CombinedError } from 'urql';
import { describe, expect, it } from 'vitest';
import { describeError, hasCode } from '../lib/errors';
import { ErrorMessage } from './Status';

describe('ErrorMessage', () => {
  const cases = [
    {
      name: 'one GraphQL error shows its message',
      error: new CombinedError({ graphQLErrors: [{ message: 'title must not be empty', extensions: { code: 'BAD_USER_INPUT' } }] }),
      want: ['title must not be empty'],
    },
    {
      name: 'several GraphQL errors are listed',
      error: new CombinedError({ graphQLErrors: [{ message: 'first' }, { message: 'second' }] }),
      want: ['first', 'second'],
    },
    {
      name: 'a network error reads as a sentence, not the raw exception',
      error: new CombinedError({ networkError: new TypeError('Failed to fetch at fetchExchange (index.js:12:3)') }),
      want: ['Could not reach the server. Check your connection and try again.'],
    },
    { name: 'a plain string', error: 'Only administrators can manage users.', want: ['Only administrators can manage users.'] },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      render(<ErrorMessage error={tc.error} title="Could not save" />);
      const alert = screen.getByRole('alert');
      expect(alert).toHaveTextContent('Could not save');
      for (const m of tc.want) expect(alert).toHaveTextContent(m);
      expect(alert.textContent).not.toMatch(/\[GraphQL\]|\[Network\]|at \w+ \(/);
    });
  }
});

describe('describeError', () => {
  it('keeps extensions.code', () => {
    const err = new CombinedError({ graphQLErrors: [{ message: 'stale', extensions: { code: 'CONFLICT' } }] });
    expect(describeError(err)).toEqual([{ message: 'stale', code: 'CONFLICT' }]);
    expect(hasCode(err, 'CONFLICT')).toBe(true);
    expect(hasCode(err, 'FORBIDDEN')).toBe(false);
    expect(hasCode(undefined, 'CONFLICT')).toBe(false);
  });
});
