// A real OpenID Connect provider for the sign-in tests: panva's certified `oidc-provider`, configured
// from a JSON file (argument 1) that tests/oidc_provider.py writes. Not for production use.
//
// - devInteractions: a login page that takes any login name (the account) and any password, then a
//   consent page; the account's role and organisation come from `accounts` in the configuration.
// - Access tokens are JWTs (RFC 9068) for the resource indicator `resource`, with audience `audience`,
//   carrying `org` and `realm_access.roles` as the API reads them (GROEIRUIMTE_OIDC_ROLES_CLAIM).
// - Every start makes a fresh RSA signing key: restarting on the same port is a key rotation.
// Prints "listening <issuer>" once it accepts connections.
import { createPrivateKey, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

import Provider, { errors } from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const issuer = `http://127.0.0.1:${config.port}`;

// The key comes out of generation as PEM and is exported as a JWK from a key object of its own. Exporting
// the generated key object itself deadlocked Node 20 now and then (about one start in ten here): a garbage
// collection during the export destroyed the generation job, whose destructor waits for the lock the
// export holds.
function signingKey() {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const jwk = createPrivateKey(privateKey).export({ format: 'jwk' });
  return { ...jwk, kid: `test-${randomUUID().slice(0, 8)}`, alg: 'RS256', use: 'sig' };
}

// The API's claims for a signed-in account or (client credentials) a service client; none when unknown.
function apiClaims(subject) {
  const found = config.accounts[subject] ?? config.serviceClients?.[subject];
  if (!found) return undefined;
  return { org: found.org, realm_access: { roles: found.roles } };
}

const resourceServers = {
  [config.resource]: config.audience,
  ...config.otherResources,
};

const provider = new Provider(issuer, {
  clients: config.clients,
  jwks: { keys: [signingKey()] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  pkce: { required: () => true },
  claims: { openid: ['sub'], profile: ['name'], email: ['email'] },
  async findAccount(ctx, sub) {
    return {
      accountId: sub,
      async claims() {
        const account = config.accounts[sub];
        return account ? { sub, name: account.name, email: account.email } : { sub };
      },
    };
  },
  async extraTokenClaims(ctx, token) {
    return apiClaims(token.accountId ?? token.clientId);
  },
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => config.resource,
      getResourceServerInfo(ctx, resourceIndicator) {
        const audience = resourceServers[resourceIndicator];
        if (!audience) throw new errors.InvalidTarget();
        return {
          audience,
          scope: 'leads',
          accessTokenTTL: config.accessTokenTTL ?? 600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
});

createServer(provider.callback()).listen(config.port, '127.0.0.1', () => {
  console.log(`listening ${issuer}`);
});
