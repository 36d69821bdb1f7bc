// The admin console: one section per resource, each a table and a form over the public API.
// Every error shown is the server's own Genesys `message`.
import { all, api } from "./api.js";
import { $, fill, formatTime, h, toast } from "./dom.js";
import { act, report, startPage } from "./shell.js";

const PROMPTS = ["OPTIONAL", "MANDATORY", "MANDATORY_TIMEOUT", "MANDATORY_FORCED_TIMEOUT", "AGENT_REQUESTED"];
const ROLES = ["agent", "supervisor", "admin"];
const main = () => $("#section");
let me = null; // the signed-in admin (GET /api/v2/users/me)

// -- small building blocks --------------------------------------------------------------------

function field(label, input, hint) {
  const id = input.id || `f-${Math.random().toString(36).slice(2)}`;
  input.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label, hint ? h("span", { class: "hint" }, ` ${hint}`) : null), input);
}

function table(headers, rows, empty = "Nothing here yet.") {
  if (!rows.length) return h("p", { class: "empty" }, empty);
  return h("div", { class: "table-wrap" }, h("table", {},
    h("thead", {}, h("tr", {}, headers.map((x) => h("th", { scope: "col" }, x)))),
    h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((c) => h("td", {}, c)))))));
}

function options(items, selected) {
  return items.map(([value, label]) => h("option", { value, selected: value === selected }, label));
}

function form(onsubmit, ...children) {
  return h("form", { class: "card", onsubmit: async (e) => {
    e.preventDefault();
    const button = e.submitter || e.currentTarget.querySelector("button[type=submit]");
    await act(button, () => onsubmit(e));
  } }, ...children);
}

// -- SMS numbers --------------------------------------------------------------------------

const NUMBERS = "/api/v2/routing/sms/phonenumbers";

async function numbers() {
  const [list, listing, tables] = await Promise.all([all(NUMBERS), api(CARRIERS), carrierTables()]);
  const connections = listing.entities;
  const nameOf = (id) => (connections.find((c) => c.id === id) || { name: id || "–" }).name;
  const usable = connections.filter((c) => c.enabled); // a disabled one takes no new number
  const found = h("div", { id: "available" });
  const area = h("input", { id: "area-code", inputmode: "numeric", size: 5, placeholder: "312" });
  const via = h("select", { id: "number-connection" }, options(usable.map((c) => [c.id, c.name])));
  const type = h("select", { id: "number-type" }, options(tables.phoneNumberTypes.map((t) => [t, t]), "local"));
  const mover = (n) => {
    const current = n.integration ? n.integration.id : "";
    const choices = connections.filter((c) => c.enabled || c.id === current);
    const select = h("select", { "aria-label": `Connection of ${n.phoneNumber}`, dataset: { number: n.id },
      onchange: () => { move.disabled = select.value === current; } }, options(choices.map((c) => [c.id, c.name]), current));
    const move = h("button", { disabled: true, "aria-label": `Move ${n.phoneNumber} to the chosen connection`,
      onclick: (e) => act(e.currentTarget, async () => {
        await api(`${NUMBERS}/${n.id}`, { method: "PATCH", body: { integration: { id: select.value } } });
        toast(`${n.phoneNumber} now sends and receives through ${nameOf(select.value)}.`, "ok");
        await numbers();
      }) }, "Move");
    return h("div", { class: "row" }, select, move);
  };
  fill(main(), h("section", {}, h("h2", {}, "SMS numbers"),
    table(["Number", "Name", "Type", "Status", "Carrier connection", ""], list.map((n) => [n.phoneNumber, n.name || "",
      n.phoneNumberType, n.phoneNumberStatus, mover(n),
      h("button", { class: "danger", onclick: (e) => act(e.currentTarget, async () => {
        if (!confirm(`Release ${n.phoneNumber}? Texts to it will no longer reach you.`)) return;
        await api(`${NUMBERS}/${n.id}`, { method: "DELETE" });
        toast(`Released ${n.phoneNumber}.`, "ok");
        await numbers();
      }) }, "Release")]), "No SMS numbers yet: register one below."),
    h("h3", {}, "Register a number from a carrier connection"),
    usable.length ? form(async () => {
      const offered = await api("/api/v2/routing/sms/availablephonenumbers", { query: {
        countryCode: "US", phoneNumberType: type.value, areaCode: area.value, integrationId: via.value } });
      fill(found, table(["Number", "Connection", ""], offered.entities.slice(0, 10).map((a) => {
        const on = a.integration ? a.integration.id : via.value;
        return [a.phoneNumber, nameOf(on), h("button", { class: "primary", "aria-label": `Register ${a.phoneNumber}`,
          onclick: (e) => act(e.currentTarget, async () => {
            await api(NUMBERS, { method: "POST", body: {
              phoneNumber: a.phoneNumber, phoneNumberType: a.phoneNumberType, countryCode: a.countryCode,
              name: `Number ${a.phoneNumber.slice(-4)}`, integration: { id: on } } });
            toast(`Registered ${a.phoneNumber} on ${nameOf(on)}.`, "ok");
            await numbers();
          }) }, "Register")];
      }), "This connection offers no such number."));
    }, h("div", { class: "row" }, field("Connection", via), field("Type", type), field("Area code", area, "(US, optional)"),
      h("button", { type: "submit", id: "search-numbers" }, "Search available numbers")))
      : h("p", { class: "muted" }, "No carrier connection is enabled: ", h("a", { href: "#carriers" }, "add or enable one"), "."),
    found));
}

// -- carrier connections ----------------------------------------------------------------------

