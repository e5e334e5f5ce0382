import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { fakeServer, member, Wrapper } from '../../test/fakeServer';
import Settings from './Settings';

const token = { __typename: 'APIToken', id: '40', name: 'ci', last4: 'wxyz', createdAt: '2026-11-25T10:00:00Z', expiresAt: null, lastUsedAt: null, revokedAt: null as string | null };

describe('Settings', () => {
  it('shows a new token once, lists tokens and revokes after confirmation', async () => {
    const user = userEvent.setup();
    let tokens: (typeof token)[] = [];
    const s = fakeServer({
      APITokens: () => ({ apiTokens: tokens }),
      CreateAPIToken: () => {
        tokens = [token];
        return { createAPIToken: { __typename: 'CreateAPITokenPayload', token: 'tm_secretvalue_wxyz', apiToken: token } };
      },
      RevokeAPIToken: (v) => {
        tokens = [{ ...token, revokedAt: '2026-11-25T11:00:00Z' }];
        return { revokeAPIToken: { __typename: 'APIToken', id: v.id, revokedAt: '2026-11-25T11:00:00Z' } };
      },
    });
    render(
      <Wrapper client={s.client} viewer={member}>
        <Settings />
      </Wrapper>,
    );
    expect(screen.getByText('ada@example.com')).toBeInTheDocument();
    expect(await screen.findByText('You have no API tokens.')).toBeInTheDocument();

    await user.type(screen.getByLabelText('Token name'), 'ci');
    await user.click(screen.getByRole('button', { name: 'Create token' }));
    expect(await screen.findByDisplayValue('tm_secretvalue_wxyz')).toBeInTheDocument();
    expect(s.named('CreateAPIToken')[0]?.variables).toEqual({ input: { name: 'ci', expiresAt: null } });
    const row = await screen.findByRole('row', { name: /ci/ });
    expect(within(row).getByText('…wxyz')).toBeInTheDocument();

    // Copy-once: after "Done" the secret is gone from the page for good.
    await user.click(screen.getByRole('button', { name: 'Done' }));
    expect(screen.queryByDisplayValue('tm_secretvalue_wxyz')).not.toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: 'Revoke token ci' }));
    const dialog = screen.getByRole('dialog', { name: 'Revoke “ci”?' });
    await user.click(within(dialog).getByRole('button', { name: 'Revoke token' }));
    await waitFor(() => {
      expect(s.named('RevokeAPIToken').map((r) => r.variables)).toEqual([{ id: '40' }]);
    });
    expect(await within(screen.getByRole('row', { name: /ci/ })).findByText('revoked')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Revoke token ci' })).not.toBeInTheDocument();
  });
});
