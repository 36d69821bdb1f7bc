// The agent desktop: routing status and presence, offers that pop up (accept / decline),
// the agent's conversations with a live transcript (delivery status per outbound text, the
// customer's opt-out state), replies with a live segment counter, transfer, disconnect with a
// wrap-up code (after-call work until one is given, where the queue makes it mandatory), and
// "+" new interactions on behalf of a queue (the seed article's sample).
//
// Live: notifications on v2.users.{me}.conversations.messages / .routingStatus / .presence.
// Delivery statuses are not pushed as events (yet), so the open transcript is also re-read
// every few seconds.
import { all, api } from "./api.js";
import { $, debounce, fill, formatTime, h, toast } from "./dom.js";
import { Notifications } from "./notifications.js";
import { normalise, problem } from "./phone.js";
import { act, report, setLive, startPage } from "./shell.js";
import { analyse, describe, MAX_SEND_CHARACTERS } from "./sms.js";

const TRANSCRIPT_POLL_MS = 3000;
const STATUS_LABELS = {
  OFF_QUEUE: "Off queue: no offers", IDLE: "On queue, waiting for offers",
  INTERACTING: "On queue, handling conversations",
  NOT_RESPONDING: "Missed an offer: go On Queue again to receive offers",
  COMMUNICATING: "Communicating",
};
const DELIVERY = { queued: "queued", sent: "sent", "delivery-success": "delivered",
  "delivery-failed": "failed", failed: "failed", received: "received" };
const MANDATORY = new Set(["MANDATORY", "MANDATORY_TIMEOUT", "MANDATORY_FORCED_TIMEOUT"]);

const state = {
  me: null,
  convs: new Map(),      // id -> {view, mine, customer}
  selected: null,
  texts: new Map(),      // message id -> MessageData (texts never change; statuses come fresh)
  queues: new Map(),     // id -> Queue
  numbers: new Map(),    // number id -> SmsPhoneNumber
  codes: null,
  acw: new Map(),        // conversation id -> after-call work waiting for a wrap-up code
};

// -- helpers ------------------------------------------------------------------------------

function myParty(view) {
  const mine = view.participants.filter((p) => p.purpose === "agent" && p.user &&
    p.user.id === state.me.id);
  return mine.find((p) => p.state === "alerting") ||
    mine.find((p) => p.state === "connected") || null;
}

function customerOf(view) {
  return view.participants.find((p) => p.purpose === "customer") || null;
}

function customerNumber(customer) {
  if (!customer) return "unknown number";
  return customer.address || (customer.fromAddress && customer.fromAddress.addressNormalized) || "unknown number";
}

async function text(conversationId, messageId) {
  if (!state.texts.has(messageId)) {
    state.texts.set(messageId,
      await api(`/api/v2/conversations/messages/${conversationId}/messages/${messageId}`));
  }
  return state.texts.get(messageId);
}

function bodyOf(m) {
  return (m.normalizedMessage && m.normalizedMessage.text) || m.textBody || "";
}

async function queue(id) {
  if (!id) return null;
  if (!state.queues.has(id)) state.queues.set(id, await api(`/api/v2/routing/queues/${id}`));
  return state.queues.get(id);
}

// -- routing status and presence --------------------------------------------------------------

function showRoutingStatus(status) {
  const badge = $("#routing-status");
  badge.textContent = status;
  badge.className = `badge status-${status}`;
  badge.title = STATUS_LABELS[status] || status;
  const toggle = $("#queue-toggle");
  const off = status === "OFF_QUEUE" || status === "NOT_RESPONDING";
  toggle.textContent = off ? "Go On Queue" : "Go Off Queue";
  toggle.dataset.target = off ? "IDLE" : "OFF_QUEUE";
  toggle.disabled = false;
}

async function loadStatus() {
  const [routing, presence] = await Promise.all([
    api(`/api/v2/users/${state.me.id}/routingstatus`),
    api(`/api/v2/users/${state.me.id}/presences/purecloud`),
  ]);
  showRoutingStatus(routing.status);
  $("#presence").value = presence.presenceDefinition.id;
}

