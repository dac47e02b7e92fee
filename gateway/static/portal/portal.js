// The demo citizens' portal: login with the authorization code flow + PKCE (public client), then the REST API.
// Plain browser JavaScript, no framework and no build step; the page's CSP allows scripts from the gateway only.
"use strict";

(() => {
  const SESSION_KEY = "epolicy.portal.session";
  const LOGIN_KEY = "epolicy.portal.login";
  const FINAL = new Set(["issued", "rejected", "cancelled"]);
  const POLL_MS = 1000;

  const STATUS = {
    accepted: "Заявление принято",
    verifying: "Проверка в реестре застрахованных лиц (ТФОМС)",
    issuing: "Оформление полиса в страховой медицинской организации",
    issued: "Полис оформлен",
    rejected: "В оформлении отказано",
    cancelled: "Заявление отменено",
  };
  const SHORT_STATUS = {
    accepted: "Принято",
    verifying: "Проверка в ТФОМС",
    issuing: "Оформление в СМО",
    issued: "Полис оформлен",
    rejected: "Отказ",
    cancelled: "Отменено",
  };
  const POLICY_STATUS = {
    active: "действует",
    expired: "срок действия истёк",
    suspended: "приостановлен",
    annulled: "аннулирован",
    pending: "оформляется",
  };
  const SOURCE = {
    gateway: "проверка данных заявления",
    fund: "территориальный фонд ОМС (реестр застрахованных лиц)",
    insurer: "страховая медицинская организация",
  };
  const POLICY_FORM = {
    electronic: "Электронный полис (выписка)",
    paper: "Полис на бумажном бланке",
    plastic: "Пластиковая карта",
  };
  const KIND = { new: "Новый полис", replacement: "Замена полиса" };
  const TITLE = { new: "Заявление на полис ОМС", replacement: "Заявление о замене полиса ОМС" };

  const state = {
    config: null,
    session: null,
    insurers: new Map(), // region code -> Promise of the insurer list
    regionNames: new Map(),
    application: null,
    policy: null,
    policyFor: null, // id of the application whose policy `policy` is
    pollTimer: null,
  };

  const $ = (id) => document.getElementById(id);

  // --- small helpers -----------------------------------------------------------------------------------

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function base64url(bytes) {
    let binary = "";
    for (const byte of bytes) binary += String.fromCharCode(byte);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function randomToken(size) {
    return base64url(crypto.getRandomValues(new Uint8Array(size)));
  }

  async function s256(text) {
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
    return base64url(new Uint8Array(digest));
  }

  function jwtClaims(token) {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const binary = atob(part + "=".repeat((4 - (part.length % 4)) % 4));
    const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
    return JSON.parse(new TextDecoder("utf-8").decode(bytes));
  }

  function formatSnils(value) {
    const digits = String(value || "").replace(/\D/g, "");
    if (digits.length !== 11) return value || "";
    return `${digits.slice(0, 3)}-${digits.slice(3, 6)}-${digits.slice(6, 9)} ${digits.slice(9)}`;
  }

  function formatEnp(value) {
    return String(value || "").replace(/(\d{4})(?=\d)/g, "$1 ");
  }

  function formatDate(value) {
    if (!value) return "";
    const [year, month, day] = value.slice(0, 10).split("-");
    return `${day}.${month}.${year}`;
  }

  function formatTime(value) {
    if (!value) return "";
    return new Date(value).toLocaleString("ru-RU", { dateStyle: "short", timeStyle: "medium" });
  }

  function showAlert(text) {
    const alert = $("alert");
    alert.textContent = text || "";
    alert.hidden = !text;
  }

  // --- views -----------------------------------------------------------------------------------------

  function showView(name) {
    for (const view of ["login", "form", "list", "application"]) {
      $(`view-${view}`).hidden = view !== name;
    }
    for (const tab of document.querySelectorAll(".tab")) {
      tab.classList.toggle("active", tab.dataset.view === name);
    }
    if (name !== "application") stopPolling();
    window.scrollTo(0, 0);
  }

  // --- login (authorization code + PKCE S256, public client) -------------------------------------------

  async function discovery() {
    const response = await fetch(`${state.config.issuer}/.well-known/openid-configuration`);
    if (!response.ok) throw new Error("discovery");
    const metadata = await response.json();
    if (metadata.issuer !== state.config.issuer) throw new Error("issuer");
    return metadata;
  }

  function redirectUri() {
    return new URL("callback", new URL("./", location.href)).href;
  }

  async function startLogin() {
    showAlert("");
    let metadata;
    try {
      metadata = await discovery();
    } catch {
      showAlert("Сервис авторизации недоступен. Попробуйте войти немного позже.");
      return;
    }
    const verifier = randomToken(48);
    const login = {
      verifier,
      state: randomToken(24),
      nonce: randomToken(24),
      tokenEndpoint: metadata.token_endpoint,
      redirectUri: redirectUri(),
    };
    sessionStorage.setItem(LOGIN_KEY, JSON.stringify(login));
    const query = new URLSearchParams({
      response_type: "code",
      client_id: state.config.client_id,
      redirect_uri: login.redirectUri,
      scope: state.config.scope,
      state: login.state,
      nonce: login.nonce,
      code_challenge: await s256(verifier),
      code_challenge_method: "S256",
    });
    location.assign(`${metadata.authorization_endpoint}?${query}`);
  }

  async function finishLogin(params) {
    const saved = JSON.parse(sessionStorage.getItem(LOGIN_KEY) || "null");
    sessionStorage.removeItem(LOGIN_KEY);
    history.replaceState(null, "", new URL("./", location.href).pathname);
    if (!saved || params.get("state") !== saved.state) {
      throw new Error("Ответ сервиса авторизации не относится к этому входу. Войдите ещё раз.");
    }
    if (params.get("error")) {
      throw new Error(
        params.get("error") === "access_denied"
          ? "Вход отменён: доступ к данным учётной записи не предоставлен."
          : "Не удалось войти. Попробуйте ещё раз.",
      );
    }
    const response = await fetch(saved.tokenEndpoint, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code: params.get("code") || "",
        redirect_uri: saved.redirectUri,
        client_id: state.config.client_id,
        code_verifier: saved.verifier,
      }),
    });
    if (!response.ok) throw new Error("Не удалось войти: сервис авторизации отклонил запрос. Войдите ещё раз.");
    const tokens = await response.json();
    // The ID token came straight from the token endpoint over the channel the page chose, so OIDC Core §3.1.3.7
    // lets a client trust its signature that way; the page still checks whom and which login it was issued for.
    const claims = tokens.id_token ? jwtClaims(tokens.id_token) : {};
    const audience = [].concat(claims.aud || []);
    if (tokens.id_token && (claims.iss !== state.config.issuer || claims.nonce !== saved.nonce
      || !audience.includes(state.config.client_id))) {
      throw new Error("Не удалось войти: ответ сервиса авторизации не прошёл проверку. Войдите ещё раз.");
    }
    // Kept in sessionStorage: one tab's session, gone when the tab closes; never in cookies or localStorage.
    state.session = {
      accessToken: tokens.access_token,
      expiresAt: Date.now() + 1000 * Number(tokens.expires_in || 3600),
      claims,
    };
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(state.session));
  }

  function logout(message) {
    stopPolling();
    sessionStorage.removeItem(SESSION_KEY);
    state.session = null;
    state.insurers.clear();
    $("user").hidden = true;
    $("tabs").hidden = true;
    showView("login");
    showAlert(message || "");
  }

  // --- the API ---------------------------------------------------------------------------------------

  class SessionExpired extends Error {}

  async function api(method, path, body, headers) {
    if (!state.session || state.session.expiresAt <= Date.now()) throw new SessionExpired();
    const init = {
      method,
      headers: { Authorization: `Bearer ${state.session.accessToken}`, Accept: "application/json", ...headers },
    };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(`${state.config.api_base}${path}`, init);
    if (response.status === 401) throw new SessionExpired();
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    return { status: response.status, data, location: response.headers.get("Location") };
  }

  function failure(error) {
    if (error instanceof SessionExpired) {
      logout("Сеанс истёк. Войдите ещё раз.");
    } else {
      showAlert("Сервис временно недоступен. Проверьте подключение и повторите попытку.");
    }
  }

  function problemText(answer) {
    if (answer.status === 429) return "Слишком много запросов. Подождите минуту и повторите.";
    if (answer.status === 503) return "Внешняя система временно недоступна. Повторите попытку немного позже.";
    return (answer.data && answer.data.detail) || `Запрос не выполнен (код ${answer.status}).`;
  }

  // --- reference data: regions, insurers, policy forms -------------------------------------------------

  function fillRegions(select, selected) {
    select.replaceChildren();
    for (const region of state.config.regions) {
      const option = element("option", null, `${region.code} — ${region.name}`);
      option.value = region.code;
      select.append(option);
    }
    select.value = selected || "77";
  }

  function insurersIn(region) {
    if (!state.insurers.has(region)) {
      const request = api("GET", `/insurers?region_code=${encodeURIComponent(region)}`).then((answer) => {
        if (answer.status !== 200) {
          state.insurers.delete(region);
          throw new Error(problemText(answer));
        }
        return answer.data.items;
      });
      state.insurers.set(region, request);
      request.catch(() => state.insurers.delete(region));
    }
    return state.insurers.get(region);
  }

  async function fillInsurers(form, preferred) {
    const region = form.querySelector('[data-role="region"]').value;
    const select = form.querySelector('[data-role="insurer"]');
    select.replaceChildren(element("option", null, "Загрузка…"));
    let items = [];
    try {
      items = await insurersIn(region);
    } catch (error) {
      if (error instanceof SessionExpired) return failure(error);
      select.replaceChildren(element("option", null, "Список недоступен, повторите позже"));
      select.options[0].value = "";
      return undefined;
    }
    select.replaceChildren();
    if (items.length === 0) {
      const option = element("option", null, "В регионе нет страховых организаций");
      option.value = "";
      select.append(option);
    }
    for (const insurer of items) {
      const option = element("option", null, insurer.name);
      option.value = insurer.code;
      option.dataset.forms = (insurer.policy_forms || []).join(" ");
      select.append(option);
    }
    if (preferred && items.some((item) => item.code === preferred)) select.value = preferred;
    fillPolicyForms(form);
    return undefined;
  }

  function fillPolicyForms(form, forms) {
    const select = form.querySelector('[data-role="policy-form"]');
    const insurer = form.querySelector('[data-role="insurer"]');
    const chosen = insurer && !insurer.closest("[hidden]") ? insurer.selectedOptions[0] : null;
    const offered = forms || (chosen && chosen.dataset.forms ? chosen.dataset.forms.split(" ") : Object.keys(POLICY_FORM));
    const previous = select.value;
    select.replaceChildren();
    for (const code of offered) {
      const option = element("option", null, POLICY_FORM[code] || code);
      option.value = code;
      select.append(option);
    }
    select.value = offered.includes(previous) ? previous : offered[0] || "";
  }

  // --- form data and field-level messages -------------------------------------------------------------

  function collect(form) {
    // Empty fields are left out: the API then names a missing required field as such.
    const body = {};
    for (const input of form.querySelectorAll("input[name], select[name]")) {
      if (input.closest("[hidden]")) continue;
      let value = input.value.trim();
      if (input.dataset.normalize === "phone") value = value.replace(/[\s()-]/g, "");
      if (!value) continue;
      const path = input.name.split(".");
      let target = body;
      for (const key of path.slice(0, -1)) target = target[key] || (target[key] = {});
      target[path[path.length - 1]] = value;
    }
    return body;
  }

  function clearErrors(form, box) {
    for (const node of form.querySelectorAll(".field-error")) node.remove();
    for (const node of form.querySelectorAll("[aria-invalid]")) {
      node.removeAttribute("aria-invalid");
      node.removeAttribute("aria-describedby");
    }
    for (const node of form.querySelectorAll(".invalid")) node.classList.remove("invalid");
    box.replaceChildren();
    box.hidden = true;
  }

  function fieldFor(form, path) {
    // The most precise element the reason's JSON path names: "person.identity_document.series", else its parent.
    let current = path || "";
    while (current) {
      const found = form.querySelector(`[data-field="${CSS.escape(current)}"]`);
      if (found && !found.closest("[hidden]")) return found;
      current = current.includes(".") ? current.slice(0, current.lastIndexOf(".")) : "";
    }
    return null;
  }

  function labelOf(form, path) {
    const field = fieldFor(form, path);
    if (!field) return "";
    const label = field.querySelector("label, legend");
    return label ? label.textContent.replace(/\s*\*$/, "").trim() : "";
  }

  function showErrors(form, box, reasons) {
    clearErrors(form, box);
    let counter = 0;
    const general = [];
    for (const reason of reasons) {
      const field = fieldFor(form, reason.field);
      if (!field) {
        general.push(reason);
        continue;
      }
      counter += 1;
      const message = element("div", "field-error");
      message.id = `${form.id}-error-${counter}`;
      message.dataset.code = reason.code;
      message.append(element("p", "error-message", reason.message));
      if (reason.recommendation) message.append(element("p", "error-hint", reason.recommendation));
      field.classList.add("invalid");
      field.append(message);
      const input = field.querySelector("input, select");
      if (input && field.classList.contains("field")) {
        input.setAttribute("aria-invalid", "true");
        input.setAttribute("aria-describedby", message.id);
      }
    }
    if (general.length) {
      box.append(element("p", "error-title", "Исправьте, пожалуйста:"));
      const list = element("ul");
      for (const reason of general) {
        const item = element("li", null, reason.message);
        if (reason.recommendation) item.append(element("span", "error-hint", ` ${reason.recommendation}`));
        list.append(item);
      }
      box.append(list);
      box.hidden = false;
    }
    const first = form.querySelector(".invalid input, .invalid select") || box;
    if (first && first.focus) first.focus();
  }

  function reasonsOf(answer) {
    return (answer.data && answer.data.errors) || [];
  }

  // --- the application form ---------------------------------------------------------------------------

  function prefill() {
    const claims = state.session.claims || {};
    const form = $("application-form");
    const set = (name, value) => {
      const input = form.elements.namedItem(name);
      if (input && value && !input.value) input.value = value;
    };
    set("person.last_name", claims.family_name);
    set("person.first_name", claims.given_name);
    set("person.middle_name", claims.middle_name);
    set("person.birth_date", claims.birthdate);
    set("person.snils", formatSnils(claims.snils));
  }

  async function checkDraft() {
    const form = $("application-form");
    $("form-status").textContent = "Проверяем…";
    try {
      const answer = await api("POST", "/applications/validate", collect(form));
      if (answer.status === 200) {
        clearErrors(form, $("form-errors"));
        $("form-status").textContent = "Ошибок не найдено, заявление можно подавать.";
      } else if (answer.status === 422) {
        showErrors(form, $("form-errors"), reasonsOf(answer));
        $("form-status").textContent = "Найдены ошибки: они отмечены у полей.";
      } else {
        $("form-status").textContent = problemText(answer);
      }
    } catch (error) {
      $("form-status").textContent = "";
      failure(error);
    }
  }

  async function apply(event) {
    event.preventDefault();
    const form = $("application-form");
    const button = $("apply");
    button.disabled = true;
    $("form-status").textContent = "Отправляем заявление…";
    try {
      const answer = await api("POST", "/applications", collect(form), { "Idempotency-Key": crypto.randomUUID() });
      if (answer.status === 202) {
        clearErrors(form, $("form-errors"));
        $("form-status").textContent = "";
        openApplication(answer.data);
      } else if (answer.status === 422) {
        showErrors(form, $("form-errors"), reasonsOf(answer));
        $("form-status").textContent = "Заявление не отправлено: исправьте отмеченные поля.";
      } else {
        $("form-status").textContent = problemText(answer);
      }
    } catch (error) {
      $("form-status").textContent = "";
      failure(error);
    } finally {
      button.disabled = false;
    }
  }

  // --- following an application -----------------------------------------------------------------------

  function stopPolling() {
    if (state.pollTimer) clearTimeout(state.pollTimer);
    state.pollTimer = null;
  }

  function openApplication(application) {
    state.policy = null;
    state.policyFor = null;
    $("replacement-form").hidden = true;
    $("replace-open").hidden = false;
    showView("application");
    renderApplication(application);
  }

  function schedulePoll(id) {
    stopPolling();
    state.pollTimer = setTimeout(async () => {
      try {
        const answer = await api("GET", `/applications/${encodeURIComponent(id)}`);
        if (answer.status !== 200) {
          showAlert(problemText(answer));
          schedulePoll(id);
          return;
        }
        if (state.application && state.application.id === id && !$("view-application").hidden) {
          renderApplication(answer.data);
        }
      } catch (error) {
        if (error instanceof SessionExpired) {
          failure(error);
        } else {
          schedulePoll(id); // a lost connection: keep following
        }
      }
    }, POLL_MS);
  }

  function renderApplication(application) {
    state.application = application;
    showAlert("");
    $("application-title").textContent = TITLE[application.kind] || "Заявление";
    $("application-meta").textContent = `№ ${application.id}, подано ${formatTime(application.created_at)}`;
    const badge = $("application-status");
    badge.textContent = STATUS[application.status] || application.status;
    badge.className = `badge status-${application.status}`;
    badge.dataset.status = application.status;
    $("application-stalled").hidden = !application.stalled;

    const history = $("application-history");
    history.replaceChildren();
    for (const entry of application.history) {
      const item = element("li", `step status-${entry.status}`);
      item.append(element("span", "step-name", STATUS[entry.status] || entry.status));
      item.append(element("time", "step-time", formatTime(entry.at)));
      if (entry.note) item.append(element("span", "step-note", entry.note));
      history.append(item);
    }
    if (!FINAL.has(application.status)) {
      const item = element("li", "step pending", "Ожидаем следующий шаг…");
      history.append(item);
    }

    renderRejection(application);
    $("policy").hidden = true;
    if (application.status === "issued" && application.policy) {
      showPolicy(application.policy.enp);
    }
    if (FINAL.has(application.status)) {
      stopPolling();
    } else {
      schedulePoll(application.id);
    }
  }

  function renderRejection(application) {
    const box = $("rejection");
    const list = $("rejection-reasons");
    list.replaceChildren();
    const reasons = (application.rejection && application.rejection.reasons) || [];
    box.hidden = application.status !== "rejected";
    $("fix").hidden = application.kind !== "new";
    for (const reason of reasons) {
      const item = element("li", "reason");
      item.dataset.code = reason.code;
      item.append(element("p", "reason-message", reason.message));
      if (reason.recommendation) {
        const advice = element("p", "reason-recommendation");
        advice.append(element("strong", null, "Что сделать: "), document.createTextNode(reason.recommendation));
        item.append(advice);
      }
      const facts = element("p", "reason-facts");
      const label = reason.field ? labelOf($("application-form"), reason.field) : "";
      if (label) facts.append(element("span", null, `Поле: ${label}`));
      facts.append(element("span", null, `Кто отказал: ${SOURCE[reason.source] || reason.source}`));
      facts.append(element("span", "reason-code", `Код: ${reason.code}`));
      item.append(facts);
      list.append(item);
    }
  }

  async function showPolicy(enp) {
    $("policy").hidden = false;
    $("policy-enp").textContent = formatEnp(enp);
    const applicationId = state.application.id;
    // The policy as read once the application was issued; another application's answer must not replace it.
    if (state.policy && state.policyFor === applicationId) return renderPolicy(state.policy);
    $("replace-open").disabled = true;
    try {
      const answer = await api("GET", `/policies/${encodeURIComponent(enp)}`);
      if (answer.status === 200 && state.application && state.application.id === applicationId) {
        state.policy = answer.data;
        state.policyFor = applicationId;
        renderPolicy(answer.data);
      }
    } catch (error) {
      failure(error);
    }
    return undefined;
  }

  function renderPolicy(policy) {
    $("replace-open").disabled = false;
    $("policy-status").textContent = POLICY_STATUS[policy.status] || policy.status;
    $("policy-insurer").textContent = policy.insurer ? policy.insurer.name : "";
    $("policy-region").textContent = state.regionNames.get(policy.region_code) || policy.region_code || "";
    $("policy-form").textContent = POLICY_FORM[policy.policy_form] || policy.policy_form || "";
    const validity = `с ${formatDate(policy.valid_from)}`;
    $("policy-validity").textContent = policy.valid_to ? `${validity} по ${formatDate(policy.valid_to)}` : `${validity}, бессрочно`;
    const holder = policy.holder || {};
    $("policy-holder").textContent = [holder.last_name, holder.first_name, formatDate(holder.birth_date)]
      .filter(Boolean)
      .join(" ");
  }

  // --- replacement ------------------------------------------------------------------------------------

  function replacementReasonChanged() {
    const form = $("replacement-form");
    const reason = form.elements.namedItem("reason").value;
    for (const field of form.querySelectorAll("[data-when]")) {
      field.hidden = !field.dataset.when.split(" ").includes(reason);
    }
    clearErrors(form, $("replacement-errors"));
    refreshReplacementChoices();
  }

  async function refreshReplacementChoices() {
    const form = $("replacement-form");
    const policy = state.policy;
    if (!policy) return;
    const insurer = form.querySelector('[data-role="insurer"]');
    if (!insurer.closest("[hidden]")) {
      await fillInsurers(form, policy.insurer && policy.insurer.code);
      return;
    }
    // The policy stays with its insurer: offer the forms that insurer issues.
    let forms;
    try {
      const items = await insurersIn(policy.region_code);
      const current = items.find((item) => policy.insurer && item.code === policy.insurer.code);
      forms = current ? current.policy_forms : undefined;
    } catch {
      forms = undefined;
    }
    fillPolicyForms(form, forms);
  }

  function openReplacement() {
    const form = $("replacement-form");
    form.reset();
    fillRegions(form.querySelector('[data-role="region"]'), state.policy ? state.policy.region_code : "77");
    form.hidden = false;
    $("replace-open").hidden = true;
    replacementReasonChanged();
    form.elements.namedItem("reason").focus();
  }

  async function replace(event) {
    event.preventDefault();
    const form = $("replacement-form");
    const enp = state.policy ? state.policy.enp : state.application.policy.enp;
    const body = collect(form);
    if (body.reason !== "relocation") delete body.region_code;
    const button = $("replace");
    button.disabled = true;
    try {
      const answer = await api("POST", `/policies/${encodeURIComponent(enp)}/replacements`, body);
      if (answer.status === 202) {
        state.insurers.clear();
        openApplication(answer.data);
      } else if (answer.status === 422) {
        showErrors(form, $("replacement-errors"), reasonsOf(answer));
      } else {
        showErrors(form, $("replacement-errors"), [{ message: problemText(answer), field: null }]);
      }
    } catch (error) {
      failure(error);
    } finally {
      button.disabled = false;
    }
  }

  // --- my applications ---------------------------------------------------------------------------------

  async function showList() {
    showView("list");
    try {
      const answer = await api("GET", "/applications?limit=50");
      if (answer.status !== 200) {
        showAlert(problemText(answer));
        return;
      }
      renderList(answer.data.items);
    } catch (error) {
      failure(error);
    }
  }

  function renderList(items) {
    $("list-empty").hidden = items.length > 0;
    $("list-table").hidden = items.length === 0;
    const body = $("list-body");
    body.replaceChildren();
    for (const item of items) {
      const row = element("tr");
      row.append(element("td", null, formatTime(item.created_at)));
      row.append(element("td", null, KIND[item.kind] || item.kind));
      row.append(element("td", `status-${item.status}`, SHORT_STATUS[item.status] || item.status));
      row.append(element("td", "enp", item.policy ? formatEnp(item.policy.enp) : "—"));
      const open = element("button", "link", "Открыть");
      open.type = "button";
      open.addEventListener("click", () => openApplication(item));
      const cell = element("td");
      cell.append(open);
      row.append(cell);
      body.append(row);
    }
  }

  // --- start -----------------------------------------------------------------------------------------

  function signedIn() {
    const claims = state.session.claims || {};
    $("user-name").textContent = claims.name || "Пользователь";
    $("user-snils").textContent = claims.snils ? `СНИЛС ${formatSnils(claims.snils)}` : "";
    $("user").hidden = false;
    $("tabs").hidden = false;
    const form = $("application-form");
    fillRegions(form.querySelector('[data-role="region"]'), "77");
    fillInsurers(form);
    prefill();
    showView("form");
  }

  function wire() {
    $("login").addEventListener("click", startLogin);
    $("logout").addEventListener("click", () => logout(""));
    for (const tab of document.querySelectorAll(".tab")) {
      tab.addEventListener("click", () => (tab.dataset.view === "list" ? showList() : showView(tab.dataset.view)));
    }
    const form = $("application-form");
    form.addEventListener("submit", apply);
    $("check").addEventListener("click", checkDraft);
    form.querySelector('[data-role="region"]').addEventListener("change", () => fillInsurers(form));
    form.querySelector('[data-role="insurer"]').addEventListener("change", () => fillPolicyForms(form));
    $("fix").addEventListener("click", () => {
      const reasons = (state.application.rejection && state.application.rejection.reasons) || [];
      showView("form");
      showErrors(form, $("form-errors"), reasons);
    });

    const replacement = $("replacement-form");
    replacement.addEventListener("submit", replace);
    replacement.elements.namedItem("reason").addEventListener("change", replacementReasonChanged);
    replacement.querySelector('[data-role="region"]').addEventListener("change", () => fillInsurers(replacement));
    replacement.querySelector('[data-role="insurer"]').addEventListener("change", () => fillPolicyForms(replacement));
    $("replace-open").addEventListener("click", openReplacement);
    $("replace-cancel").addEventListener("click", () => {
      replacement.hidden = true;
      $("replace-open").hidden = false;
    });
  }

  async function start() {
    wire();
    try {
      const response = await fetch("config.json", { headers: { Accept: "application/json" } });
      state.config = await response.json();
    } catch {
      $("loading").hidden = true;
      showAlert("Портал временно недоступен. Обновите страницу немного позже.");
      return;
    }
    for (const region of state.config.regions) state.regionNames.set(region.code, region.name);
    const params = new URLSearchParams(location.search);
    if (location.pathname.endsWith("/callback")) {
      try {
        await finishLogin(params);
      } catch (error) {
        $("loading").hidden = true;
        logout(error.message || "Не удалось войти. Попробуйте ещё раз.");
        return;
      }
    } else {
      const saved = JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null");
      state.session = saved && saved.expiresAt > Date.now() ? saved : null;
    }
    $("loading").hidden = true;
    if (state.session) {
      signedIn();
    } else {
      logout("");
    }
  }

  document.addEventListener("DOMContentLoaded", start);
})();
