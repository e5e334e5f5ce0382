// A minimal OpenID Connect provider for the end-to-end suite: discovery,
// authorization code flow with PKCE (S256), RS256-signed ID tokens, JWKS and
// userinfo. It has no login page: /authorize signs in the next queued user
// (or the default one) and redirects straight back, like mockoidc. It listens
// on 127.0.0.1 only and keeps everything in memory.
import { createHash, generateKeyPairSync, randomBytes, createSign } from 'node:crypto';
import { createServer } from 'node:http';

const b64url = (buf) => Buffer.from(buf).toString('base64url');

export async function startOIDC({ clientId, clientSecret, defaultUser }) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = b64url(randomBytes(8));
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
  const queue = [];
  const codes = new Map();
  const accessTokens = new Map();
  let issuer = '';

  const sign = (claims) => {
    const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid }));
    const body = b64url(JSON.stringify(claims));
    const sig = createSign('RSA-SHA256').update(`${header}.${body}`).sign(privateKey);
    return `${header}.${body}.${b64url(sig)}`;
  };

  const json = (res, status, obj) => {
    res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
    res.end(JSON.stringify(obj));
  };

  const readForm = (req) =>
    new Promise((resolve) => {
      let data = '';
      req.on('data', (c) => (data += c));
      req.on('end', () => resolve(new URLSearchParams(data)));
    });

  const clientAuth = (req, form) => {
    const h = req.headers.authorization ?? '';
    if (h.startsWith('Basic ')) {
      const [id, secret] = Buffer.from(h.slice(6), 'base64').toString().split(':').map(decodeURIComponent);
      return id === clientId && secret === clientSecret;
    }
    return form.get('client_id') === clientId && form.get('client_secret') === clientSecret;
  };

  const server = createServer(async (req, res) => {
    const url = new URL(req.url, issuer);
    try {
      if (url.pathname === '/.well-known/openid-configuration') {
        return json(res, 200, {
          issuer,
          authorization_endpoint: `${issuer}/authorize`,
          token_endpoint: `${issuer}/token`,
          userinfo_endpoint: `${issuer}/userinfo`,
          jwks_uri: `${issuer}/jwks`,
          response_types_supported: ['code'],
          subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: ['RS256'],
          scopes_supported: ['openid', 'email', 'profile'],
          token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
          code_challenge_methods_supported: ['S256'],
          claims_supported: ['sub', 'email', 'email_verified', 'name', 'picture'],
        });
      }
      if (url.pathname === '/jwks') return json(res, 200, { keys: [jwk] });
      if (url.pathname === '/authorize') {
        const q = url.searchParams;
        if (q.get('client_id') !== clientId || q.get('response_type') !== 'code' || !q.get('redirect_uri')) {
          return json(res, 400, { error: 'invalid_request' });
        }
        const user = queue.shift() ?? defaultUser;
        const code = b64url(randomBytes(16));
        codes.set(code, {
          user,
          nonce: q.get('nonce'),
          redirectURI: q.get('redirect_uri'),
          challenge: q.get('code_challenge'),
          method: q.get('code_challenge_method'),
        });
        const back = new URL(q.get('redirect_uri'));
        back.searchParams.set('code', code);
        if (q.get('state')) back.searchParams.set('state', q.get('state'));
        res.writeHead(302, { Location: back.toString() });
        return res.end();
      }
      if (url.pathname === '/token' && req.method === 'POST') {
        const form = await readForm(req);
        if (!clientAuth(req, form)) return json(res, 401, { error: 'invalid_client' });
        const grant = codes.get(form.get('code') ?? '');
        codes.delete(form.get('code') ?? '');
        if (!grant || form.get('grant_type') !== 'authorization_code' || form.get('redirect_uri') !== grant.redirectURI) {
          return json(res, 400, { error: 'invalid_grant' });
        }
        if (grant.challenge) {
          const verifier = form.get('code_verifier') ?? '';
          if (grant.method !== 'S256' || b64url(createHash('sha256').update(verifier).digest()) !== grant.challenge) {
            return json(res, 400, { error: 'invalid_grant', error_description: 'PKCE verification failed' });
          }
        }
        const now = Math.floor(Date.now() / 1000);
        const sub = b64url(createHash('sha256').update(grant.user.email).digest()).slice(0, 20);
        const claims = { sub, email: grant.user.email, email_verified: true, name: grant.user.name };
        const access = b64url(randomBytes(24));
        accessTokens.set(access, claims);
        const idToken = sign({ iss: issuer, aud: clientId, iat: now, exp: now + 600, ...(grant.nonce ? { nonce: grant.nonce } : {}), ...claims });
        return json(res, 200, { access_token: access, token_type: 'Bearer', expires_in: 600, id_token: idToken });
      }
      if (url.pathname === '/userinfo') {
        const claims = accessTokens.get((req.headers.authorization ?? '').replace(/^Bearer /, ''));
        return claims ? json(res, 200, claims) : json(res, 401, { error: 'invalid_token' });
      }
      json(res, 404, { error: 'not_found' });
    } catch (err) {
      json(res, 500, { error: 'server_error', error_description: String(err) });
    }
  });

  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${server.address().port}`;
  return {
    issuer,
    /** queueUser makes the next sign-in return this user. */
    queueUser: (user) => queue.push(user),
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
