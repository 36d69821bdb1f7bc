'use strict';
// The seed article's sample as a browser page runs it, in Node: loginImplicitGrant for real.
//
// Minimal fake browser globals (window.location, history, document) let the SDK's implicit
// grant run unmodified (genesys-api.md 3.2):
//   1. First page load: loginImplicitGrant finds no token and navigates away with
//      window.location.replace(<login>/oauth/authorize?...). We capture that URL.
//   2. The "browser" loads the login page and submits the form (username/password) over
//      HTTP; the server answers 302 to redirect_uri#access_token=...&state=...
//   3. Second page load: location.hash holds that fragment; the article's sample runs, its
//      loginImplicitGrant picks the token up from the hash, checks it (GET
//      /api/v2/tokens/me) and resolves, and the three calls follow.
//
//   node implicit.js --base-url URL --client-id ID --redirect-uri URI --queue-id QUEUE \
//                    --phone +1... --text 'Hello'   (PARLEY_USERNAME, PARLEY_PASSWORD in env)
// Prints one JSON line like seed.js, plus authorizeUrl, fragment and login.

const h = require('./harness');

function fakeBrowser(pageUrl, onNavigate) {
  const page = new URL(pageUrl);
  const location = {
    href: page.href, origin: page.origin, protocol: page.protocol, host: page.host,
    hostname: page.hostname, port: page.port, pathname: page.pathname, search: page.search,
    hash: '',
    replace(url) { onNavigate(String(url)); },
    assign(url) { onNavigate(String(url)); },
  };
  globalThis.window = { location, addEventListener() {}, removeEventListener() {} };
  globalThis.history = {
    replaceState(_state, _title, url) {
      const next = new URL(url, location.href);
      location.pathname = next.pathname;
      location.search = next.search;
      location.hash = next.hash;
      location.href = next.href;
    },
  };
  globalThis.document = { title: 'Parley SDK test page', body: { scrollTop: 0, scrollLeft: 0 } };
  return location;
}

async function browserLogin(authorizeUrl, username, password) {
  const page = await fetch(authorizeUrl, { redirect: 'manual' });
  const html = await page.text();
  if (page.status !== 200 || !html.includes('<form')) {
    throw new Error(`login page: HTTP ${page.status}: ${html.slice(0, 300)}`);
  }
  const url = new URL(authorizeUrl);
  const form = new URLSearchParams(url.searchParams);
  form.set('username', username);
  form.set('password', password);
  const resp = await fetch(`${url.origin}${url.pathname}`, {
    method: 'POST', body: form, redirect: 'manual',
  });
  const location = resp.headers.get('location');
  if (resp.status !== 302 || !location) {
    throw new Error(`login form: HTTP ${resp.status}: ${(await resp.text()).slice(0, 300)}`);
  }
  return location;
}

async function main() {
  const opts = h.options({
    'base-url': 'PARLEY_BASE_URL', 'client-id': 'PARLEY_CLIENT_ID',
    'redirect-uri': 'PARLEY_REDIRECT_URI', 'queue-id': 'PARLEY_QUEUE_ID',
    phone: 'PARLEY_PHONE', text: 'PARLEY_TEXT', username: 'PARLEY_USERNAME',
    password: 'PARLEY_PASSWORD', state: 'PARLEY_STATE',
  });
  if (!h.requireOptions(opts, 'base-url', 'client-id', 'redirect-uri', 'queue-id', 'phone', 'text',
    'username', 'password')) return;
  const redirectUri = opts['redirect-uri'];

  const navigations = [];
  let navigated;
  const navigation = new Promise((resolve) => { navigated = resolve; });
  const location = fakeBrowser(redirectUri, (url) => {
    navigations.push(url);
    if (navigations.length === 1) {
      navigated(url);
    } else {  // the second page load must not be sent to the login page again
      h.emit({ ok: false, stage: 'second-login', navigations, error: {
        message: 'loginImplicitGrant navigated to the login page again' } }, 1);
    }
  });

  const platformClient = h.loadSdk();
  if (!platformClient) return;
  const client = platformClient.ApiClient.instance;
  h.pointAt(client, opts['base-url']);

  // 1. First page load: no token anywhere, so the SDK sends the browser to the login page.
  const first = client.loginImplicitGrant(opts['client-id'], redirectUri,
    opts.state ? { state: opts.state } : undefined);
  first.then(
    () => h.emit({ ok: false, stage: 'first-login', error: {
      message: 'loginImplicitGrant resolved without a token' } }, 1),
    (e) => h.emit({ ok: false, stage: 'first-login', error: h.describe(e) }, 1));
  const authorizeUrl = await Promise.race([navigation, new Promise((_, reject) => setTimeout(
    () => reject(new Error('loginImplicitGrant did not navigate to the login page')), 10000))]);

  // 2. The login page and its form, as the browser would load and submit them.
  const target = await browserLogin(authorizeUrl, opts.username, opts.password);
  const back = new URL(target);
  const fragment = back.hash;

  // 3. Second page load, at redirect_uri#access_token=...: the article's sample runs.
  location.href = back.href;
  location.pathname = back.pathname;
  location.search = back.search;
  location.hash = fragment;
  const outcome = await h.runArticle(platformClient, client, {
    clientId: opts['client-id'], redirectUri, queueId: opts['queue-id'], phone: opts.phone,
    text: opts.text,
  });
  const result = h.summary(outcome);
  result.authorizeUrl = authorizeUrl;
  result.redirectedTo = `${back.origin}${back.pathname}${back.search}`;
  result.fragment = fragment;
  result.hashAfterLogin = location.hash;
  result.navigations = navigations;
  h.emit(result, result.ok ? 0 : 1);
}

main().catch((e) => h.emit({ ok: false, stage: 'harness', error: h.describe(e) }, 3));