const CARRIERS = "/api/v2/parley/carriers";
const KINDS = [["smpp", "SMPP link"], ["http", "HTTP provider (Twilio-compatible)"], ["sim", "Simulator"]];
const STATE_CLASS = { bound: "ok", connecting: "warn", failed: "bad" };
const REFRESH_MS = 2000;
let tablesOnce = null; // GET /api/v2/parley/carriers/settings: the settings of each kind
let stopRefresh = () => {}; // ends what the open section refreshes in the background
let carrierEditing = null; // the connection the carriers form edits (null: a new one)

function carrierTables() {
  tablesOnce = tablesOnce || api(`${CARRIERS}/settings`).catch((e) => { tablesOnce = null; throw e; });
  return tablesOnce;
}

function stateBadge(status, label = status) {
  return h("span", { class: `badge ${STATE_CLASS[status] || ""}`, dataset: { status } }, label);
}

function carrierLive(c, registered) {
  const s = c.state;
  const counters = Object.entries(s.counters || {});
  return [
    h("p", { class: "row" }, stateBadge(s.status), s.since ? h("span", { class: "muted" }, `since ${formatTime(s.since)}`) : null),
    s.reason ? h("p", { class: "reason" }, s.reason) : null,
    s.binds && s.binds.length ? h("ul", { class: "binds", "aria-label": "Binds" }, s.binds.map((b) => h("li", {},
      `${b.name} `, stateBadge(b.status), b.inFlight ? ` ${b.inFlight} in flight` : "",
      b.reason && s.binds.length > 1 ? ` ${b.reason}` : ""))) : null, // one bind: the reason above is its own
    counters.length ? h("ul", { class: "counters", "aria-label": "Counters" },
      counters.map(([k, v]) => h("li", {}, `${k} `, h("strong", {}, String(v))))) : null,
    h("p", {}, h("strong", {}, "Serves: "), c.numbers.length
      ? c.numbers.map((n) => `${n.phoneNumber} (${n.phoneNumberType})`).join(", ")
      : h("span", { class: "muted" }, c.builtin ? "any number" : "no numbers listed")),
    h("p", { class: "registered" }, h("strong", {}, "Registered: "), registered.length
      ? registered.join(", ") : h("span", { class: "muted" }, "none")),
  ];
}

function carrierCard(c, registered) {
  const heading = `carrier-h-${c.id}`;
  const notice = h("div", { class: "notice" });
  const actions = c.builtin ? h("p", { class: "muted" }, "Built into this server: always there, not editable.")
    : h("div", { class: "row" },
      h("button", { onclick: () => carriers(c.id, null, true).catch(report) }, "Edit"),
      h("button", { onclick: (e) => act(e.currentTarget, async () => {
        await api(`${CARRIERS}/${c.id}`, { method: "PATCH", body: { enabled: !c.enabled } });
        toast(`${c.name} is ${c.enabled ? "disabled" : "enabled"}.`, "ok");
        await carriers(carrierEditing);
      }) }, c.enabled ? "Disable" : "Enable"),
      h("button", { disabled: !c.enabled, onclick: (e) => act(e.currentTarget, async () => {
        const again = await api(`${CARRIERS}/${c.id}/restart`, { method: "POST" });
        fill(card.querySelector(".link-state"), carrierLive(again, registered));
        toast(`Restarted ${c.name}.`, "ok");
      }) }, "Restart"),
      h("button", { class: "danger", onclick: (e) => act(e.currentTarget, async () => {
        if (!confirm(`Delete the carrier connection ${c.name}? Its settings and secrets are gone for good.`)) return;
        fill(notice);
        try {
          await api(`${CARRIERS}/${c.id}`, { method: "DELETE" });
        } catch (err) { // e.g. refused while numbers are registered on it: say why, here
          fill(notice, h("p", { class: "problem", role: "alert" }, err.message));
          return;
        }
        toast(`Deleted ${c.name}.`, "ok");
        await carriers(carrierEditing === c.id ? null : carrierEditing);
      }) }, "Delete"));
  const card = h("article", { class: "card carrier", "aria-labelledby": heading, dataset: { connection: c.id } },
    h("div", { class: "row" }, h("h3", { id: heading }, c.name),
      h("span", { class: "badge" }, (KINDS.find(([k]) => k === c.kind) || [c.kind, c.kind])[1]),
      c.enabled ? null : h("span", { class: "badge" }, "disabled"),
      c.builtin ? h("span", { class: "badge" }, "read-only") : null),
    h("div", { class: "link-state" }, carrierLive(c, registered)), notice, actions);
  return card;
}