async function setupPresence() {
  const defs = await api("/api/v2/presence/definitions");
  fill($("#presence"), defs.entities.map((d) => h("option", { value: d.id },
    (d.languageLabels && d.languageLabels.en_US) || d.systemPresence)));
  $("#presence").disabled = false;
  $("#presence").addEventListener("change", () => act($("#presence"), async () => {
    await api(`/api/v2/users/${state.me.id}/presences/purecloud`, { method: "PATCH",
      body: { presenceDefinition: { id: $("#presence").value } } });
    await loadStatus();
  }));
  $("#queue-toggle").addEventListener("click", (e) => act(e.currentTarget, async () => {
    const status = e.currentTarget.dataset.target;
    const now = await api(`/api/v2/users/${state.me.id}/routingstatus`, { method: "PUT",
      body: { status } });
    showRoutingStatus(now.status);
    await loadStatus();
  }));
}

// -- conversations and offers -----------------------------------------------------------------

async function loadConversations() {
  const data = await api("/api/v2/conversations/messages");
  const seen = new Set();
  for (const view of data.entities) {
    noteAfterCallWork(view); // after-call work left before a reload comes back
    const mine = myParty(view);
    if (!mine) continue;
    seen.add(view.id);
    state.convs.set(view.id, { view, mine, customer: customerOf(view) });
  }
  for (const id of [...state.convs.keys()]) if (!seen.has(id)) state.convs.delete(id);
  await renderOffers();
  renderList();
  if (state.selected && !state.convs.has(state.selected)) closeTranscript();
}

async function renderOffers() {
  const region = $("#offers");
  const offers = [...state.convs.values()].filter((c) => c.mine.state === "alerting");
  const shown = new Set([...region.children].map((el) => el.dataset.id));
  for (const el of [...region.children]) {
    if (!offers.some((o) => o.view.id === el.dataset.id)) el.remove();
  }
  for (const offer of offers) {
    if (shown.has(offer.view.id)) continue;
    const first = offer.customer && offer.customer.messages[0];
    let firstText = "";
    if (first) {
      try { firstText = bodyOf(await text(offer.view.id, first.messageId)); } catch { /* gone */ }
    }
    if (!state.convs.has(offer.view.id) || state.convs.get(offer.view.id).mine.state !== "alerting") continue;
    const titleId = `offer-title-${offer.view.id}`;
    const accept = h("button", { class: "primary", onclick: (e) => respond(e.currentTarget, offer, "connected") }, "Accept");
    const card = h("div", { class: "offer", role: "alertdialog", "aria-labelledby": titleId,
      dataset: { id: offer.view.id } },
      h("strong", { id: titleId }, `Incoming text from ${customerNumber(offer.customer)}`),
      h("div", { class: "muted" }, `Queue: ${(offer.mine.queue && offer.mine.queue.name) || "–"}`),
      h("p", { class: "text" }, firstText),
      h("div", { class: "row" }, accept,
        h("button", { onclick: (e) => respond(e.currentTarget, offer, "disconnected") }, "Decline")));
    region.append(card);
    // Take the focus for the offer unless the agent is typing somewhere.
    const active = document.activeElement;
    if (!active || !["TEXTAREA", "INPUT", "SELECT"].includes(active.tagName)) accept.focus();
  }
}

async function respond(button, offer, wanted) {
  await act(button, async () => {
    await api(`/api/v2/conversations/messages/${offer.view.id}/participants/${offer.mine.id}`,
      { method: "PATCH", body: { state: wanted } });
    await loadConversations();
    if (wanted === "connected") await select(offer.view.id);
  });
}

function renderList() {
  const list = $("#conversations");
  const active = [...state.convs.values()].filter((c) => c.mine.state === "connected");
  fill(list, active.length ? active.map((c) => h("li", {},
    h("button", { "aria-current": c.view.id === state.selected ? "true" : "false",
      dataset: { id: c.view.id }, onclick: () => select(c.view.id).catch(report) },
      h("strong", {}, customerNumber(c.customer)),
      h("span", { class: "muted" }, (c.mine.queue && c.mine.queue.name) || "")))) :
    h("li", { class: "empty" }, "No active conversations."));
}

// -- the transcript ---------------------------------------------------------------------------

let pollTimer = null;

function closeTranscript() {
  state.selected = null;
  clearTimeout(pollTimer);
  fill($("#conversation"), h("p", { class: "placeholder" },
    "No conversation open. Go On Queue to receive texts, or start one with “+ New”."));
  renderList();
}

