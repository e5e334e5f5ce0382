import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { Viewer } from '../../lib/viewer';
import { fakeServer, member, Wrapper } from '../../test/fakeServer';
import Admin from './Admin';

const admin: Viewer = { ...member, id: '1', role: 'ADMIN' };
const user = (id: string, email: string, role: string, disabled = false) => ({
  __typename: 'User',
  id,
  email,
  name: email.split('@')[0],
  role,
  disabled,
  createdAt: '2026-11-25T10:00:00Z',
});

function renderAdmin(viewer: Viewer) {
  const s = fakeServer({
    AdminUsers: () => ({
      users: {
        __typename: 'UserConnection',
        totalCount: 2,
        pageInfo: { __typename: 'PageInfo', hasNextPage: false, hasPreviousPage: false, startCursor: 'a', endCursor: 'b' },
        edges: [
          { __typename: 'UserEdge', node: user('1', 'ada@example.com', 'ADMIN') },
          { __typename: 'UserEdge', node: user('2', 'max@example.com', 'MEMBER') },
        ],
      },
    }),
    SetUserRole: (v) => ({ setUserRole: { __typename: 'User', id: v.id, role: v.role } }),
    SetUserDisabled: (v) => ({ setUserDisabled: { __typename: 'User', id: v.id, disabled: v.disabled } }),
  });
  render(
    <Wrapper client={s.client} viewer={viewer}>
      <Admin />
    </Wrapper>,
  );
  return s;
}

describe('Admin', () => {
  it('changes roles and disables users, but not oneself', async () => {
    const u = userEvent.setup();
    const s = renderAdmin(admin);
    const maxRole = await screen.findByLabelText('Role of max@example.com');
    expect(screen.getByLabelText('Role of ada@example.com')).toBeDisabled();
    expect(screen.getByRole('button', { name: 'Disable ada@example.com' })).toBeDisabled();

    await u.selectOptions(maxRole, 'VIEWER');
    await u.click(screen.getByRole('button', { name: 'Disable max@example.com' }));
    await waitFor(() => {
      expect(s.named('SetUserDisabled').map((m) => m.variables)).toEqual([{ id: '2', disabled: true }]);
    });
    expect(s.named('SetUserRole').map((m) => m.variables)).toEqual([{ id: '2', role: 'VIEWER' }]);
  });

  it('refuses non-admins without asking the server', () => {
    const s = renderAdmin(member);
    expect(screen.getByRole('alert')).toHaveTextContent('Only administrators can manage users.');
    expect(s.sent).toHaveLength(0);
  });
});