/** The section: every connection with its live state (refreshed while open), and a form. */
async function carriers(editId, kind, focus = false) {
  stopRefresh();
  const [listing, nums, tables] = await Promise.all([api(CARRIERS), all(NUMBERS), carrierTables()]);
  // The built-in simulator's numbers are those registered on it (its listing has none).
  const registeredOn = (c, ns) => (c.builtin
    ? ns.filter((n) => n.integration && n.integration.id === c.id).map((n) => n.phoneNumber) : c.registeredNumbers);
  const cards = h("div", { class: "carriers", id: "carrier-list" });
  const asOf = h("p", { class: "muted", id: "carrier-refreshed" });
  const draw = (list, ns) => {
    const ids = list.map((c) => `${c.id}:${c.enabled}:${c.version}`).join(" ");
    if (cards.dataset.ids !== ids) { // added, removed or changed: draw the cards again
      cards.dataset.ids = ids;
      fill(cards, list.map((c) => carrierCard(c, registeredOn(c, ns))));
      return;
    }
    for (const c of list) { // only the state: buttons (and the focus on them) stay put
      const live = cards.querySelector(`[data-connection="${CSS.escape(c.id)}"] .link-state`);
      if (live) fill(live, carrierLive(c, registeredOn(c, ns)));
    }
  };
  const editing = listing.entities.find((c) => c.id === editId && !c.builtin) || null;
  carrierEditing = editing ? editing.id : null;
  const holder = h("div", { id: "carrier-form" });
  fill(main(), h("section", {}, h("h2", {}, "Carrier connections"),
    h("p", { class: "muted" }, "How texts reach phones: SMPP links, HTTP provider accounts, simulators. Each SMS number sends and receives through one of them."),
    cards, asOf, holder));
  draw(listing.entities, nums);
  fill(asOf, `State as of ${formatTime(new Date().toISOString())}, refreshed every few seconds.`);
  drawCarrierForm(holder, editing, editing ? editing.kind : kind || "smpp", tables);
  if (focus) { holder.scrollIntoView({ block: "start" }); $("#carrier-name").focus(); }

  let busy = false;
  const timer = setInterval(async () => {
    if (!cards.isConnected) { clearInterval(timer); return; } // drawn over: stop this one only
    if (busy || document.hidden) return;
    busy = true;
    try {
      const [fresh, ns] = await Promise.all([api(CARRIERS), all(NUMBERS)]);
      if (!cards.isConnected) return;
      draw(fresh.entities, ns);
      fill(asOf, `State as of ${formatTime(new Date().toISOString())}, refreshed every few seconds.`);
    } catch (e) {
      fill(asOf, h("span", { class: "problem" }, `Could not refresh the state: ${e.message}`));
    } finally {
      busy = false;
    }
  }, REFRESH_MS);
  stopRefresh = () => { clearInterval(timer); stopRefresh = () => {}; };
}

function typed(s, raw) {
  const v = raw.trim();
  if (v === "") return undefined; // not given: its default
  if ((s.type === "integer" || s.type === "number") && /^[+-]?(\d+\.?\d*|\.\d+)$/.test(v)) return Number(v);
  return v; // as typed: the server says what is wrong with it
}

function describe(s) {
  const bits = [s.help, s.required ? "required" : "",
    s.default !== undefined && s.default !== "" && s.type !== "object" ? `default ${s.default}` : ""].filter(Boolean);
  return bits.length ? `(${bits.join("; ")})` : "";
}

/** The form of one connection (`c`, or a new one of `kind`): every input knows the field
 * name the server uses for it, so each problem in an error's details[] is marked at it. */
