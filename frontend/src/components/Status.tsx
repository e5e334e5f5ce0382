// Shared loading, empty and error states, so every page reads the same way.
import type { CombinedError } from 'urql';
import type { ReactNode } from 'react';
import { describeError } from '../lib/errors';

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p className="status loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> {label}
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="status empty">{children}</p>;
}

/** ErrorMessage shows the server's messages (never a stack) in an alert. */
export function ErrorMessage({ error, title = 'Something went wrong' }: { error: CombinedError | Error | string; title?: string }) {
  const messages =
    typeof error === 'string'
      ? [error]
      : 'graphQLErrors' in error
        ? describeError(error).map((e) => e.message)
        : [error.message];
  return (
    <div className="status error" role="alert">
      <strong>{title}</strong>
      {messages.length === 1 ? <p>{messages[0]}</p> : (
        <ul>
          {messages.map((m, i) => (
            <li key={i}>{m}</li>
          ))}
        </ul>
      )}
    </div>
  );
}