async function select(id) {
  state.selected = id;
  renderList();
  const main = $("#conversation");
  const c = state.convs.get(id);
  const queueSelect = h("select", { id: "transfer-queue", "aria-label": "Transfer to queue" });
  const reply = h("textarea", { id: "reply", rows: 3, placeholder: "Type a reply (Enter sends, Shift+Enter for a new line)",
    "aria-describedby": "counter", "aria-label": "Reply" });
  const counter = h("span", { class: "counter", id: "counter", "aria-live": "polite" });
  const send = h("button", { class: "primary", id: "send", type: "submit" }, "Send");
  fill(main,
    h("div", { class: "conv-head" },
      h("h2", { id: "conv-title", style: "margin:0" }, customerNumber(c && c.customer)),
      h("span", { class: "muted", id: "conv-queue" }, ""),
      h("span", { class: "badge", id: "opt-out" }, "checking opt-out…"),
      h("span", { class: "spacer", style: "flex:1" }),
      h("div", { class: "row" }, queueSelect,
        h("button", { id: "transfer", onclick: (e) => transfer(e.currentTarget) }, "Transfer"),
        h("button", { class: "danger", id: "disconnect", onclick: () => openWrapup() }, "Disconnect"))),
    h("ol", { class: "transcript", id: "transcript", "aria-label": "Transcript", "aria-live": "polite" }),
    h("form", { class: "reply", id: "reply-form", onsubmit: (e) => sendReply(e) },
      reply, h("div", { class: "row", style: "justify-content:space-between;margin-top:.3rem" }, counter, send)));
  const update = () => {
    const info = analyse(reply.value);
    counter.textContent = info.overLimit
      ? `Too long: ${info.characters}/${MAX_SEND_CHARACTERS} characters — remove ${info.characters - MAX_SEND_CHARACTERS}`
      : describe(info);
    counter.classList.toggle("over", info.overLimit);
    send.disabled = info.overLimit || !reply.value.trim();
  };
  reply.addEventListener("input", update);
  reply.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $("#reply-form").requestSubmit(); }
  });
  update();
  const others = [...state.queues.values()].filter((q) => !c || !c.mine.queue || q.id !== c.mine.queue.id);
  fill(queueSelect, others.length ? others.map((q) => h("option", { value: q.id }, q.name))
    : h("option", { value: "" }, "No other queue"));
  queueSelect.disabled = !others.length;
  $("#transfer").disabled = !others.length;
  await refreshTranscript();
  reply.focus();
}

async function refreshTranscript() {
  clearTimeout(pollTimer);
  const id = state.selected;
  if (!id) return;
  try {
    const conv = await api(`/api/v2/conversations/${id}`);
    if (state.selected !== id) return;
    const customer = conv.participants.find((p) => p.purpose === "customer");
    const mine = conv.participants.filter((p) => p.purpose === "agent" && p.userId === state.me.id && !p.endTime).pop();
    const details = customer ? customer.messages[0].messages : [];
    const items = [];
    for (const d of details) {
      const m = await text(id, d.messageId);
      items.push({ id: d.messageId, direction: m.direction, text: bodyOf(m), status: d.messageStatus,
        time: d.messageTime || m.timestamp });
    }
    if (state.selected !== id) return;
    const list = $("#transcript");
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    fill(list, items.map((m) => h("li", { class: `bubble ${m.direction}`, dataset: { id: m.id, status: m.status } },
      m.text,
      h("span", { class: "meta" }, formatTime(m.time),
        m.direction === "outbound" ? ` · ${DELIVERY[m.status] || m.status}` : ""))));
    if (atBottom || items.length < 3) list.scrollTop = list.scrollHeight;
    const q = mine ? await queue(mine.queueId) : null;
    $("#conv-queue").textContent = q ? `Queue: ${q.name}` : "";
    $("#conversation").dataset.communicationId = mine ? mine.messages[0].id : "";
    $("#conversation").dataset.participantId = mine ? mine.id : "";
    await showOptOut(customer ? customer.address : null, conv.address);
  } catch (e) {
    if (e.status !== 404 && e.status !== 403) report(e);
  } finally {
    if (state.selected === id) pollTimer = setTimeout(refreshTranscript, TRANSCRIPT_POLL_MS);
  }
}

async function showOptOut(customer, ourNumber) {
  const badge = $("#opt-out");
  if (!badge || !customer) return;
  const found = await api("/api/v2/parley/optouts", { query: { customer } });
  const out = found.entities.some((o) => o.allNumbers || o.number === ourNumber);
  badge.textContent = out ? "Opted out: texts to this customer are refused" : "Opted in";
  badge.className = `badge ${out ? "bad" : "ok"}`;
  badge.dataset.optedOut = String(out);
}

