// Embedded OpenID Connect provider: a stand-in for Keycloak on one machine.
//
// It is npm's certified `oidc-provider`, mounted at Keycloak's paths
// (/realms/<realm>/protocol/openid-connect/auth|token|userinfo|certs|logout and discovery),
// and it reads clients, users, passwords and groups from the same realm export that a real
// Keycloak imports (hub_config/keycloak/*.json), so the two cannot drift. The realm file is
// read again at every sign-in: editing a user's groups takes effect at their next sign-in.
//
// Settings come from the environment (set by `autoformation up`):
//   OIDC_HOST, OIDC_PORT, OIDC_REALM_FILE, OIDC_CLIENT_SECRET,
//   OIDC_REDIRECT_URIS, OIDC_POST_LOGOUT_REDIRECT_URIS (comma-separated; override the realm's)
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import Provider from 'oidc-provider';

const env = (name, fallback) => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) {
    console.error(`oidc: missing environment variable ${name}`);
    process.exit(2);
  }
  return value;
};

const host = env('OIDC_HOST', '127.0.0.1');
const port = Number(env('OIDC_PORT'));
const realmFile = env('OIDC_REALM_FILE');
const clientSecret = env('OIDC_CLIENT_SECRET');
const list = (value) => value.split(',').map((s) => s.trim()).filter(Boolean);

const readRealm = () => JSON.parse(fs.readFileSync(realmFile, 'utf8'));
const realm = readRealm();
const prefix = `/realms/${realm.realm}`;
const issuer = `http://${host}:${port}${prefix}`;

// Keycloak's group membership mapper with full.path=false emits the last path segment.
const groupNames = (user) => (user.groups || []).map((path) => path.split('/').filter(Boolean).pop());
const findUser = (username) => (readRealm().users || []).find(
  (u) => u.username === username || (realm.loginWithEmailAllowed && u.email === username),
);

const clients = (realm.clients || []).filter((c) => c.enabled !== false && !c.publicClient).map((c) => ({
  client_id: c.clientId,
  client_name: c.name || c.clientId,
  client_secret: clientSecret,
  redirect_uris: process.env.OIDC_REDIRECT_URIS ? list(process.env.OIDC_REDIRECT_URIS) : c.redirectUris,
  post_logout_redirect_uris: process.env.OIDC_POST_LOGOUT_REDIRECT_URIS
    ? list(process.env.OIDC_POST_LOGOUT_REDIRECT_URIS)
    : list((c.attributes || {})['post.logout.redirect.uris'] || '').filter((u) => !u.includes('*')),
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_post',
}));

const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const page = (title, body) => `<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>${title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;background:#f2f4f8;margin:0}
.box{max-width:380px;margin:60px auto;background:#fff;padding:32px;border-radius:8px;box-shadow:0 2px 8px #0002}
h1{font-size:1.4em;margin-top:0;color:#000091}label{display:block;margin-top:14px}
input{width:100%;box-sizing:border-box;padding:8px;margin-top:4px;font-size:1em}
button{margin-top:20px;width:100%;padding:10px;font-size:1em;background:#000091;color:#fff;border:0;border-radius:4px;cursor:pointer}
button.secondary{background:#e5e5f4;color:#000091}.error{color:#b00;margin-top:12px}
.realm{color:#666;font-size:.9em}
</style></head><body><div class="box">${body}</div></body></html>`;
const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const provider = new Provider(issuer, {
  clients,
  jwks: { keys: [privateKey.export({ format: 'jwk' })] },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  pkce: { required: () => true },
  scopes: ['openid', 'profile', 'email', 'groups', 'offline_access'],
  claims: {
    openid: ['sub'],
    profile: ['preferred_username', 'name', 'given_name', 'family_name'],
    email: ['email', 'email_verified'],
    groups: ['groups'],
  },
  routes: {
    authorization: '/protocol/openid-connect/auth',
    token: '/protocol/openid-connect/token',
    userinfo: '/protocol/openid-connect/userinfo',
    jwks: '/protocol/openid-connect/certs',
    end_session: '/protocol/openid-connect/logout',
    introspection: '/protocol/openid-connect/token/introspect',
    revocation: '/protocol/openid-connect/revoke',
  },
  features: {
    devInteractions: { enabled: false },
    introspection: { enabled: true },
    revocation: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      logoutSource: async (ctx, form) => {
        ctx.body = page('Déconnexion', `<h1>Se déconnecter ?</h1>
          <p>Voulez-vous fermer votre session Autoformation ?</p>${form}
          <button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Se déconnecter</button>
          <button class="secondary" type="submit" form="op.logoutForm">Rester connecté</button>`);
      },
      postLogoutSuccessSource: async (ctx) => {
        ctx.body = page('Déconnecté', '<h1>Vous êtes déconnecté.</h1>');
      },
    },
  },
  interactions: { url: (ctx, interaction) => `${prefix}/login-actions/${interaction.uid}` },
  // Consent is not required for the platform's own client (as in the realm: consentRequired false).
  loadExistingGrant: async (ctx) => {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid profile email groups offline_access');
    await grant.save();
    return grant;
  },
  findAccount: async (ctx, sub) => {
    const user = findUser(sub);
    if (!user || user.enabled === false) return undefined;
    return {
      accountId: sub,
      claims: async () => ({
        sub: user.username,
        preferred_username: user.username,
        name: [user.firstName, user.lastName].filter(Boolean).join(' '),
        given_name: user.firstName,
        family_name: user.lastName,
        email: user.email,
        email_verified: Boolean(user.emailVerified),
        groups: groupNames(user),
      }),
    };
  },
  renderError: async (ctx, out) => {
    ctx.type = 'html';
    ctx.body = page('Erreur', `<h1>Connexion impossible</h1><p>${escape(out.error)}: ${escape(out.error_description || '')}</p>`);
  },
});
provider.on('server_error', (ctx, err) => console.error('oidc: server error', err));