function drawCarrierForm(holder, c, kind, tables) {
  const table = tables.entities.find((k) => k.kind === kind);
  const marks = new Map(); // server fieldName -> {box, control}
  const at = (fieldName, box, control = box.querySelector("input, select, textarea")) => {
    marks.set(fieldName, { box, control });
    return box;
  };
  const name = h("input", { id: "carrier-name", required: true, value: c ? c.name : "", autocomplete: "off" });
  const kindPicker = h("select", { id: "carrier-kind", disabled: !!c, onchange: () => {
    const keep = name.value;
    drawCarrierForm(holder, null, kindPicker.value, tables);
    $("#carrier-name").value = keep;
    $("#carrier-kind").focus();
  } }, options(KINDS, kind));
  const enabled = h("input", { id: "carrier-enabled", type: "checkbox", checked: c ? c.enabled : true });

  const settings = table.settings.map((s) => {
    const id = `carrier-setting-${s.name}`;
    const current = c ? c.settings[s.name] : undefined;
    if (s.type === "object") { // numberRates: one rate per number type
      const rates = tables.phoneNumberTypes.map((t) => [t, h("input", { id: `${id}-${t}`, inputmode: "decimal", size: 6,
        value: current && current[t] !== undefined ? current[t] : "", placeholder: s.default ? String(s.default[t]) : "" })]);
      const box = h("fieldset", { class: "rates" }, h("legend", {}, s.name, h("span", { class: "hint" }, ` ${describe(s)}`)),
        h("div", { class: "row" }, rates.map(([t, input]) => field(t, input))));
      return { s, box: at(`settings.${s.name}`, box, box), value: () => {
        const given = Object.fromEntries(rates.map(([t, input]) => [t, typed({ type: "number" }, input.value)])
          .filter(([, v]) => v !== undefined));
        return Object.keys(given).length ? given : undefined;
      } };
    }
    let input;
    if (s.type === "boolean") {
      input = h("input", { id, type: "checkbox", checked: current !== undefined ? current : s.default });
    } else if (s.choices) {
      input = h("select", { id }, options(s.choices.map((v) => [String(v), String(v)]), String(current !== undefined ? current : s.default)));
    } else {
      input = h("input", { id, autocomplete: "off", value: current !== undefined && current !== null ? String(current) : "",
        inputmode: s.type === "integer" ? "numeric" : s.type === "number" ? "decimal" : null,
        placeholder: s.default !== undefined && s.default !== null && s.default !== "" ? String(s.default) : null });
    }
    const value = () => (s.type === "boolean" ? input.checked : s.choices
      ? (s.type === "integer" ? Number(input.value) : input.value) : typed(s, input.value));
    return { s, box: at(`settings.${s.name}`, field(s.name, input, describe(s))), value };
  });

  const secrets = table.secrets.map((s) => {
    const set = c && c.secretsSet.includes(s.name);
    const input = h("input", { id: `carrier-secret-${s.name}`, type: "password", autocomplete: "new-password" });
    const box = field(s.name, input, set ? "(set: leave empty to keep it)" : describe(s));
    box.querySelector("label").append(" ", h("span", { class: `badge ${set ? "ok" : ""}`, dataset: { secret: s.name } }, set ? "set" : "not set"));
    return { s, input, box: at(`secrets.${s.name}`, box) };
  });

  // The numbers inventory: rows of number + type.
  const rows = [];
  const rowsBox = h("div", { class: "inventory" });
  const renumber = () => rows.forEach((r, i) => {
    r.number.setAttribute("aria-label", `Number ${i + 1}`);
    r.type.setAttribute("aria-label", `Type of number ${i + 1}`);
    r.remove.setAttribute("aria-label", `Remove number ${i + 1}`);
  });
  const addRow = (n) => {
    const r = { number: h("input", { inputmode: "tel", autocomplete: "off", placeholder: "+13125550100", value: n ? n.phoneNumber : "" }),
      type: h("select", {}, options(tables.phoneNumberTypes.map((t) => [t, t]), n ? n.phoneNumberType : "local")) };
    r.remove = h("button", { type: "button", onclick: () => {
      rows.splice(rows.indexOf(r), 1);
      r.el.remove();
      renumber();
      (rows.length ? rows[rows.length - 1].number : add).focus();
    } }, "Remove");
    r.el = h("div", { class: "inventory-row" }, h("div", { class: "row" }, r.number, r.type, r.remove));
    rows.push(r);
    rowsBox.append(r.el);
    renumber();
    return r;
  };
  const add = h("button", { type: "button", id: "carrier-number-add", onclick: () => addRow().number.focus() }, "Add number");
  for (const n of c ? c.numbers : []) addRow(n);
  const inventory = at("numbers", h("fieldset", {}, h("legend", {}, "Numbers it serves",
    h("span", { class: "hint" }, " (the carrier's numbers on this connection: they can be registered as SMS numbers)")),
  rowsBox, add), null);

  const summary = h("div", { id: "carrier-problems", "aria-live": "polite" });
  let sent = []; // the inventory rows in the order the last request listed them
  const clear = () => {
    fill(summary);
    for (const p of holder.querySelectorAll("[data-problem]")) p.remove();
    for (const el of holder.querySelectorAll("[aria-invalid]")) { el.removeAttribute("aria-invalid"); el.removeAttribute("aria-describedby"); }
  };
  const target = (fieldName) => {
    const row = /^numbers\[(\d+)\](?:\.(\w+))?$/.exec(fieldName);
    if (row && sent[Number(row[1])]) {
      const r = sent[Number(row[1])];
      return { box: r.el, control: row[2] === "phoneNumberType" ? r.type : r.number };
    }
    for (let f = fieldName; f;) { // "settings.numberRates.local" -> "settings.numberRates" -> ...
      if (marks.has(f)) return marks.get(f);
      const up = f.replace(/(\.[^.[\]]*|\[\d+\])$/, "");
      if (up === f) break;
      f = up;
    }
    return null;
  };
  /** Mark every field the server named; true if it named any. */
  const showProblems = (err) => {
    const details = ((err.body && err.body.details) || []).filter((d) => d.fieldName);
    if (!details.length) return false;
    const elsewhere = [];
    details.forEach((d, i) => {
      const text = d.entityName || err.message;
      const t = target(d.fieldName);
      if (!t) { elsewhere.push(`${d.fieldName}: ${text}`); return; }
      const id = `carrier-problem-${i}`;
      t.box.append(h("p", { class: "problem", id, dataset: { problem: d.fieldName } }, text));
      const control = t.control || t.box;
      control.setAttribute("aria-invalid", "true");
      control.setAttribute("aria-describedby", id);
    });
    fill(summary, h("p", { class: "problem", role: "alert" }, details.length === 1 ? "Not saved: 1 problem, marked below."
      : `Not saved: ${details.length} problems, each marked below.`),
    elsewhere.length ? h("ul", { class: "problems" }, elsewhere.map((p) => h("li", {}, p))) : null);
    const first = holder.querySelector("[aria-invalid=true]");
    if (first) first.focus();
    return true;
  };

  const save = form(async () => {
    clear();
    const body = { name: name.value, enabled: enabled.checked, settings: {}, numbers: [] };
    for (const { s, value } of settings) {
      const v = value();
      if (v !== undefined) body.settings[s.name] = v;
    }
    const given = Object.fromEntries(secrets.filter((x) => x.input.value).map((x) => [x.s.name, x.input.value]));
    if (Object.keys(given).length) body.secrets = given; // none given: the stored ones stay
    sent = rows.filter((r) => r.number.value.trim());
    body.numbers = sent.map((r) => ({ phoneNumber: r.number.value.trim(), phoneNumberType: r.type.value }));
    let saved;
    try {
      saved = c ? await api(`${CARRIERS}/${c.id}`, { method: "PUT", body: { ...body, version: c.version } })
        : await api(CARRIERS, { method: "POST", body: { ...body, kind } });
    } catch (err) {
      if (showProblems(err)) return;
      throw err;
    }
    toast(`Connection ${saved.name} saved.`, "ok");
    await carriers(saved.id);
    $("#carrier-save").focus(); // where the keyboard was, on the form as saved
  }, h("h3", { style: "margin-top:0" }, c ? `Edit connection ${c.name}` : "New connection"),
  summary,
  h("div", { class: "form-grid" }, at("name", field("Name", name)), at("kind", field("Kind", kindPicker, c ? "(cannot change)" : "")),
    at("enabled", field("Enabled", enabled, "(disabled: closed, sends nothing)"))),
  h("fieldset", {}, h("legend", {}, "Settings", h("span", { class: "hint" }, " (empty: the default)")),
    h("div", { class: "form-grid" }, settings.map((x) => x.box))),
  secrets.length ? h("fieldset", {}, h("legend", {}, "Secrets", h("span", { class: "hint" }, " (write-only: never shown again)")),
    h("div", { class: "form-grid" }, secrets.map((x) => x.box))) : null,
  inventory,
  h("div", { class: "row" }, h("button", { class: "primary", type: "submit", id: "carrier-save" }, c ? "Save connection" : "Create connection"),
    c ? h("button", { type: "button", onclick: () => carriers().catch(report) }, "New connection instead") : null));
  save.setAttribute("novalidate", ""); // the server checks every field and names each wrong one
  save.setAttribute("aria-label", c ? `Edit connection ${c.name}` : "New connection");
  fill(holder, save);
}

