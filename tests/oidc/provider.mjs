// A real OpenID Connect provider for the single sign-on tests: panva's oidc-provider
// (OpenID Certified), configured from the environment by tests/oidc_provider.py.
//   PORT, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI  the one client, Casebridge
//   ACCOUNTS      JSON {login: {email, email_verified, name}}; log in with that login
//   ID_TOKEN_TTL  seconds an ID token lasts (default 3600)
//   CLOCK_SHIFT   seconds added to this provider's clock (negative: it lives in the past)
//   WRONG_JWKS    "1": publish a key set that is not the one tokens are signed with
import { generateKeyPairSync } from 'node:crypto';

const shift = Number(process.env.CLOCK_SHIFT || 0) * 1000;
if (shift) {
  const realNow = Date.now;
  Date.now = () => realNow() + shift;
}

const { default: Provider } = await import('oidc-provider');

function rsaJwk(kid) {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' };
}

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const accounts = JSON.parse(process.env.ACCOUNTS || '{}');
const signing = rsaJwk('signing-key');

const provider = new Provider(issuer, {
  clients: [{
    client_id: process.env.CLIENT_ID,
    client_secret: process.env.CLIENT_SECRET,
    redirect_uris: [process.env.REDIRECT_URI],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'RS256',
  }],
  jwks: { keys: [signing] },
  findAccount: async (ctx, sub) => {
    const account = accounts[sub];
    if (!account) return undefined;
    return { accountId: sub, claims: async () => ({ sub, ...account }) };
  },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  ttl: { IdToken: Number(process.env.ID_TOKEN_TTL || 3600) },
  cookies: { keys: ['casebridge-test-cookie-key'] },
});

if (process.env.WRONG_JWKS === '1') {
  const { kty, n, e } = rsaJwk('signing-key');
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.path === '/jwks') ctx.body = { keys: [{ kty, n, e, kid: 'signing-key', use: 'sig', alg: 'RS256' }] };
  });
}

provider.on('server_error', (ctx, err) => console.error('server_error', err));

provider.listen(port, '127.0.0.1', () => console.log(`identity provider ready at ${issuer}`));
