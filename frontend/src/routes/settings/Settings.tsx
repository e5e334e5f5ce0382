import { useId, useState } from 'react';
import type { SyntheticEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../../gql';
import type { ApiTokensQuery } from '../../gql/graphql';
import { Dialog } from '../../components/Dialog';
import { Empty, ErrorMessage, Loading } from '../../components/Status';
import { useViewer } from '../../lib/viewer';
import { fromDateInput } from '../board/format';

const APITokensQuery = graphql(`
  query APITokens {
    apiTokens {
      id
      name
      last4
      createdAt
      expiresAt
      lastUsedAt
      revokedAt
    }
  }
`);

const CreateAPITokenMutation = graphql(`
  mutation CreateAPIToken($input: CreateAPITokenInput!) {
    createAPIToken(input: $input) {
      token
      apiToken {
        id
        name
        last4
        createdAt
        expiresAt
        lastUsedAt
        revokedAt
      }
    }
  }
`);

const RevokeAPITokenMutation = graphql(`
  mutation RevokeAPIToken($id: ID!) {
    revokeAPIToken(id: $id) {
      id
      revokedAt
    }
  }
`);

type Token = ApiTokensQuery['apiTokens'][number];

const tokenContext = { additionalTypenames: ['APIToken'] };

export default function Settings() {
  const viewer = useViewer();
  return (
    <section className="page settings">
      <h1>Settings</h1>
      {viewer && (
        <section className="card profile" aria-labelledby="profile-h">
          <h2 id="profile-h">Profile</h2>
          <div className="profile-row">
            {viewer.avatarURL ? (
              <img src={viewer.avatarURL} alt="" width={56} height={56} className="avatar" referrerPolicy="no-referrer" />
            ) : (
              <span className="avatar placeholder" aria-hidden="true">{(viewer.name || viewer.email).slice(0, 1).toUpperCase()}</span>
            )}
            <dl className="meta">
              <dt>Name</dt>
              <dd>{viewer.name || '—'}</dd>
              <dt>Email</dt>
              <dd>{viewer.email}</dd>
              <dt>Role</dt>
              <dd>{viewer.role.toLowerCase()}</dd>
            </dl>
          </div>
          <p className="muted">Your name and picture come from your sign-in provider.</p>
        </section>
      )}
      <Tokens />
    </section>
  );
}

function Tokens() {
  const ids = useId();
  const [{ data, error }] = useQuery({ query: APITokensQuery, context: tokenContext });
  const [created, createToken] = useMutation(CreateAPITokenMutation);
  const [revoked, revokeToken] = useMutation(RevokeAPITokenMutation);
  const [name, setName] = useState('');
  const [expires, setExpires] = useState('');
  const [secret, setSecret] = useState<{ name: string; token: string } | null>(null);
  const [copied, setCopied] = useState(false);
  const [confirm, setConfirm] = useState<Token | null>(null);

  const submit = async (e: SyntheticEvent<HTMLFormElement>) => {
    e.preventDefault();
    setSecret(null);
    setCopied(false);
    const r = await createToken({ input: { name: name.trim(), expiresAt: fromDateInput(expires) } }, tokenContext);
    if (r.data) {
      setSecret({ name: r.data.createAPIToken.apiToken.name, token: r.data.createAPIToken.token });
      setName('');
      setExpires('');
    }
  };

  const copy = async () => {
    if (!secret) return;
    try {
      await navigator.clipboard.writeText(secret.token);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  };

  return (
    <section className="card tokens" aria-labelledby={`${ids}-h`}>
      <h2 id={`${ids}-h`}>API tokens</h2>
      <p>Scripts use a token as <code>Authorization: Bearer …</code>. A token acts with your role.</p>
      <form className="row wrap" onSubmit={submit}>
        <div className="field grow">
          <label htmlFor={`${ids}-name`}>Token name</label>
          <input id={`${ids}-name`} value={name} required maxLength={100} placeholder="e.g. backup script" onChange={(e) => { setName(e.target.value); }} />
        </div>
        <div className="field">
          <label htmlFor={`${ids}-exp`}>Expires (optional)</label>
          <input id={`${ids}-exp`} type="date" value={expires} onChange={(e) => { setExpires(e.target.value); }} />
        </div>
        <div className="form-actions">
          <button type="submit" className="primary" disabled={created.fetching || !name.trim()}>Create token</button>
        </div>
      </form>
      {created.error && <ErrorMessage error={created.error} title="Could not create the token" />}
      {secret && (
        <div className="secret" role="status">
          <p>
            <strong>Copy the token “{secret.name}” now.</strong> It is shown only once; the server keeps only a hash.
          </p>
          <div className="row">
            <label htmlFor={`${ids}-secret`} className="visually-hidden">New token</label>
            <input id={`${ids}-secret`} readOnly value={secret.token} className="mono grow" onFocus={(e) => { e.target.select(); }} />
            <button type="button" className="secondary" onClick={() => void copy()}>{copied ? 'Copied' : 'Copy'}</button>
            <button type="button" className="link" onClick={() => { setSecret(null); }}>Done</button>
          </div>
        </div>
      )}
      {revoked.error && <ErrorMessage error={revoked.error} title="Could not revoke the token" />}
      {error && !data ? (
        <ErrorMessage error={error} title="Could not load your tokens" />
      ) : !data ? (
        <Loading label="Loading tokens…" />
      ) : data.apiTokens.length === 0 ? (
        <Empty>You have no API tokens.</Empty>
      ) : (
        <div className="table-scroll">
          <table className="data">
            <caption className="visually-hidden">Your API tokens</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Token</th>
                <th scope="col">Created</th>
                <th scope="col">Expires</th>
                <th scope="col">Last used</th>
                <th scope="col"><span className="visually-hidden">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {data.apiTokens.map((t) => (
                <tr key={t.id}>
                  <td>{t.name}</td>
                  <td><code>…{t.last4}</code></td>
                  <td>{new Date(t.createdAt).toLocaleDateString()}</td>
                  <td>{t.expiresAt ? new Date(t.expiresAt).toLocaleDateString() : 'never'}</td>
                  <td>{t.lastUsedAt ? new Date(t.lastUsedAt).toLocaleString() : 'never'}</td>
                  <td>
                    {t.revokedAt ? (
                      <span className="badge">revoked</span>
                    ) : (
                      <button type="button" className="danger small" onClick={() => { setConfirm(t); }} aria-label={`Revoke token ${t.name}`}>
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {confirm && (
        <Dialog
          title={`Revoke “${confirm.name}”?`}
          onClose={() => { setConfirm(null); }}
          actions={
            <>
              <button type="button" className="secondary" onClick={() => { setConfirm(null); }}>Cancel</button>
              <button
                type="button"
                className="danger"
                onClick={() => {
                  const id = confirm.id;
                  setConfirm(null);
                  void revokeToken({ id }, tokenContext);
                }}
              >
                Revoke token
              </button>
            </>
          }
        >
          <p>Scripts using the token ending in {confirm.last4} will stop working at once.</p>
        </Dialog>
      )}
    </section>
  );
}
