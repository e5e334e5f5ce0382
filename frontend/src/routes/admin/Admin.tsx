import { useId, useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../../gql';
import type { UserRole } from '../../gql/graphql';
import { Empty, ErrorMessage, Loading } from '../../components/Status';
import { useDebounced } from '../../lib/useDebounced';
import { isAdmin, useViewer } from '../../lib/viewer';

const PAGE_SIZE = 50;
const roles: UserRole[] = ['ADMIN', 'MEMBER', 'VIEWER'];

const UsersQuery = graphql(`
  query AdminUsers($first: Int, $after: Cursor, $last: Int, $before: Cursor, $where: UserWhereInput) {
    users(first: $first, after: $after, last: $last, before: $before, where: $where, orderBy: { field: EMAIL, direction: ASC }) {
      totalCount
      pageInfo {
        hasNextPage
        hasPreviousPage
        startCursor
        endCursor
      }
      edges {
        node {
          id
          email
          name
          role
          disabled
          createdAt
        }
      }
    }
  }
`);

const SetUserRoleMutation = graphql(`
  mutation SetUserRole($id: ID!, $role: UserRole!) {
    setUserRole(id: $id, role: $role) {
      id
      role
    }
  }
`);

const SetUserDisabledMutation = graphql(`
  mutation SetUserDisabled($id: ID!, $disabled: Boolean!) {
    setUserDisabled(id: $id, disabled: $disabled) {
      id
      disabled
    }
  }
`);

export default function Admin() {
  const viewer = useViewer();
  if (!isAdmin(viewer)) {
    return (
      <section className="page narrow">
        <h1>Administration</h1>
        <ErrorMessage error="Only administrators can manage users." title="Not allowed" />
      </section>
    );
  }
  return <Users selfId={viewer?.id ?? ''} />;
}

function Users({ selfId }: { selfId: string }) {
  const ids = useId();
  const [text, setText] = useState('');
  const search = useDebounced(text.trim(), 300);
  const [page, setPage] = useState<{ after?: string; before?: string; search: string }>({ search: '' });
  // Paging positions belong to one search; a new search starts on page one.
  const pos = page.search === search ? page : { search };
  const where = search ? { or: [{ emailContainsFold: search }, { nameContainsFold: search }] } : undefined;
  const variables = pos.before ? { last: PAGE_SIZE, before: pos.before, where } : { first: PAGE_SIZE, after: pos.after, where };
  const [{ data, error, fetching }] = useQuery({ query: UsersQuery, variables });
  const [roleRes, setUserRole] = useMutation(SetUserRoleMutation);
  const [disRes, setUserDisabled] = useMutation(SetUserDisabledMutation);
  const conn = data?.users;
  const users = (conn?.edges ?? []).flatMap((e) => (e?.node ? [e.node] : []));
  const mutationError = roleRes.error ?? disRes.error;

  return (
    <section className="page admin">
      <h1>Users</h1>
      <p className="lead">Change what people may do. Viewers read, members edit, admins also manage users and models.</p>
      <div className="filters">
        <div className="field grow">
          <label htmlFor={`${ids}-q`}>Search users</label>
          <input id={`${ids}-q`} type="search" value={text} placeholder="Name or email" onChange={(e) => { setText(e.target.value); }} />
        </div>
      </div>
      {mutationError && <ErrorMessage error={mutationError} title="The change was not saved" />}
      {error && !conn ? (
        <ErrorMessage error={error} title="Could not load users" />
      ) : !conn ? (
        <Loading label="Loading users…" />
      ) : users.length === 0 ? (
        <Empty>No users match.</Empty>
      ) : (
        <div className="table-scroll">
          <table className="data">
            <caption className="visually-hidden">Users</caption>
            <thead>
              <tr>
                <th scope="col">User</th>
                <th scope="col">Role</th>
                <th scope="col">Access</th>
              </tr>
            </thead>
            <tbody>
              {users.map((u) => {
                const self = u.id === selfId;
                return (
                  <tr key={u.id} className={u.disabled ? 'disabled' : undefined}>
                    <td>
                      <strong>{u.name || '—'}</strong>
                      <br />
                      <span className="muted">{u.email}</span>
                    </td>
                    <td>
                      <label htmlFor={`${ids}-role-${u.id}`} className="visually-hidden">Role of {u.email}</label>
                      <select
                        id={`${ids}-role-${u.id}`}
                        value={u.role}
                        disabled={self}
                        title={self ? 'You cannot change your own role' : undefined}
                        onChange={(e) => void setUserRole({ id: u.id, role: e.target.value as UserRole })}
                      >
                        {roles.map((r) => (
                          <option key={r} value={r}>{r.charAt(0) + r.slice(1).toLowerCase()}</option>
                        ))}
                      </select>
                    </td>
                    <td>
                      <button
                        type="button"
                        className={u.disabled ? 'secondary small' : 'danger small'}
                        disabled={self}
                        aria-label={`${u.disabled ? 'Enable' : 'Disable'} ${u.email}`}
                        onClick={() => void setUserDisabled({ id: u.id, disabled: !u.disabled })}
                      >
                        {u.disabled ? 'Enable' : 'Disable'}
                      </button>
                      {u.disabled && <span className="badge">disabled</span>}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {conn && (
        <nav className="pager" aria-label="Pages">
          <button type="button" className="secondary" disabled={!conn.pageInfo.hasPreviousPage || fetching} onClick={() => { setPage({ search, before: conn.pageInfo.startCursor ?? undefined }); }}>
            Previous
          </button>
          <span>{conn.totalCount} users</span>
          <button type="button" className="secondary" disabled={!conn.pageInfo.hasNextPage || fetching} onClick={() => { setPage({ search, after: conn.pageInfo.endCursor ?? undefined }); }}>
            Next
          </button>
        </nav>
      )}
    </section>
  );
}
