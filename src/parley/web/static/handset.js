// The handset simulator: a made-up customer phone that texts the organisation's numbers
// (POST /sim/v1/messages) and shows what it sent and received (GET /sim/v1/messages), polled
// every second while the page is open: the simulator's phones have no notification topic.
import { api, all } from "./api.js";
import { $, fill, formatTime, h } from "./dom.js";
import { normalise, problem } from "./phone.js";
import { act, report, setLive, startPage } from "./shell.js";

const POLL_MS = 1000;
const AREA_CODES = ["201", "202", "203", "206", "212", "213", "214", "303", "305", "312",
  "415", "512", "617", "646", "702", "718", "773", "818", "917"];
const TICKS = { queued: "queued", sent: "✓ sent", "delivery-success": "✓✓ delivered",
  "delivery-failed": "✗ not delivered", failed: "✗ failed", received: "✓✓ delivered" };

let lastShown = "";

function randomPhone() {
  const area = AREA_CODES[Math.floor(Math.random() * AREA_CODES.length)];
  return `+1${area}55501${String(Math.floor(Math.random() * 100)).padStart(2, "0")}`;
}

function phone() {
  return normalise($("#phone").value);
}

function checkPhone() {
  const why = problem($("#phone").value);
  $("#phone-problem").textContent = why || "";
  $("#phone").setAttribute("aria-invalid", why ? "true" : "false");
  return !why;
}

async function refresh() {
  if (problem($("#phone").value)) return;
  const to = $("#to").value;
  const data = await api("/sim/v1/messages", { query: { phone: phone() } });
  const mine = data.entities.filter((m) => m.fromAddress === to || m.toAddress === to);
  const shown = JSON.stringify(mine.map((m) => [m.id, m.status]));
  if (shown === lastShown) return;
  lastShown = shown;
  const thread = $("#thread");
  const atBottom = thread.scrollHeight - thread.scrollTop - thread.clientHeight < 40;
  fill(thread, mine.length ? mine.map((m) => h("li", {
    class: `bubble ${m.direction}`, dataset: { id: m.id, status: m.status },
  }, m.text, h("span", { class: "meta" }, formatTime(m.time),
    m.direction === "received" ? "" : ` · ${TICKS[m.status] || m.status}`)))
    : h("li", { class: "empty" }, "No messages with this number yet. Say hello!"));
  if (atBottom || mine.length <= 1) thread.scrollTop = thread.scrollHeight;
}

async function send(event) {
  event.preventDefault();
  const text = $("#text").value;
  if (!checkPhone()) { $("#phone").focus(); return; }
  if (!text.trim()) { $("#text").focus(); return; }
  await act($("#send"), async () => {
    await api("/sim/v1/messages", { method: "POST",
      body: { from: phone(), to: $("#to").value, text } });
    $("#text").value = "";
    await refresh();
  });
  $("#text").focus();
}

async function main() {
  await startPage("handset", "Handset simulator");
  const numbers = await all("/api/v2/routing/sms/phonenumbers");
  if (!numbers.length) {
    report(new Error("This organisation has no SMS numbers yet: register one in the admin console."));
  }
  fill($("#to"), numbers.map((n) => h("option", { value: n.phoneNumber },
    n.name ? `${n.phoneNumber} (${n.name})` : n.phoneNumber)));
  const params = new URLSearchParams(location.search);
  $("#phone").value = params.get("phone") || sessionStorage.getItem("parley.handset.phone") || randomPhone();
  if (params.get("to")) $("#to").value = params.get("to");
  checkPhone();
  const changed = () => {
    lastShown = "";
    if (checkPhone()) sessionStorage.setItem("parley.handset.phone", phone());
    refresh().catch(report);
  };
  $("#phone").addEventListener("input", changed);
  $("#to").addEventListener("change", changed);
  $("#new-phone").addEventListener("click", () => { $("#phone").value = randomPhone(); changed(); });
  $("#compose").addEventListener("submit", send);
  $("#text").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $("#compose").requestSubmit(); }
  });
  setLive("live");
  await refresh();
  const poll = async () => {
    try {
      await refresh();
      setLive("live");
    } catch (e) {
      setLive("reconnecting");
    }
    setTimeout(poll, POLL_MS);
  };
  setTimeout(poll, POLL_MS);
}

main().catch(report);
