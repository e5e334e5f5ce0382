import { useEffect, useState } from 'react';
import { ErrorMessage, Loading } from '../../components/Status';
import { safeRedirect, useSearchParam } from '../../lib/router';

export interface Provider {
  name: string;
  label: string;
}

export interface ProvidersResponse {
  providers: Provider[];
  loginLink: boolean;
}

type State = { kind: 'loading' } | { kind: 'error'; message: string } | { kind: 'ready'; data: ProvidersResponse };

export default function SignIn() {
  const redirect = safeRedirect(useSearchParam('redirect'));
  const [state, setState] = useState<State>({ kind: 'loading' });

  useEffect(() => {
    const ctl = new AbortController();
    fetch('/auth/providers', { signal: ctl.signal, credentials: 'same-origin' })
      .then(async (res) => {
        if (!res.ok) throw new Error(`The server answered ${res.status} ${res.statusText}.`);
        setState({ kind: 'ready', data: (await res.json()) as ProvidersResponse });
      })
      .catch((err: unknown) => {
        if (ctl.signal.aborted) return;
        setState({ kind: 'error', message: err instanceof Error ? err.message : String(err) });
      });
    return () => {
      ctl.abort();
    };
  }, []);

  return (
    <section className="page narrow">
      <h1>Sign in</h1>
      <p className="lead">Taskmind keeps no passwords: sign in with an account you already have.</p>
      {state.kind === 'loading' && <Loading label="Loading sign-in options…" />}
      {state.kind === 'error' && <ErrorMessage error={state.message} title="Could not load sign-in options" />}
      {state.kind === 'ready' && <ProviderList data={state.data} redirect={redirect} />}
    </section>
  );
}

/** buttonText turns a provider's label ("GitHub") into a button's text. */
export function buttonText(label: string): string {
  return /^(sign|log) ?in\b/i.test(label) ? label : `Sign in with ${label}`;
}

export function ProviderList({ data, redirect }: { data: ProvidersResponse; redirect: string }) {
  return (
    <>
      {data.providers.length > 0 && (
        <ul className="providers">
          {data.providers.map((p) => (
            <li key={p.name}>
              {/* A full page navigation: the OAuth dance happens on the server. */}
              <a className="button primary" href={`/auth/${encodeURIComponent(p.name)}?redirect=${encodeURIComponent(redirect)}`}>
                {buttonText(p.label)}
              </a>
            </li>
          ))}
        </ul>
      )}
      {data.providers.length === 0 && <p>No sign-in provider is configured on this server.</p>}
      {(data.loginLink || data.providers.length === 0) && (
        <div className="note">
          <h2>Signing in with a link</h2>
          <p>
            When the server started, it printed a one-time sign-in link in its console. Open that link in this browser. For a new
            link, run <code>taskmind login-link --email you@example.com</code> on the server.
          </p>
        </div>
      )}
    </>
  );
}