// -- queues -------------------------------------------------------------------------------

async function queues(editId) {
  const [list, nums] = await Promise.all([all("/api/v2/routing/queues"), all("/api/v2/routing/sms/phonenumbers")]);
  const numberOf = (q) => {
    const ref = q.outboundMessagingAddresses && q.outboundMessagingAddresses.smsAddress;
    const n = ref && nums.find((x) => x.id === ref.id);
    return n ? n.phoneNumber : "–";
  };
  const editing = list.find((q) => q.id === editId) || null;
  fill(main(), h("section", {}, h("h2", {}, "Queues"),
    table(["Name", "Members (joined)", "Outbound SMS Number", "Wrap-up", ""], list.map((q) => [q.name,
      `${q.memberCount} (${q.joinedMemberCount})`, numberOf(q), q.acwSettings.wrapupPrompt,
      h("button", { onclick: () => queues(q.id).catch(report) }, "Edit")])),
    queueForm(editing, nums, list),
    editing ? h("div", { id: "queue-codes" }) : null,
    editing ? h("div", { id: "members" }) : null));
  if (editing) await Promise.all([queueCodes(editing), members(editing)]);
}

function queueForm(q, nums, list) {
  const m = (q && q.mediaSettings.message) || {};
  const name = h("input", { id: "queue-name", required: true, value: q ? q.name : "" });
  const description = h("input", { id: "queue-description", value: (q && q.description) || "" });
  const timeout = h("input", { id: "queue-timeout", type: "number", min: 7, max: 86400, value: m.alertingTimeoutSeconds || 30 });
  const prompt = h("select", { id: "queue-prompt" }, options(PROMPTS.map((p) => [p, p]), q ? q.acwSettings.wrapupPrompt : "OPTIONAL"));
  const evaluation = h("select", { id: "queue-evaluation" }, options([["ALL", "ALL (every required skill)"], ["BEST", "BEST"], ["NONE", "NONE"]], q ? q.skillEvaluationMethod : "ALL"));
  const current = q && q.outboundMessagingAddresses && q.outboundMessagingAddresses.smsAddress;
  const number = h("select", { id: "queue-number" }, options([["", "None"], ...nums.map((n) => [n.id, n.phoneNumber])], current ? current.id : ""));
  const slPercent = h("input", { id: "queue-sl-percent", type: "number", min: 1, max: 100, value: Math.round(((m.serviceLevel && m.serviceLevel.percentage) || 0.8) * 100) });
  const slSeconds = h("input", { id: "queue-sl-seconds", type: "number", min: 1, value: Math.round(((m.serviceLevel && m.serviceLevel.durationMs) || 20000) / 1000) });
  return form(async () => {
    const body = { name: name.value, description: description.value || undefined,
      mediaSettings: { message: { alertingTimeoutSeconds: Number(timeout.value),
        serviceLevel: { percentage: Number(slPercent.value) / 100, durationMs: Number(slSeconds.value) * 1000 } } },
      acwSettings: { wrapupPrompt: prompt.value }, skillEvaluationMethod: evaluation.value,
      outboundMessagingAddresses: number.value ? { smsAddress: { id: number.value } } : undefined };
    const saved = q
      ? await api(`/api/v2/routing/queues/${q.id}`, { method: "PUT", body: { ...body, version: q.version } })
      : await api("/api/v2/routing/queues", { method: "POST", body });
    toast(`Queue ${saved.name} saved.`, "ok");
    await queues(saved.id);
  }, h("h3", { style: "margin-top:0" }, q ? `Edit queue ${q.name}` : "New queue"),
  h("div", { class: "form-grid" }, field("Name", name), field("Description", description),
    field("Alerting timeout", timeout, "(seconds, 7–86400)"), field("Wrap-up prompt", prompt),
    field("Skill evaluation", evaluation, "(of the skills a flow's transferToAcd asks for)"),
    field("Outbound SMS Number", number),
    field("Service level", slPercent, "(% answered…)"), field("…within", slSeconds, "(seconds)")),
  h("div", { class: "row" }, h("button", { class: "primary", type: "submit", id: "queue-save" }, q ? "Save queue" : "Create queue"),
    q ? h("button", { type: "button", onclick: () => queues().catch(report) }, "New queue instead") : null));
}