async function sendReply(event) {
  event.preventDefault();
  const reply = $("#reply");
  const body = reply.value;
  const info = analyse(body);
  if (!body.trim() || info.overLimit) return;
  const conv = $("#conversation");
  await act($("#send"), async () => {
    await api(`/api/v2/conversations/messages/${state.selected}/communications/${conv.dataset.communicationId}/messages`,
      { method: "POST", body: { textBody: body } });
    reply.value = "";
    reply.dispatchEvent(new Event("input"));
    await refreshTranscript();
  });
  reply.focus();
}

async function transfer(button) {
  const target = $("#transfer-queue").value;
  if (!target) { toast("There is no other queue to transfer to.", "error"); return; }
  const participantId = $("#conversation").dataset.participantId;
  await act(button, async () => {
    await api(`/api/v2/conversations/messages/${state.selected}/participants/${participantId}/replace`,
      { method: "POST", body: { queueId: target } });
    toast(`Transferred to ${state.queues.get(target).name}.`, "ok");
    closeTranscript();
    await loadConversations();
  });
}

// -- disconnect, wrap-up and after-call work ------------------------------------------------
//
// Disconnect opens the wrap-up dialog: a code (and notes) go with the disconnect. On a queue
// whose prompt is mandatory, leaving without a code puts the agent in after-call work (the
// server's wrapupRequired: the conversation still uses their capacity). The dialog then stays
// until a code is sent: no Cancel, Escape does nothing. The server can also put the agent in
// after-call work (a supervisor disconnected them): the conversation's event says so and the
// same dialog opens; when after-call work ends elsewhere (a timed prompt ran out), it closes.

const wrap = { mode: null, conversationId: null, participantId: null, queue: null,
  customer: null, sending: false };

function isMandatory(q) {
  return Boolean(q && MANDATORY.has(q.acwSettings && q.acwSettings.wrapupPrompt));
}

async function openWrapup() {
  const conv = state.convs.get(state.selected);
  const participantId = $("#conversation").dataset.participantId;
  if (!conv || !participantId) return;
  let q = null;
  if (conv.mine.queue) {
    state.queues.delete(conv.mine.queue.id); // its wrap-up prompt as it is now
    try { q = await queue(conv.mine.queue.id); } catch (e) { report(e); }
  }
  $("#wrapup-notes").value = "";
  await showWrapup({ mode: "disconnect", conversationId: state.selected, participantId,
    queue: q, customer: customerNumber(conv.customer) });
}

/** Show the dialog for `changes` (merged into `wrap`): disconnect, or after-call work. */
async function showWrapup(changes) {
  Object.assign(wrap, changes);
  const dialog = $("#wrapup-dialog");
  const acw = wrap.mode === "acw";
  const q = wrap.queue;
  let codes = [];
  try {
    codes = await api(`/api/v2/conversations/messages/${wrap.conversationId}/participants/${wrap.participantId}/wrapupcodes`);
  } catch (e) { report(e); }
  const select = $("#wrapup-code");
  fill(select, h("option", { value: "" }, acw || isMandatory(q) ? "Choose a wrap-up code…" : "No wrap-up code"),
    codes.map((c) => h("option", { value: c.id }, c.name)));
  select.required = acw;
  const queueName = q ? q.name : "this queue";
  let hint = "A wrap-up code is optional for this queue.";
  if (acw) {
    hint = `You left the conversation with ${wrap.customer}. Queue ${queueName} requires a wrap-up code: choose one to finish after-call work.`;
  } else if (isMandatory(q)) {
    hint = `Queue ${q.name} requires a wrap-up code: choose it now, or you stay in after-call work until you do.`;
  }
  if ((acw || isMandatory(q)) && !codes.length) {
    hint = `Queue ${queueName} requires a wrap-up code but offers none: ask an admin.`;
  }
  $("#wrapup-title").textContent = acw ? "After-call work" : "Disconnect and wrap up";
  $("#wrapup-hint").textContent = hint;
  $("#wrapup-submit").textContent = acw ? "Finish after-call work" : "Disconnect";
  $("#wrapup-cancel").hidden = acw;
  $("#wrapup-problem").textContent = "";
  dialog.dataset.mode = wrap.mode;
  if (!dialog.open) dialog.showModal();
  select.focus();
}

