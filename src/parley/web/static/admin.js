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

async function numbers() {
  const list = await all("/api/v2/routing/sms/phonenumbers");
  const found = h("div", { id: "available" });
  const area = h("input", { id: "area-code", inputmode: "numeric", size: 5, placeholder: "312" });
  fill(main(), h("section", {}, h("h2", {}, "SMS numbers"),
    table(["Number", "Name", "Type", "Status", ""], list.map((n) => [n.phoneNumber, n.name || "", n.phoneNumberType,
      n.phoneNumberStatus, h("button", { class: "danger", onclick: (e) => act(e.currentTarget, async () => {
        if (!confirm(`Release ${n.phoneNumber}? Texts to it will no longer reach you.`)) return;
        await api(`/api/v2/routing/sms/phonenumbers/${n.id}`, { method: "DELETE" });
        toast(`Released ${n.phoneNumber}.`, "ok");
        await numbers();
      }) }, "Release")]), "No SMS numbers yet: register one below."),
    h("h3", {}, "Register a number from the carrier"),
    form(async () => {
      const offered = await api("/api/v2/routing/sms/availablephonenumbers",
        { query: { countryCode: "US", phoneNumberType: "local", areaCode: area.value } });
      fill(found, table(["Number", ""], offered.entities.slice(0, 10).map((a) => [a.phoneNumber,
        h("button", { class: "primary", onclick: (e) => act(e.currentTarget, async () => {
          await api("/api/v2/routing/sms/phonenumbers", { method: "POST", body: {
            phoneNumber: a.phoneNumber, phoneNumberType: a.phoneNumberType, countryCode: a.countryCode,
            name: `Number ${a.phoneNumber.slice(-4)}` } });
          toast(`Registered ${a.phoneNumber}.`, "ok");
          await numbers();
        }) }, "Register")]), "The carrier offers no number there."));
    }, h("div", { class: "row" }, field("Area code", area, "(US, optional)"),
      h("button", { type: "submit", id: "search-numbers" }, "Search available numbers"))),
    found));
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

const SECTIONS = { numbers, queues, routes, flows, users, skills, utilization, wrapup, clients };

async function show() {
  const name = location.hash.slice(1) || "numbers";
  const section = SECTIONS[name] || numbers;
  for (const a of document.querySelectorAll("#sections a")) {
    a.setAttribute("aria-current", a.getAttribute("href") === `#${name}` ? "page" : "false");
  }
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
