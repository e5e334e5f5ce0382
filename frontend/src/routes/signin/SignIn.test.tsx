import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { buttonText, ProviderList } from './SignIn';

describe('buttonText', () => {
  const cases: [string, string][] = [
    ['GitHub', 'Sign in with GitHub'],
    ['Sign in with Google', 'Sign in with Google'],
    ['Log in with Okta', 'Log in with Okta'],
    ['Signal', 'Sign in with Signal'],
  ];
  for (const [label, want] of cases) {
    it(`${label} -> ${want}`, () => {
      expect(buttonText(label)).toBe(want);
    });
  }
});

describe('ProviderList', () => {
  it('offers one sign-in link per provider, carrying the redirect', () => {
    render(
      <ProviderList
        data={{ providers: [{ name: 'oidc', label: 'Sign in with Example ID' }, { name: 'github', label: 'GitHub' }], loginLink: false }}
        redirect="/board?x=1"
      />,
    );
    expect(screen.getByRole('link', { name: 'Sign in with Example ID' })).toHaveAttribute('href', '/auth/oidc?redirect=%2Fboard%3Fx%3D1');
    expect(screen.getByRole('link', { name: 'Sign in with GitHub' })).toHaveAttribute('href', '/auth/github?redirect=%2Fboard%3Fx%3D1');
    expect(screen.queryByText(/one-time sign-in link/)).not.toBeInTheDocument();
  });

  it('explains the console link when no provider is configured', () => {
    render(<ProviderList data={{ providers: [], loginLink: true }} redirect="/board" />);
    expect(screen.queryByRole('link')).not.toBeInTheDocument();
    expect(screen.getByText(/printed a one-time sign-in link in its console/)).toBeInTheDocument();
    expect(screen.getByText('taskmind login-link --email you@example.com')).toBeInTheDocument();
  });
});