async function submitWrapup(event) {
  event.preventDefault();
  const dialog = $("#wrapup-dialog");
  if (wrap.sending) return;
  if (event.submitter && event.submitter.value === "cancel") {
    if (wrap.mode !== "acw") dialog.close();
    return;
  }
  const code = $("#wrapup-code").value;
  if (wrap.mode === "acw" && !code) {
    $("#wrapup-problem").textContent = "Choose a wrap-up code: after-call work ends only with one.";
    $("#wrapup-code").focus();
    return;
  }
  const wrapup = code ? { code, notes: $("#wrapup-notes").value || undefined } : undefined;
  const body = wrap.mode === "acw" ? { wrapup } : { state: "disconnected", wrapup };
  wrap.sending = true;
  $("#wrapup-submit").disabled = true;
  try {
    await api(`/api/v2/conversations/messages/${wrap.conversationId}/participants/${wrap.participantId}`,
      { method: "PATCH", body });
  } catch (e) {
    if (e.status === 401) { // the session ended: let the agent reach "Sign in again"
      state.acw.clear();
      endWrapup(null);
      return;
    }
    $("#wrapup-problem").textContent = e.message;
    return;
  } finally {
    wrap.sending = false;
    $("#wrapup-submit").disabled = false;
  }
  if (wrap.mode === "disconnect") {
    if (state.selected === wrap.conversationId) closeTranscript();
    loadConversations().catch(report);
    if (!code && await inAfterCallWork(wrap.conversationId, wrap.participantId)) {
      state.acw.set(wrap.conversationId, { ...wrap, mode: "acw" });
      await showWrapup({ mode: "acw" });
      return;
    }
    endWrapup("Disconnected.");
    return;
  }
  state.acw.delete(wrap.conversationId);
  endWrapup("Wrapped up.");
}

/** The server's word (wrapupRequired), not the queue as this page last read it. */
async function inAfterCallWork(conversationId, participantId) {
  try {
    const conv = await api(`/api/v2/conversations/${conversationId}`);
    const mine = conv.participants.find((p) => p.id === participantId);
    return Boolean(mine && mine.wrapupRequired);
  } catch (e) {
    report(e);
    return false;
  }
}

function endWrapup(message) {
  wrap.mode = null;
  $("#wrapup-dialog").close(); // its close handler shows the next after-call work, if any
  if (message) toast(message, "ok");
}

/** After-call work waiting for a code (one dialog at a time). */
async function nextAfterCallWork() {
  if (wrap.mode || $("#wrapup-dialog").open || !state.acw.size) return;
  const [first] = state.acw.values();
  Object.assign(wrap, first, { mode: "acw" });
  if (!first.queue && first.queueId) {
    try { first.queue = await queue(first.queueId); } catch (e) { report(e); }
  }
  $("#wrapup-notes").value = "";
  await showWrapup({ queue: first.queue });
}

/** A conversation event: did the server put me in after-call work, or end it? */
function noteAfterCallWork(body) {
  if (!body || !Array.isArray(body.participants)) return;
  if (wrap.sending && wrap.conversationId === body.id) return; // our own change: its answer decides
  const mine = body.participants.filter((p) => p.purpose === "agent" && p.user && p.user.id === state.me.id);
  const pending = mine.find((p) => p.wrapupRequired && p.state === "disconnected");
  if (pending && !state.acw.has(body.id)) {
    state.acw.set(body.id, { conversationId: body.id, participantId: pending.id,
      queueId: pending.queue ? pending.queue.id : null, queue: null,
      customer: customerNumber(body.participants.find((p) => p.purpose === "customer")) });
    nextAfterCallWork().catch(report);
  } else if (!pending && state.acw.has(body.id)) {
    state.acw.delete(body.id);
    if (wrap.mode === "acw" && wrap.conversationId === body.id) endWrapup(null);
    toast("After-call work ended.", "info");
  }
}

// -- "+" new interaction ----------------------------------------------------------------------

async function openNew() {
  const dialog = $("#new-dialog");
  state.queues = new Map((await all("/api/v2/routing/queues")).map((q) => [q.id, q]));
  state.numbers = new Map((await all("/api/v2/routing/sms/phonenumbers")).map((n) => [n.id, n]));
  const usable = [...state.queues.values()].filter((q) => q.outboundMessagingAddresses &&
    q.outboundMessagingAddresses.smsAddress);
  fill($("#new-queue"), usable.length ? usable.map((q) => h("option", { value: q.id }, q.name))
    : h("option", { value: "" }, "No queue has an Outbound SMS Number"));
  $("#new-problem").textContent = "";
  showFrom();
  checkNewPhone();
  countNew();
  dialog.showModal();
  $("#new-phone").focus();
}

function showFrom() {
  const q = state.queues.get($("#new-queue").value);
  const ref = q && q.outboundMessagingAddresses && q.outboundMessagingAddresses.smsAddress;
  const n = ref && state.numbers.get(ref.id);
  $("#new-from").textContent = n ? `Sent from ${n.phoneNumber}` : "";
}

