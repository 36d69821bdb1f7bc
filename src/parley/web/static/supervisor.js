// The supervisor view: per queue, live figures from POST /api/v2/analytics/queues/
// observations/query, re-read whenever a notification says a queue's conversations or an
// agent's routing status changed (topics v2.routing.queues.{id}.conversations.messages and
// v2.users.{id}.routingStatus). The longest wait ticks locally between events.
import { all, api } from "./api.js";
import { $, debounce, fill, formatDuration, h } from "./dom.js";
import { Notifications } from "./notifications.js";
import { report, setLive, startPage } from "./shell.js";

const METRICS = ["oWaiting", "oAlerting", "oInteracting", "oLongestWaiting", "oMemberUsers",
  "oActiveUsers", "oUserRoutingStatuses", "oServiceLevel"];
const STATUSES = ["IDLE", "INTERACTING", "NOT_RESPONDING", "OFF_QUEUE"];
let queues = [];
const longestSince = new Map(); // queue id -> ms since epoch

async function refresh() {
  if (!queues.length) return;
  const data = await api("/api/v2/analytics/queues/observations/query", { method: "POST", body: {
    filter: { type: "or", predicates: queues.map((q) => ({ type: "dimension", dimension: "queueId", value: q.id })) },
    metrics: METRICS } });
  for (const result of data.results) render(result);
}

function render(result) {
  const q = queues.find((x) => x.id === result.group.queueId);
  const figures = {};
  const statuses = {};
  for (const d of result.data) {
    if (d.metric === "oUserRoutingStatuses") statuses[d.qualifier] = d.stats.count;
    else figures[d.metric] = d;
  }
  const longest = figures.oLongestWaiting;
  if (longest && longest.observations) longestSince.set(q.id, Date.parse(longest.observations[0].observationDate));
  else longestSince.delete(q.id);
  const sl = figures.oServiceLevel.stats;
  const slText = sl.denominator ? `${Math.round(sl.ratio * 100)}%` : "–";
  const card = document.querySelector(`[data-queue="${q.id}"]`);
  const stat = (key, label, value) => h("div", { class: "stat", dataset: { metric: key } },
    h("span", { class: "value" }, value), h("span", { class: "label" }, label));
  fill(card,
    h("h2", {}, q.name),
    h("div", { class: "stats" },
      stat("waiting", "Waiting", figures.oWaiting.stats.count),
      stat("interacting", "Interacting", figures.oInteracting.stats.count),
      stat("longest", "Longest waiting", longestSince.has(q.id) ? formatDuration(Date.now() - longestSince.get(q.id)) : "–"),
      stat("service-level", `Service level (target ${Math.round(sl.target * 100)}% in ${Math.round(q.mediaSettings.message.serviceLevel.durationMs / 1000)} s)`, slText)),
    h("div", { class: "muted" }, `${figures.oAlerting.stats.count} alerting · ` +
      `${figures.oActiveUsers.stats.count} of ${figures.oMemberUsers.stats.count} members joined`),
    h("h3", {}, "Agents by routing status"),
    h("ul", { class: "row", style: "list-style:none;padding:0;margin:0" },
      STATUSES.map((s) => h("li", { class: `badge status-${s}`, dataset: { status: s } },
        `${s} ${statuses[s] || 0}`))));
}

function tick() {
  for (const [id, since] of longestSince) {
    const el = document.querySelector(`[data-queue="${id}"] [data-metric="longest"] .value`);
    if (el) el.textContent = formatDuration(Date.now() - since);
  }
}

async function main() {
  await startPage("supervisor", "Supervisor");
  queues = await all("/api/v2/routing/queues");
  const region = $("#queues");
  fill(region, queues.length ? queues.map((q) => h("section", { class: "card", dataset: { queue: q.id },
    "aria-label": `Queue ${q.name}` }, h("h2", {}, q.name), h("p", { class: "muted" }, "loading…")))
    : h("p", { class: "empty" }, "No queues yet: create one in the admin console."));
  await refresh();
  const users = await all("/api/v2/users");
  const later = debounce(() => refresh().catch(report), 150);
  const live = new Notifications({
    topics: [...queues.map((q) => `v2.routing.queues.${q.id}.conversations.messages`),
      ...users.map((u) => `v2.users.${u.id}.routingStatus`)],
    onEvent: later, onState: setLive, onResync: later,
  });
  await live.start();
  setInterval(tick, 1000);
}

main().catch(report);