const readForm = (req) => new Promise((resolve, reject) => {
  let body = '';
  req.on('data', (chunk) => {
    body += chunk;
    if (body.length > 10000) reject(new Error('form too large'));
  });
  req.on('end', () => resolve(new URLSearchParams(body)));
  req.on('error', reject);
});

const loginForm = (uid, username = '', error = '') => page('Connexion', `
  <h1>Connexion</h1><p class="realm">${escape(realm.displayName || realm.realm)}</p>
  <form method="post" action="${prefix}/login-actions/${uid}" autocomplete="off">
    <label for="username">Identifiant ou courriel</label>
    <input id="username" name="username" value="${escape(username)}" autofocus required>
    <label for="password">Mot de passe</label>
    <input id="password" name="password" type="password" required>
    ${error ? `<p class="error" role="alert">${escape(error)}</p>` : ''}
    <button id="kc-login" type="submit">Se connecter</button>
  </form>`);

// Passwords in a realm export: plain `value` (as Keycloak imports them) or Keycloak's pbkdf2 hash.
const passwordMatches = (user, password) => (user.credentials || []).some((cred) => {
  if (cred.type !== 'password') return false;
  if (cred.value !== undefined) {
    const a = Buffer.from(String(cred.value));
    const b = Buffer.from(String(password));
    return a.length === b.length && crypto.timingSafeEqual(a, b);
  }
  if (cred.secretData && cred.credentialData) {
    const { value, salt } = JSON.parse(cred.secretData);
    const { hashIterations, algorithm } = JSON.parse(cred.credentialData);
    const digest = { 'pbkdf2-sha256': 'sha256', 'pbkdf2-sha512': 'sha512', pbkdf2: 'sha1' }[algorithm];
    if (!digest) return false;
    const expected = Buffer.from(value, 'base64');
    const actual = crypto.pbkdf2Sync(password, Buffer.from(salt, 'base64'), hashIterations, expected.length, digest);
    return crypto.timingSafeEqual(expected, actual);
  }
  return false;
});

async function interaction(req, res, uid) {
  const details = await provider.interactionDetails(req, res);
  if (details.prompt.name !== 'login') {
    // Consent is granted by loadExistingGrant; nothing to ask.
    await provider.interactionFinished(req, res, {}, { mergeWithLastSubmission: true });
    return;
  }
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  if (req.method === 'GET') {
    res.end(loginForm(uid));
    return;
  }
  const form = await readForm(req);
  const username = (form.get('username') || '').trim();
  const user = findUser(username);
  if (!user || !passwordMatches(user, form.get('password') || '')) {
    res.statusCode = 401;
    res.end(loginForm(uid, username, 'Identifiant ou mot de passe incorrect.'));
    return;
  }
  if (user.enabled === false) {
    res.statusCode = 403;
    res.end(loginForm(uid, username, 'Ce compte est désactivé.'));
    return;
  }
  await provider.interactionFinished(req, res, { login: { accountId: user.username } }, { mergeWithLastSubmission: false });
}

const callback = provider.callback();
const server = http.createServer(async (req, res) => {
  try {
    const match = req.url.match(new RegExp(`^${prefix}/login-actions/([\\w-]+)`));
    if (match) {
      await interaction(req, res, match[1]);
    } else if (req.url === '/health' || req.url === `${prefix}/health`) {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ status: 'UP', realm: realm.realm }));
    } else if (req.url.startsWith(`${prefix}/`)) {
      // Mount the provider under the realm's path, as connect/express would.
      req.originalUrl = req.url;
      req.url = req.url.slice(prefix.length);
      callback(req, res);
    } else {
      res.statusCode = 404;
      res.end('not found');
    }
  } catch (err) {
    console.error('oidc: error', err);
    res.statusCode = err.statusCode || 500;
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(page('Erreur', `<h1>Connexion impossible</h1><p>${escape(err.error_description || err.message)}</p>`
      + '<p>Retournez à la plateforme et recommencez la connexion.</p>'));
  }
});
server.listen(port, host, () => {
  console.log(`oidc: realm '${realm.realm}' (${(realm.users || []).length} users) at ${issuer}`);
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.close(() => process.exit(0)));