function checkNewPhone() {
  const input = $("#new-phone");
  const why = input.value ? problem(input.value) : null;
  $("#new-phone-problem").textContent = why || "";
  input.setAttribute("aria-invalid", why ? "true" : "false");
  return input.value && !why;
}

function countNew() {
  const info = analyse($("#new-text").value);
  const counter = $("#new-counter");
  counter.textContent = info.overLimit
    ? `Too long: ${info.characters}/${MAX_SEND_CHARACTERS} characters` : describe(info);
  counter.classList.toggle("over", info.overLimit);
  return !info.overLimit;
}

async function submitNew(event) {
  event.preventDefault();
  const dialog = $("#new-dialog");
  if (event.submitter && event.submitter.value === "cancel") { dialog.close(); return; }
  const queueId = $("#new-queue").value;
  const textBody = $("#new-text").value;
  const say = (m) => { $("#new-problem").textContent = m; };
  if (!queueId) return say("Pick a queue that has an Outbound SMS Number.");
  if (!checkNewPhone()) { $("#new-phone").focus(); return say(problem($("#new-phone").value) || "Enter the customer's number."); }
  if (!textBody.trim()) { $("#new-text").focus(); return say("Write the first message."); }
  if (!countNew()) return say(`The message is over ${MAX_SEND_CHARACTERS} characters.`);
  const button = $("#new-submit");
  button.disabled = true;
  try {
    const created = await api("/api/v2/conversations/messages", { method: "POST", body: {
      queueId, toAddress: normalise($("#new-phone").value), toAddressMessengerType: "sms",
      useExistingConversation: true } });
    const conv = await api(`/api/v2/conversations/${created.id}`);
    const agent = conv.participants.find((p) => p.purpose === "agent" && p.userId === state.me.id && !p.endTime);
    await api(`/api/v2/conversations/messages/${created.id}/communications/${agent.messages[0].id}/messages`,
      { method: "POST", body: { textBody } });
    dialog.close();
    $("#new-text").value = "";
    $("#new-phone").value = "";
    await loadConversations();
    await select(created.id);
  } catch (e) {
    say(e.message);
  } finally {
    button.disabled = false;
  }
}

// -- start --------------------------------------------------------------------------------

async function main() {
  state.me = await startPage("agent", "Agent desktop");
  // Controls answer from the moment the top bar shows who is signed in: an agent who clicks
  // "+" while presence is still loading gets the dialog, not a dead button.
  $("#wrapup-form").addEventListener("submit", submitWrapup);
  // After-call work cannot be dismissed: Escape does nothing, and if the browser closes the
  // dialog anyway (a second Escape), it opens again.
  $("#wrapup-dialog").addEventListener("cancel", (e) => { if (wrap.mode === "acw") e.preventDefault(); });
  $("#wrapup-dialog").addEventListener("close", () => {
    if (wrap.mode === "acw" && state.acw.has(wrap.conversationId)) {
      $("#wrapup-dialog").showModal();
      return;
    }
    wrap.mode = null;
    nextAfterCallWork().catch(report);
  });
  $("#new-form").addEventListener("submit", submitNew);
  $("#new-interaction").addEventListener("click", () => openNew().catch(report));
  $("#new-queue").addEventListener("change", showFrom);
  $("#new-phone").addEventListener("input", checkNewPhone);
  $("#new-text").addEventListener("input", countNew);
  await setupPresence();
  state.queues = new Map((await all("/api/v2/routing/queues")).map((q) => [q.id, q]));
  const refresh = debounce(() => {
    loadConversations().catch(report);
    if (state.selected) refreshTranscript();
  }, 100);
  const live = new Notifications({
    topics: [`v2.users.${state.me.id}.conversations.messages`,
      `v2.users.${state.me.id}.routingStatus`, `v2.users.${state.me.id}.presence`],
    onEvent: (topic, body) => {
      if (topic.endsWith(".routingStatus") || topic.endsWith(".routingstatus")) {
        showRoutingStatus(body.routingStatus.status);
      } else if (topic.endsWith(".presence")) {
        loadStatus().catch(report);
      } else {
        noteAfterCallWork(body);
        refresh();
      }
    },
    onState: setLive,
    onResync: () => { loadStatus().catch(report); refresh(); },
  });
  await live.start();
  await Promise.all([loadStatus(), loadConversations()]);
}

main().catch(report);