async function queueCodes(q) {
  const base = `/api/v2/routing/queues/${q.id}/wrapupcodes`;
  const [offered, codes] = await Promise.all([api(base), all("/api/v2/routing/wrapupcodes")]);
  const on = new Set(offered.entities.map((c) => c.id));
  const rest = codes.filter((c) => !on.has(c.id));
  const add = h("select", { id: "queue-code-add" }, options(rest.map((c) => [c.id, c.name])));
  fill($("#queue-codes"), h("h3", {}, `Wrap-up codes of ${q.name}`),
    h("p", { class: "muted" }, offered.entities.length
      ? "Agents on this queue wrap up with one of these."
      : "None chosen: agents on this queue may use any of the organisation's codes."),
    table(["Code", ""], offered.entities.map((c) => [c.name,
      h("button", { class: "danger", "aria-label": `Remove ${c.name} from ${q.name}`, onclick: (e) => act(e.currentTarget, async () => {
        await api(`${base}/${c.id}`, { method: "DELETE" });
        await queueCodes(q);
      }) }, "Remove")]), "No codes chosen for this queue."),
    rest.length ? form(async () => {
      await api(base, { method: "POST", body: [{ id: add.value }] });
      await queueCodes(q); // the table shows it: no toast over the buttons below
    }, h("div", { class: "row" }, field("Offer a code", add), h("button", { type: "submit", id: "queue-code-submit" }, "Add code")))
      : h("p", { class: "muted" }, codes.length ? "The queue offers every code."
        : h("span", {}, "There are no wrap-up codes yet: ", h("a", { href: "#wrapup" }, "create some"), ".")));
}

async function members(q) {
  const [page, users] = await Promise.all([
    api(`/api/v2/routing/queues/${q.id}/members`, { query: { pageSize: 100 } }), all("/api/v2/users")]);
  const inQueue = new Set(page.entities.map((m) => m.id));
  const add = h("select", { id: "member-add" }, options(users.filter((u) => !inQueue.has(u.id)).map((u) => [u.id, `${u.name} (${u.email})`])));
  const base = `/api/v2/routing/queues/${q.id}/members`;
  fill($("#members"), h("h3", {}, `Members of ${q.name}`),
    table(["Name", "Joined", ""], page.entities.map((m) => [m.name,
      h("input", { type: "checkbox", checked: m.joined, "aria-label": `${m.name} joined`, onchange: (e) => act(e.currentTarget, async () => {
        await api(base, { method: "PATCH", body: [{ id: m.id, joined: e.currentTarget.checked }] });
        await members(q);
      }) }),
      h("button", { class: "danger", onclick: (e) => act(e.currentTarget, async () => {
        await api(base, { method: "POST", query: { delete: "true" }, body: [{ id: m.id }] });
        await members(q);
      }) }, "Remove")]), "No members yet."),
    form(async () => {
      if (!add.value) return;
      await api(base, { method: "POST", body: [{ id: add.value }] });
      toast("Member added.", "ok");
      await members(q);
    }, h("div", { class: "row" }, field("Add a member", add), h("button", { type: "submit", id: "member-submit" }, "Add"))));
}

// -- inbound routes -----------------------------------------------------------------------

async function routes() {
  const [recipients, flows, nums] = await Promise.all([all("/api/v2/routing/message/recipients"),
    all("/api/v2/flows"), all("/api/v2/routing/sms/phonenumbers")]);
  const published = flows.filter((f) => f.publishedVersion);
  const label = (r) => {
    const n = nums.find((x) => x.id === r.id); // a recipient is its number
    return n && n.phoneNumber !== r.name ? `${n.phoneNumber} (${r.name})` : r.name;
  };
  fill(main(), h("section", {}, h("h2", {}, "Inbound message routes"),
    h("p", { class: "muted" }, "Which published flow answers the texts each number receives."),
    table(["Number", "Flow", ""], recipients.map((r) => {
      const select = h("select", { "aria-label": `Flow for ${label(r)}`, dataset: { recipient: r.id } },
        options([["", "No flow (the number's queue)"], ...published.map((f) => [f.id, f.name])], r.flow ? r.flow.id : ""));
      return [label(r), select, h("button", { onclick: (e) => act(e.currentTarget, async () => {
        await api(`/api/v2/routing/message/recipients/${r.id}`, { method: "PUT",
          body: { flow: select.value ? { id: select.value } : null } });
        toast(`Route for ${r.name} saved.`, "ok");
        await routes();
      }) }, "Save")];
    }))));
}

// -- flows ----------------------------------------------------------------------------------

async function flows(openId) {
  const list = await all("/api/v2/flows");
  const name = h("input", { id: "flow-name", required: true });
  fill(main(), h("section", {}, h("h2", {}, "Flows"),
    table(["Name", "Published", "Saved", ""], list.map((f) => [f.name,
      f.publishedVersion ? `v${f.publishedVersion.id}` : "–", f.savedVersion ? `v${f.savedVersion.id}` : "–",
      h("button", { onclick: () => flows(f.id).catch(report) }, "Open")])),
    form(async () => {
      const made = await api("/api/v2/flows", { method: "POST", body: { name: name.value, type: "inboundshortmessage" } });
      await flows(made.id);
    }, h("div", { class: "row" }, field("New flow", name), h("button", { type: "submit", id: "flow-create" }, "Create flow"))),
    h("div", { id: "editor" })));
  const flow = list.find((f) => f.id === openId);
  if (flow) await editor(flow);
}

