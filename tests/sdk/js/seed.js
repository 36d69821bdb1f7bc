'use strict';
// The seed article's sample with a token obtained elsewhere (`client.setAccessToken`): the
// article's loginImplicitGrant then only validates it (GET /api/v2/tokens/me) and resolves.
//
//   node seed.js --base-url http://127.0.0.1:8080 --token TOKEN --queue-id QUEUE \
//                --phone +12025550123 --text 'Hello' [--client-id ID] [--redirect-uri URI]
// (or PARLEY_BASE_URL, PARLEY_TOKEN, PARLEY_QUEUE_ID, PARLEY_PHONE, PARLEY_TEXT, ...)
// Prints one JSON line: {ok, conversationId, communicationId, toAddress, ...} or
// {ok: false, failedCall, error}; exits 0 on success, 1 when the sample failed.

const h = require('./harness');

async function main() {
  const opts = h.options({
    'base-url': 'PARLEY_BASE_URL', token: 'PARLEY_TOKEN', 'queue-id': 'PARLEY_QUEUE_ID',
    phone: 'PARLEY_PHONE', text: 'PARLEY_TEXT', 'client-id': 'PARLEY_CLIENT_ID',
    'redirect-uri': 'PARLEY_REDIRECT_URI',
  });
  if (!h.requireOptions(opts, 'base-url', 'token', 'queue-id', 'phone', 'text')) return;
  const platformClient = h.loadSdk();
  if (!platformClient) return;
  const client = platformClient.ApiClient.instance;
  h.pointAt(client, opts['base-url']);
  client.setAccessToken(opts.token);

  const outcome = await h.runArticle(platformClient, client, {
    clientId: opts['client-id'] || 'preset-token', redirectUri: opts['redirect-uri'] ||
      'http://127.0.0.1/', queueId: opts['queue-id'], phone: opts.phone, text: opts.text,
  });
  const result = h.summary(outcome);
  h.emit(result, result.ok ? 0 : 1);
}

main().catch((e) => h.emit({ ok: false, stage: 'harness', error: h.describe(e) }, 3));
