// halo-sim control center: swap the panels the server re-renders, post the buttons as JSON.
// Plain JavaScript, no build step, nothing fetched from the network: EventSource + fetch.
"use strict";

const live = () => document.getElementById("live");
const filterBox = () => document.getElementById("filter");

function applyFilter() {
  const needle = filterBox().value.trim().toLowerCase();
  for (const item of document.querySelectorAll("#panel-timeline li[data-refs]")) {
    const hay = (item.dataset.refs + " " + item.textContent).toLowerCase();
    item.hidden = needle !== "" && !hay.includes(needle);
  }
}

function swap(panels) {
  for (const [name, html] of Object.entries(panels)) {
    const target = document.querySelector(`[data-panel="${name}"]`);
    if (!target) continue;
    const open = new Set([...target.querySelectorAll("details[open] code")].map((c) => c.textContent));
    target.innerHTML = html;
    for (const code of target.querySelectorAll("details code")) {
      if (open.has(code.textContent)) code.closest("details").open = true;
    }
  }
  applyFilter();
}

function connect() {
  const source = new EventSource("/control/stream");
  source.addEventListener("open", () => { live().textContent = "live"; live().className = "pill on"; });
  source.addEventListener("panels", (event) => swap(JSON.parse(event.data)));
  source.addEventListener("error", () => { live().textContent = "reconnecting…"; live().className = "pill off"; });
}

function show(ok, text) {
  const box = document.getElementById("result");
  box.hidden = false;
  box.className = ok ? "ok" : "refused";
  box.textContent = text;
}

async function act(name, body, question) {
  if (question && !window.confirm(question)) return;
  let answer;
  try {
    answer = await fetch(`/control/actions/${name}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
  } catch (err) {
    show(false, `${name}: ${err}`);
    return;
  }
  const data = await answer.json().catch(() => ({}));
  const said = answer.ok ? JSON.stringify(data).slice(0, 300) : `${data.error || answer.status}: ${data.message || ""}`;
  show(answer.ok, `${name} → ${answer.status} ${said}`);
}

function prices(text) {
  return text.split(",").map((pair) => pair.trim()).filter(Boolean).map((pair) => {
    const [minutes, amount] = pair.split("=").map((n) => Number(n.trim()));
    return { duration_minutes: minutes, amount: amount };
  });
}

function formBody(form) {
  const body = {};
  for (const input of form.querySelectorAll("input, select")) {
    if (!input.name || input.name === form.dataset.suffix) continue;
    let value;
    if (input.type === "checkbox") value = input.checked;
    else if (input.value === "") continue;
    else if (input.type === "number") value = Number(input.value);
    else if (input.dataset.shape === "prices") value = prices(input.value);
    else value = input.value;
    const [outer, inner] = input.name.split(".");
    if (inner) body[outer] = { ...(body[outer] || {}), [inner]: value };
    else body[outer] = value;
  }
  return body;
}

document.addEventListener("click", (event) => {
  const target = event.target.closest("[data-action], [data-filter], [data-use-session]");
  if (!target || target.tagName === "FORM") return;
  event.preventDefault();
  if (target.dataset.filter) {
    filterBox().value = target.dataset.filter;
    applyFilter();
    document.getElementById("panel-timeline").scrollIntoView({ behavior: "smooth", block: "nearest" });
  } else if (target.dataset.useSession) {
    const form = document.querySelector('[data-testid="form-message"]');
    form.querySelector('[name="session_id"]').value = target.dataset.useSession;
    form.scrollIntoView({ behavior: "smooth", block: "nearest" });
  } else {
    act(target.dataset.action, JSON.parse(target.dataset.body || "{}"), target.dataset.confirm);
  }
});

document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-action]");
  if (!form) return;
  event.preventDefault();
  const suffix = form.dataset.suffix ? form.querySelector(`[name="${form.dataset.suffix}"]`).value : "";
  act(form.dataset.action + suffix, formBody(form), form.dataset.confirm);
});

document.addEventListener("DOMContentLoaded", () => {
  filterBox().addEventListener("input", applyFilter);
  document.getElementById("clear-filter").addEventListener("click", () => { filterBox().value = ""; applyFilter(); });
  connect();
});