async function editor(flow) {
  let yaml = "";
  if (flow.savedVersion) {
    const resp = await api(`/api/v2/flows/${flow.id}/latestconfiguration`, { raw: true });
    yaml = await resp.text();
  }
  const versions = await api(`/api/v2/flows/${flow.id}/versions`);
  const text = h("textarea", { id: "flow-yaml", class: "yaml", spellcheck: "false", "aria-describedby": "flow-problems" });
  text.value = yaml || `name: ${flow.name}\ntype: inboundshortmessage\nfallbackQueue: Support\nstart: greet\nactions:\n  greet:\n    sendResponse: {text: "Hello!"}\n    next: toQueue\n  toQueue:\n    transferToAcd: {queue: Support}\n`;
  const problems = h("ul", { class: "problems", id: "flow-problems", "aria-live": "polite" });
  const verdict = h("p", { id: "flow-verdict", role: "status" });
  const check = async () => {
    const result = await api("/api/v2/parley/flows/validate", { method: "POST", body: text.value, contentType: "text/yaml" });
    fill(problems, result.problems.map((p) => h("li", { dataset: { severity: p.severity } },
      `${p.line ? `line ${p.line}${p.column ? `:${p.column}` : ""} ` : ""}${p.path ? `${p.path}: ` : ""}${p.message}`)));
    verdict.textContent = result.valid ? `Valid: queues ${(result.queues || []).join(", ") || "none"}` : "Not valid yet: fix the problems below.";
    verdict.className = result.valid ? "" : "problem";
    return result.valid;
  };
  let timer = null;
  text.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(() => check().catch(report), 400); });
  fill($("#editor"), h("div", { class: "card" }, h("h3", { style: "margin-top:0" }, `Flow ${flow.name}`),
    h("p", { class: "muted" }, "Write or paste the flow's YAML (docs/flows.md); problems show as you type."),
    field("Definition (YAML)", text), verdict, problems,
    h("div", { class: "row" },
      h("label", { class: "row", style: "font-weight:400" }, "Upload a file ", h("input", { type: "file", accept: ".yaml,.yml,text/yaml", id: "flow-file", onchange: async (e) => {
        const file = e.currentTarget.files[0];
        if (file) { text.value = await file.text(); await check(); }
      } })),
      h("button", { id: "flow-save", onclick: (e) => act(e.currentTarget, async () => {
        if (!(await check())) { toast("The flow has problems: fix them first.", "error"); return; }
        const v = await api(`/api/v2/flows/${flow.id}/versions`, { method: "POST", body: text.value, contentType: "text/yaml" });
        toast(`Saved version ${v.id}.`, "ok");
        await flows(flow.id);
      }) }, "Save version"),
      h("button", { class: "primary", id: "flow-publish", disabled: !flow.savedVersion, onclick: (e) => act(e.currentTarget, async () => {
        await api("/api/v2/flows/actions/publish", { method: "POST", query: { flow: flow.id } });
        toast(`Published ${flow.name}.`, "ok");
        await flows(flow.id);
      }) }, "Publish latest version")),
    h("h3", {}, "Versions"),
    table(["Version", "Type", "Saved", "Published"], versions.entities.map((v) => [v.id, v.type,
      formatTime(new Date(v.dateCreated).toISOString()), v.datePublished ? formatTime(v.datePublished) : "–"]), "No saved version yet.")));
  if (yaml) await check();
}

// -- users, skills, utilization, wrap-up codes ----------------------------------------------

async function users() {
  const list = await all("/api/v2/users");
  const name = h("input", { id: "user-name", required: true });
  const email = h("input", { id: "user-email", type: "email", required: true });
  const password = h("input", { id: "user-password", type: "password", required: true, minlength: 8, autocomplete: "new-password" });
  const role = h("select", { id: "user-role" }, options(ROLES.map((r) => [r, r]), "agent"));
  const rolePicker = (u) => {
    const self = me && u.id === me.id;
    return h("select", { "aria-label": `Role of ${u.name}`, dataset: { user: u.id }, disabled: self,
      title: self ? "You cannot change your own role: ask another admin" : null,
      onchange: (e) => {
        const select = e.currentTarget;
        act(select, async () => {
          try {
            await api(`/api/v2/users/${u.id}`, { method: "PATCH", body: { roles: [select.value], version: u.version } });
            toast(`${u.name} is ${select.value === "admin" ? "an" : "a"} ${select.value} now, in their open sessions too.`, "ok");
          } finally {
            await users(); // the role as the server has it (also when it refused)
          }
        });
      } }, options(ROLES.map((r) => [r, r]), (u.roles || [])[0]));
  };
  fill(main(), h("section", {}, h("h2", {}, "Users"),
    table(["Name", "Email", "Role"], list.map((u) => [u.name, u.email, rolePicker(u)])),
    form(async () => {
      await api("/api/v2/users", { method: "POST", body: { name: name.value, email: email.value, password: password.value, roles: [role.value] } });
      toast(`Added ${name.value}.`, "ok");
      await users();
    }, h("h3", { style: "margin-top:0" }, "Add a user"),
    h("div", { class: "form-grid" }, field("Name", name), field("Email (sign-in)", email), field("Password", password, "(8+ characters)"), field("Role", role)),
    h("button", { class: "primary", type: "submit" }, "Add user"))));
}

async function skills() {
  const list = await all("/api/v2/routing/skills");
  const name = h("input", { id: "skill-name", required: true });
  fill(main(), h("section", {}, h("h2", {}, "Skills"),
    table(["Skill", ""], list.map((s) => [s.name, h("button", { class: "danger", onclick: (e) => act(e.currentTarget, async () => {
      await api(`/api/v2/routing/skills/${s.id}`, { method: "DELETE" });
      await skills();
    }) }, "Delete")])),
    form(async () => {
      await api("/api/v2/routing/skills", { method: "POST", body: { name: name.value } });
      await skills();
    }, h("div", { class: "row" }, field("New skill", name), h("button", { type: "submit" }, "Add skill")))));
}

