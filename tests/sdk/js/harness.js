'use strict';
// Shared by seed.js and implicit.js: arguments, the SDK pointed at Parley, a recorder of the
// SDK calls the article makes, and the one JSON line each script prints.

const { articleSample } = require('./article');

const RUN_TIMEOUT_MS = 20000;

function loadSdk() {
  try {
    return require('purecloud-platform-client-v2');
  } catch (e) {
    emit({ ok: false, stage: 'require', error: describe(e) }, 3);
    return null;
  }
}

// --name value pairs, each falling back to an environment variable.
function options(names) {
  const argv = process.argv.slice(2);
  const out = {};
  for (const [name, envName] of Object.entries(names)) {
    const i = argv.indexOf(`--${name}`);
    out[name] = i >= 0 && i + 1 < argv.length ? argv[i + 1] : process.env[envName];
  }
  return out;
}

function requireOptions(opts, ...names) {
  const missing = names.filter((n) => !opts[n]);
  if (missing.length) {
    emit({ ok: false, stage: 'arguments', error: { message: `missing: ${missing.join(', ')}` } },
      2);
    return false;
  }
  return true;
}

// The gateway recipe from genesys-api.md 2.2: API and login URLs both go to this server.
function pointAt(client, baseUrl) {
  const url = new URL(baseUrl);
  const gateway = { host: url.hostname, protocol: url.protocol.replace(':', '') };
  if (url.port) gateway.port = Number(url.port);
  client.setGateway(gateway);
  return gateway;
}

function describe(value) {
  if (value instanceof Error) return { errorClass: value.name, message: value.message };
  if (value === undefined) return null;
  try {
    return JSON.parse(JSON.stringify(value));
  } catch (e) {
    return { message: String(value) };
  }
}

// A view of an SDK object that records every method call and how it settled. Calls go to the
// real object with `this` bound to it, so the SDK behaves exactly as without the recorder.
function recorded(target, calls) {
  return new Proxy(target, {
    get(obj, prop) {
      const value = obj[prop];
      if (typeof value !== 'function') return value;
      return (...args) => {
        const call = { method: String(prop), args: describe(args) };
        calls.push(call);
        const result = value.apply(obj, args);
        if (result && typeof result.then === 'function') {
          result.then(
            (data) => { call.ok = true; call.result = describe(data); },
            (err) => { call.ok = false; call.error = describe(err); });
        }
        return result;
      };
    },
  });
}

// Run the article's sample; resolve with its alert text, reject with the first failure.
function runArticle(platformClient, client, args) {
  const calls = [];
  const apiInstance = recorded(new platformClient.ConversationsApi(), calls);
  const login = recorded(client, calls);
  return new Promise((resolve) => {
    const finish = (outcome) => {
      clearTimeout(timer);
      process.removeListener('unhandledRejection', onRejection);
      resolve({ ...outcome, calls });
    };
    const onRejection = (reason) => finish({ ok: false, error: describe(reason) });
    const timer = setTimeout(() => finish({ ok: false, error: {
      message: `the sample did not finish within ${RUN_TIMEOUT_MS} ms` } }), RUN_TIMEOUT_MS);
    process.on('unhandledRejection', onRejection);
    try {
      articleSample(login, apiInstance, args.clientId, args.redirectUri, args.queueId,
        args.phone, args.text, (text) => finish({ ok: true, alert: text }));
    } catch (e) {
      finish({ ok: false, error: describe(e) });
    }
  });
}

// Pull the interesting values out of the recorded calls.
function summary(outcome) {
  const result = (method) => {
    const call = outcome.calls.find((c) => c.method === method && c.ok);
    return call ? call.result : undefined;
  };
  const failed = outcome.calls.find((c) => c.ok === false);
  const created = result('postConversationsMessages');
  const conversation = result('getConversation');
  const sent = result('postConversationsMessageCommunicationMessages');
  const agent = conversation && conversation.participants.find((p) => p.purpose === 'agent');
  return {
    ok: outcome.ok,
    alert: outcome.alert,
    error: outcome.error,
    failedCall: failed ? failed.method : undefined,
    login: result('loginImplicitGrant'),
    conversationId: created && created.id,
    communicationId: agent && agent.messages[0].id,
    agentUserId: agent && agent.userId,
    agentQueueId: agent && agent.queueId,
    toAddress: sent && sent.toAddress,
    fromAddress: sent && sent.fromAddress,
    messageId: sent && sent.id,
    text: sent && sent.normalizedMessage && sent.normalizedMessage.text,
    calls: outcome.calls.map((c) => ({ method: c.method, ok: c.ok })),
  };
}

// Print one JSON line (the last line of stdout) and exit once it is written.
function emit(result, code) {
  process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(code));
}

module.exports = { loadSdk, options, requireOptions, pointAt, runArticle, summary, emit, describe };
