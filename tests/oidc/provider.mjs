// A real OpenID provider (oidc-provider, a certified implementation) for the e2e suite's
// authorization tests (tests/src/oidc.rs), on loopback.
//
// Usage: node provider.mjs --port PORT --keys KEYS.json --clients CLIENTS.json [--new-keys]
//
// CLIENTS.json: [{"client_id", "client_secret", "scope": "a b", "alg": "RS256" | "ES256",
// "format": "jwt" | "opaque"}]: confidential clients using the client-credentials grant; each
// gets access tokens for whatever resource (RFC 8707 `resource`) it asks for, as audience:
// JWTs signed with its `alg`, or opaque ones (checked through introspection at
// /token/introspection, which any of these clients may call).
// KEYS.json: {"keys": [{"kid", "alg", "jwk", "pem"}]}: the private signing keys, newest first
// (the provider signs with the first key of an algorithm and publishes all of them at /jwks).
// --new-keys generates a fresh RS256 and ES256 key, puts them first and writes KEYS.json back
// (a key rotation); without KEYS.json it is created. The test reads the PEMs to sign its own
// tokens. Prints `listening http://127.0.0.1:PORT` once ready, then `METHOD PATH` per request.

import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import Provider from 'oidc-provider';

function args(argv) {
  const out = { newKeys: false };
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i];
    if (a === '--new-keys') out.newKeys = true;
    else if (['--port', '--keys', '--clients'].includes(a)) out[a.slice(2)] = argv[++i];
    else throw new Error(`unknown argument ${a}`);
  }
  for (const need of ['port', 'keys', 'clients']) {
    if (!out[need]) throw new Error(`missing --${need}`);
  }
  return out;
}

function newKey(alg) {
  const { privateKey } = alg === 'RS256'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    kid: `${alg.toLowerCase()}-${randomUUID().slice(0, 8)}`,
    alg,
    jwk: privateKey.export({ format: 'jwk' }),
    pem: privateKey.export({ format: 'pem', type: 'pkcs8' }),
  };
}

const opts = args(process.argv.slice(2));
let keys = existsSync(opts.keys) ? JSON.parse(readFileSync(opts.keys, 'utf8')).keys : [];
if (opts.newKeys || keys.length === 0) {
  keys = [newKey('RS256'), newKey('ES256'), ...keys];
  writeFileSync(opts.keys, JSON.stringify({ keys }, null, 2));
}
const clients = JSON.parse(readFileSync(opts.clients, 'utf8'));
const byId = Object.fromEntries(clients.map((c) => [c.client_id, c]));
const scopes = [...new Set(clients.flatMap((c) => c.scope.split(' ')).filter(Boolean))];

const issuer = `http://127.0.0.1:${opts.port}`;
const provider = new Provider(issuer, {
  clients: clients.map((c) => ({
    client_id: c.client_id,
    client_secret: c.client_secret,
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: c.scope,
  })),
  jwks: { keys: keys.map((k) => ({ ...k.jwk, kid: k.kid, alg: k.alg, use: 'sig' })) },
  scopes,
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: (_ctx, _client, oneOf) => oneOf,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, resource, client) => ({
        scope: scopes.join(' '),
        audience: resource,
        accessTokenTTL: 300,
        accessTokenFormat: byId[client.clientId]?.format ?? 'jwt',
        jwt: { sign: { alg: byId[client.clientId]?.alg ?? 'RS256' } },
      }),
    },
  },
});
provider.use(async (ctx, next) => {
  console.log(`${ctx.method} ${ctx.path}`);
  await next();
});
provider.on('server_error', (_ctx, error) => console.error(`server_error: ${error?.stack ?? error}`));
provider.on('grant.error', (_ctx, error) => console.error(`grant.error: ${error?.message} ${error?.error_description ?? ''}`));

const server = provider.listen(Number(opts.port), '127.0.0.1', () => {
  console.log(`listening ${issuer}`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