async function utilization() {
  const u = await api("/api/v2/routing/utilization");
  const cap = h("input", { id: "capacity", type: "number", min: 1, max: 25, value: u.utilization.message.maximumCapacity });
  fill(main(), h("section", {}, h("h2", {}, "Utilization"),
    h("p", { class: "muted" }, "How many SMS conversations an agent handles at once (per-agent overrides use the API)."),
    form(async () => {
      await api("/api/v2/routing/utilization", { method: "PUT", body: { utilization: { message: { maximumCapacity: Number(cap.value) } } } });
      toast("Utilization saved.", "ok");
    }, h("div", { class: "row" }, field("Message capacity per agent", cap), h("button", { class: "primary", type: "submit" }, "Save")))));
}

async function wrapup() {
  const list = await all("/api/v2/routing/wrapupcodes");
  const name = h("input", { id: "code-name", required: true });
  fill(main(), h("section", {}, h("h2", {}, "Wrap-up codes"),
    table(["Code", ""], list.map((c) => [c.name, h("button", { class: "danger", onclick: (e) => act(e.currentTarget, async () => {
      await api(`/api/v2/routing/wrapupcodes/${c.id}`, { method: "DELETE" });
      await wrapup();
    }) }, "Delete")])),
    form(async () => {
      await api("/api/v2/routing/wrapupcodes", { method: "POST", body: { name: name.value } });
      await wrapup();
    }, h("div", { class: "row" }, field("New wrap-up code", name), h("button", { type: "submit" }, "Add code")))));
}

// -- OAuth clients --------------------------------------------------------------------------

function showSecret(client) {
  return h("div", { class: "card", id: "secret-box", role: "alert" },
    h("strong", {}, `Secret of ${client.name} — copy it now, it is not shown again:`),
    h("p", { class: "secret", id: "secret" }, client.secret),
    h("p", { class: "muted" }, `Client id: ${client.id}`));
}

async function clients(revealed) {
  const [listing, token] = await Promise.all([api("/api/v2/oauth/clients"), api("/api/v2/tokens/me")]);
  const list = listing.entities;
  const ours = token.OAuthClient && token.OAuthClient.id; // this console signed in through it
  const name = h("input", { id: "client-name", required: true });
  const grant = h("select", { id: "client-grant" }, options([["CLIENT-CREDENTIALS", "Client credentials (scripts, servers)"], ["CODE", "Browser app (PKCE / implicit)"]], "CLIENT-CREDENTIALS"));
  const role = h("select", { id: "client-role" }, options(ROLES.map((r) => [r, r]), "agent"));
  const uris = h("textarea", { id: "client-uris", rows: 2, placeholder: "https://app.example.com/callback (one per line)" });
  fill(main(), h("section", {}, h("h2", {}, "OAuth clients"),
    revealed ? showSecret(revealed) : null,
    table(["Name", "Grant", "Role", "Redirect URIs", ""], list.map((c) => [
      c.id === ours ? h("span", {}, c.name, h("span", { class: "muted" }, " (this session)")) : c.name,
      c.authorizedGrantType, c.roleIds.join(", "), c.registeredRedirectUri.join(" "),
      h("div", { class: "row" },
        c.authorizedGrantType === "CLIENT-CREDENTIALS" ? h("button", { onclick: (e) => act(e.currentTarget, async () => {
          if (!confirm(`Rotate the secret of ${c.name}? The old one stops working at once.`)) return;
          await clients(await api(`/api/v2/oauth/clients/${c.id}/secret`, { method: "POST" }));
        }) }, "Rotate secret") : null,
        h("button", { class: "danger", disabled: c.id === ours,
          title: c.id === ours ? "You are signed in through this client: deleting it would end this session" : null,
          onclick: (e) => act(e.currentTarget, async () => {
            if (!confirm(`Delete ${c.name}? Every token it issued stops working at once, and it can no longer sign in or get tokens.`)) return;
            await api(`/api/v2/oauth/clients/${c.id}`, { method: "DELETE" });
            toast(`Deleted ${c.name}.`, "ok");
            await clients();
          }) }, "Delete"))])),
    form(async () => {
      const made = await api("/api/v2/oauth/clients", { method: "POST", body: { name: name.value, authorizedGrantType: grant.value,
        roleIds: [role.value], registeredRedirectUri: uris.value.split(/\s+/).filter(Boolean) } });
      await clients(made.secret ? made : null);
      if (!made.secret) toast(`Created ${made.name} (a public client: no secret).`, "ok");
    }, h("h3", { style: "margin-top:0" }, "New OAuth client"),
    h("div", { class: "form-grid" }, field("Name", name), field("Grant", grant), field("Role", role, "(of client-credentials tokens)"), field("Redirect URIs", uris, "(browser apps)")),
    h("button", { class: "primary", type: "submit", id: "client-create" }, "Create client"))));
}

// -- routing between sections ---------------------------------------------------------------

const SECTIONS = { numbers, carriers, queues, routes, flows, users, skills, utilization, wrapup, clients };

async function show() {
  const name = location.hash.slice(1) || "numbers";
  const section = SECTIONS[name] || numbers;
  for (const a of document.querySelectorAll("#sections a")) {
    a.setAttribute("aria-current", a.getAttribute("href") === `#${name}` ? "page" : "false");
  }
  stopRefresh(); // the carriers' state refresh runs only while that section is open
  fill(main(), h("p", { class: "muted" }, "Loading…"));
  try {
    await section();
  } catch (e) {
    fill(main(), h("p", { class: "problem", role: "alert" }, e.message));
  }
}

async function start() {
  me = await startPage("admin", "Admin console");
  $("#live").remove(); // the console reads on demand; nothing here is live
  window.addEventListener("hashchange", show);
  await show();
}

start().catch(report);
