import { useState } from 'react';

/** SignOutButton ends the server session and reloads, dropping all cached data. */
export function SignOutButton() {
  const [busy, setBusy] = useState(false);
  const [failed, setFailed] = useState(false);
  const signOut = async () => {
    setBusy(true);
    setFailed(false);
    try {
      const res = await fetch('/auth/logout', { method: 'POST', credentials: 'same-origin' });
      if (!res.ok && res.status !== 302) throw new Error(String(res.status));
      window.location.assign('/');
    } catch {
      setFailed(true);
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" className="secondary" onClick={signOut} disabled={busy}>
        Sign out
      </button>
      {failed && <span role="alert" className="inline-error">Sign-out failed</span>}
    </>
  );
}
