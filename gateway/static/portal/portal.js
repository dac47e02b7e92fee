// The demo citizens' portal: login with the authorization code flow + PKCE (public client), then the REST API.
// Plain browser JavaScript, no framework and no build step; the page's CSP allows scripts from the gateway only.
"use strict";

(() => {
  const SESSION_KEY = "epolicy.portal.session";
  const LOGIN_KEY = "epolicy.portal.login";
  // What this tab's citizen asked of their policies: new names by ЕНП, the ЕНП of each replacement by its id.
  const CHANGES_KEY = "epolicy.portal.changes";
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
  // A field of a reason by its JSON path, where the form that has it is not on the page (a refusal of the fund).
  const FIELD_LABELS = {
    relation: "Кем вам приходится застрахованный",
    person: "Личные данные",
    "person.last_name": "Фамилия",
    "person.first_name": "Имя",
    "person.middle_name": "Отчество",
    "person.birth_date": "Дата рождения",
    "person.sex": "Пол",
    "person.birth_place": "Место рождения",
    "person.citizenship": "Гражданство",
    "person.category": "Категория застрахованного лица",
    "person.snils": "СНИЛС",
    "person.inn": "ИНН",
    "person.identity_document": "Паспорт",
    "person.identity_document.type": "Документ, удостоверяющий личность",
    "person.identity_document.series": "Серия паспорта",
    "person.identity_document.number": "Номер паспорта",
    "person.identity_document.issue_date": "Дата выдачи паспорта",
    "person.identity_document.expiry_date": "Срок действия документа",
    "person.identity_document.issuer": "Кем выдан паспорт",
    "person.residence_document": "Документ, подтверждающий право проживания",
    representative: "Представитель",
    "representative.birth_date": "Дата рождения представителя",
    "representative.snils": "СНИЛС представителя",
    "representative.authority.type": "Документ о полномочиях представителя",
    region_code: "Регион",
    insurer_code: "Страховая медицинская организация",
    policy_form: "Форма полиса",
    contacts: "Контакты",
    "contacts.phone": "Телефон",
    "contacts.email": "Электронная почта",
    reason: "Причина замены",
    enp: "ЕНП",
  };
  // The catalogue speaks of "этот человек" to whoever applies for anyone; to a citizen about themselves, "вы".
  const SELF_MESSAGES = {
    ALREADY_INSURED_SAME_INSURER: "Вы уже застрахованы в выбранной страховой медицинской организации.",
    DUPLICATE_APPLICATION: "По вам уже есть заявление, которое ещё не рассмотрено.",
  };
  // What a refusal's recommendation tells the citizen to do, where that is not to correct the data and apply again.
  const REFUSAL_ACTIONS = {
    // "Новый полис для этого не нужен": replace the policy one has, or choose another insurer.
    ALREADY_INSURED_SAME_INSURER: ["replace", "insurer"],
  };

  const state = {
    config: null,
    session: null,
    insurers: new Map(), // region code -> Promise of the insurer list
    regionNames: new Map(),
    application: null,
    policy: null,
    policyFor: null, // id of the application whose policy `policy` is
    pollTimer: null,
    family: null, // Promise of GET /me/family's items: whose applications and policies these are
    policyTitle: null, // the heading of a policy in force shown under a refusal
    announced: new Map(), // application id -> the status last announced to screen readers
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

  function formatApplicationNumber(id) {
    // A ULID begins with the time, alike for applications made together: its random end tells them apart.
    const tail = String(id || "").replace(/^app_/, "").slice(-8);
    return tail.length === 8 ? `${tail.slice(0, 4)}-${tail.slice(4)}` : String(id || "");
  }

  function maskName(name) {
    // As the API masks a surname: the first letter, and a star for every other one.
    const letters = Array.from(name || "");
    return letters.length ? letters[0] + "*".repeat(letters.length - 1) : "";
  }

  function fullName(parts) {
    return [parts.last_name, parts.first_name, parts.middle_name].filter(Boolean).join(" ");
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

  function savedChanges() {
    const saved = JSON.parse(sessionStorage.getItem(CHANGES_KEY) || "null") || {};
    return { names: saved.names || {}, enps: saved.enps || {} };
  }

  function saveChanges(update) {
    const saved = savedChanges();
    update(saved);
    sessionStorage.setItem(CHANGES_KEY, JSON.stringify(saved));
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
    sessionStorage.removeItem(CHANGES_KEY);
    state.session = null;
    state.family = null;
    state.announced.clear();
    state.insurers.clear();
    $("user").hidden = true;
    $("tabs").hidden = true;
    showView("login");
    showAlert(message || "");
  }

  // --- the API ---------------------------------------------------------------------------------------

  class SessionExpired extends Error {}

  async function send(method, path, body, headers) {
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
    return response;
  }

  async function api(method, path, body, headers) {
    const response = await send(method, path, body, headers);
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

  function labelOf(path, form) {
    // The field's name, which says more than a label read beside its fieldset ("Серия паспорта", not "Серия");
    // else the label the form shows; else the name of the nearest field above it.
    if (FIELD_LABELS[path]) return FIELD_LABELS[path];
    const field = form ? fieldFor(form, path) : null;
    const label = field ? field.querySelector("label, legend") : null;
    if (label) return label.textContent.replace(/\s*\*$/, "").trim();
    let current = path || "";
    while (current) {
      if (FIELD_LABELS[current]) return FIELD_LABELS[current];
      current = current.includes(".") ? current.slice(0, current.lastIndexOf(".")) : "";
    }
    return "";
  }

  function inFormOrder(form, reasons) {
    // As the form reads, top to bottom; reasons without a field of the form first, as the API gave them.
    const placed = reasons.map((reason, index) => ({ reason, index, field: fieldFor(form, reason.field) }));
    placed.sort((a, b) => {
      if (!a.field || !b.field) return (a.field ? 1 : 0) - (b.field ? 1 : 0) || a.index - b.index;
      if (a.field === b.field) return a.index - b.index;
      return a.field.compareDocumentPosition(b.field) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1;
    });
    return placed.map((item) => item.reason);
  }

  function messageOf(reason, own) {
    return (own && SELF_MESSAGES[reason.code]) || reason.message;
  }

  function showErrors(form, box, reasons, own = true, listed = true) {
    // Every reason at once: under its field, and (`listed`) above the form with a link to each field.
    clearErrors(form, box);
    const summary = element("ul");
    inFormOrder(form, reasons).forEach((reason, index) => {
      const message = messageOf(reason, own);
      const field = fieldFor(form, reason.field);
      const item = element("li");
      if (!field) {
        item.append(element("span", null, message));
        if (reason.recommendation) item.append(element("span", "error-hint", ` ${reason.recommendation}`));
        summary.append(item);
        return;
      }
      const note = element("div", "field-error");
      note.id = `${form.id}-error-${index + 1}`;
      if (reason.code) note.dataset.code = reason.code;
      note.append(element("p", "error-message", message));
      if (reason.recommendation) note.append(element("p", "error-hint", reason.recommendation));
      field.classList.add("invalid");
      field.append(note);
      const input = field.querySelector("input, select");
      if (input && field.classList.contains("field")) {
        input.setAttribute("aria-invalid", "true");
        const described = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
        input.setAttribute("aria-describedby", [...described, note.id].join(" "));
      }
      const link = element("a", null, `${labelOf(reason.field, form)}: ${message}`);
      link.href = `#${(input && input.id) || ""}`;
      link.addEventListener("click", (event) => {
        event.preventDefault();
        if (input) input.focus();
      });
      item.append(link);
      summary.append(item);
    });
    const first = form.querySelector(".invalid input, .invalid select");
    if (!listed && first && summary.querySelectorAll("a").length === reasons.length) {
      first.focus(); // one field, its reason beside it: a list above would only say it twice
    } else if (reasons.length) {
      const count = reasons.length === 1 ? "Найдена ошибка" : `Найдено ошибок: ${reasons.length}`;
      box.append(element("p", "error-title", `${count}. Исправьте, пожалуйста:`), summary);
      box.hidden = false;
      box.focus();
    }
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
        state.family = null;
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

  // --- whose applications and policies: the citizen's own, or someone's they applied for ------------------

  function family() {
    // GET /me/family names the people of the citizen's applications; asked once a session, and again when it failed.
    if (!state.family) {
      state.family = api("GET", "/me/family").then((answer) => (answer.status === 200 ? answer.data.items : []));
      state.family.catch(() => {
        state.family = null;
      });
    }
    return state.family.catch(() => []);
  }

  async function memberOf(application) {
    // The person whose latest application this is, with the ЕНП the gateway knows them by; null if not the latest.
    const members = await family();
    return members.find((item) => item.latest_application && item.latest_application.id === application.id) || null;
  }

  function isCitizen(person) {
    // The person is the one logged in: their first name and birth date, as the login gave them.
    const claims = (state.session && state.session.claims) || {};
    return Boolean(claims.birthdate) && person.birth_date === claims.birthdate && person.first_name === claims.given_name;
  }

  async function isOwnApplication(application) {
    // The portal's form is the citizen's own; an application for someone else is known by its person's data.
    const member = await memberOf(application);
    return !member || (member.relation === "self" && isCitizen(member.person));
  }

  function ownHolder(policy) {
    // The holder's full name if the policy is the citizen's own (their name and birth date, as they logged in or as
    // they changed it here); the API masks the surname of anyone's.
    const claims = (state.session && state.session.claims) || {};
    const holder = policy.holder || {};
    if (!claims.birthdate || holder.birth_date !== claims.birthdate) return null;
    const login = { last_name: claims.family_name, first_name: claims.given_name, middle_name: claims.middle_name };
    const changed = { ...login, ...(savedChanges().names[policy.enp] || {}) };
    return (
      [changed, login].find(
        (name) => name.first_name === holder.first_name && name.last_name && maskName(name.last_name) === holder.last_name,
      ) || null
    );
  }

  // --- following an application -----------------------------------------------------------------------

  function stopPolling() {
    if (state.pollTimer) clearTimeout(state.pollTimer);
    state.pollTimer = null;
  }

  function openApplication(application) {
    state.application = null;
    state.policy = null;
    state.policyFor = null;
    $("replacement-form").hidden = true;
    $("replace-open").hidden = false;
    $("download-status").textContent = "";
    showView("application");
    renderApplication(application);
    $("application-title").focus();
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

  function announce(application) {
    // Once for each status an application reaches, not at every poll.
    if (state.announced.get(application.id) === application.status) return;
    state.announced.set(application.id, application.status);
    const number = formatApplicationNumber(application.id);
    $("status-announcer").textContent = `Заявление № ${number}: ${STATUS[application.status] || application.status}`;
  }

  function renderApplication(application) {
    const changed = !state.application || state.application.id !== application.id
      || state.application.status !== application.status;
    state.application = application;
    showAlert("");
    $("application-title").textContent = TITLE[application.kind] || "Заявление";
    $("application-number").textContent = `№ ${formatApplicationNumber(application.id)}`;
    $("application-created").textContent = `, подано ${formatTime(application.created_at)}`;
    $("application-id").textContent = application.id;
    const badge = $("application-status");
    badge.textContent = STATUS[application.status] || application.status;
    badge.className = `badge status-${application.status}`;
    badge.dataset.status = application.status;
    $("application-stalled").hidden = !application.stalled;
    announce(application);

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

    if (changed) {
      renderRejection(application);
      $("policy").hidden = true;
      if (application.status === "issued" && application.policy) {
        showPolicy(application.policy.enp, "Полис ОМС оформлен").then((answer) => {
          if (answer && answer.status !== 200) showAlert(problemText(answer));
        });
      }
    }
    if (FINAL.has(application.status)) {
      if (changed) state.family = null; // whose policy is whose may have changed with it
      stopPolling();
    } else {
      schedulePoll(application.id);
    }
  }

  async function renderRejection(application) {
    const box = $("rejection");
    const list = $("rejection-reasons");
    list.replaceChildren();
    $("rejection-actions").replaceChildren();
    $("enp-finder").hidden = true;
    box.hidden = application.status !== "rejected";
    if (box.hidden) return;
    const reasons = (application.rejection && application.rejection.reasons) || [];
    const own = await isOwnApplication(application);
    if (state.application !== application) return; // another one was opened meanwhile
    for (const reason of reasons) {
      const item = element("li", "reason");
      item.dataset.code = reason.code;
      item.append(element("p", "reason-message", messageOf(reason, own)));
      if (reason.recommendation) {
        const advice = element("p", "reason-recommendation");
        advice.append(element("strong", null, "Что сделать: "), document.createTextNode(reason.recommendation));
        item.append(advice);
      }
      const facts = element("p", "reason-facts");
      const label = labelOf(reason.field);
      if (label) facts.append(element("span", "reason-field", `Поле: ${label}`));
      facts.append(element("span", null, `Кто отказал: ${SOURCE[reason.source] || reason.source}`));
      facts.append(element("span", "reason-code", `Код: ${reason.code}`));
      item.append(facts);
      list.append(item);
    }
    renderRefusalActions(application, reasons, own);
  }

  function refusalActions(application, reasons) {
    // The actions the reasons' recommendations name; correcting the data is what the others ask for.
    const named = reasons.flatMap((reason) => REFUSAL_ACTIONS[reason.code] || []);
    const actions = named.length ? [...new Set(named)] : ["fix"];
    if (application.kind === "replacement") {
      // A replacement is corrected on the policy's own form; "replace" is what it already was.
      return actions.includes("insurer") ? ["insurer"] : ["fix"];
    }
    return actions;
  }

  function renderRefusalActions(application, reasons, own) {
    const box = $("rejection-actions");
    const enpOfReplacement = savedChanges().enps[application.id];
    const buttons = {
      fix: () => {
        if (application.kind === "new") return ["Исправить данные и подать заново", () => fixApplication(reasons, own)];
        if (!enpOfReplacement) return null; // its policy is not known in this tab
        return ["Исправить заявление на замену", () => fixReplacement(enpOfReplacement, reasons, null)];
      },
      replace: () => ["Заменить полис", () => replaceInstead(application, own)],
      insurer: () => {
        if (application.kind === "new") {
          return ["Выбрать другую страховую организацию", () => fixApplication(reasons, own)];
        }
        if (!enpOfReplacement) return null;
        return ["Выбрать другую страховую организацию", () => fixReplacement(enpOfReplacement, reasons, "insurer_change")];
      },
    };
    let first = true;
    for (const action of refusalActions(application, reasons)) {
      const made = buttons[action]();
      if (!made) continue;
      const button = element("button", first ? "primary" : "secondary", made[0]);
      button.type = "button";
      button.dataset.action = action;
      button.addEventListener("click", made[1]);
      box.append(button);
      first = false;
    }
  }

  function fixApplication(reasons, own) {
    const form = $("application-form");
    showView("form");
    showErrors(form, $("form-errors"), reasons, own);
  }

  async function fixReplacement(enp, reasons, reason) {
    await showPolicy(enp, "Полис ОМС");
    if (!state.policy) return;
    openReplacement(reason);
    showErrors($("replacement-form"), $("replacement-errors"), reasons);
  }

  async function replaceInstead(application, own) {
    // The policy in force is known if it was applied for here; else the citizen says its ЕНП.
    const member = await memberOf(application);
    state.policyTitle = own ? "Ваш действующий полис ОМС" : "Действующий полис ОМС";
    if (member && member.enp) {
      await openPolicyInForce(member.enp);
      return;
    }
    const finder = $("enp-finder");
    finder.hidden = false;
    $("e-enp-label").textContent = own ? "ЕНП вашего действующего полиса *" : "ЕНП действующего полиса *";
    clearErrors(finder, $("enp-finder-errors"));
    finder.elements.namedItem("enp").focus();
  }

  async function openPolicyInForce(enp) {
    const answer = await showPolicy(enp, state.policyTitle || "Действующий полис ОМС");
    if (answer && answer.status === 200) {
      $("enp-finder").hidden = true;
      openReplacement();
    }
    return answer;
  }

  async function findPolicy(event) {
    event.preventDefault();
    const finder = $("enp-finder");
    const box = $("enp-finder-errors");
    const enp = finder.elements.namedItem("enp").value.replace(/[\s-]/g, "");
    const refuse = (message, recommendation) =>
      showErrors(finder, box, [{ field: "enp", message, recommendation }], true, false);
    if (!/^\d{16}$/.test(enp)) {
      refuse("ЕНП — это 16 цифр.", "Введите номер так, как он напечатан в полисе или выписке.");
      return;
    }
    clearErrors(finder, box);
    const answer = await openPolicyInForce(enp);
    if (!answer || answer.status === 200) return;
    if (answer.status === 422 && reasonsOf(answer).length) {
      showErrors(finder, box, reasonsOf(answer), true, false);
    } else if (answer.status === 404) {
      refuse("Среди ваших полисов нет полиса с таким ЕНП.", "Проверьте номер по полису или выписке.");
    } else {
      refuse(problemText(answer), "");
    }
  }

  async function showPolicy(enp, title) {
    // Shows the policy under the application; answers the API's answer, or null when none came.
    const applicationId = state.application.id;
    // The policy as read once for this application; another application's answer must not replace it.
    if (state.policy && state.policyFor === applicationId && state.policy.enp === enp) {
      $("policy").hidden = false;
      renderPolicy(state.policy);
      return { status: 200, data: state.policy };
    }
    $("replace-open").disabled = true;
    $("download").disabled = true;
    try {
      const answer = await api("GET", `/policies/${encodeURIComponent(enp)}`);
      if (!state.application || state.application.id !== applicationId) return null;
      if (answer.status === 200) {
        state.policy = answer.data;
        state.policyFor = applicationId;
        $("policy-title").textContent = title;
        $("policy").hidden = false;
        renderPolicy(answer.data);
      }
      return answer;
    } catch (error) {
      failure(error);
      return null;
    }
  }

  function renderPolicy(policy) {
    $("replace-open").disabled = false;
    $("download").disabled = false;
    $("policy-enp").textContent = formatEnp(policy.enp);
    $("policy-status").textContent = POLICY_STATUS[policy.status] || policy.status;
    $("policy-insurer").textContent = policy.insurer ? policy.insurer.name : "";
    $("policy-region").textContent = state.regionNames.get(policy.region_code) || policy.region_code || "";
    $("policy-form").textContent = POLICY_FORM[policy.policy_form] || policy.policy_form || "";
    const validity = `с ${formatDate(policy.valid_from)}`;
    $("policy-validity").textContent = policy.valid_to ? `${validity} по ${formatDate(policy.valid_to)}` : `${validity}, бессрочно`;
    const holder = policy.holder || {};
    // One's own name in full: it is theirs; anyone else's surname stays masked as the API gives it.
    const own = ownHolder(policy);
    const name = own ? fullName(own) : [holder.last_name, holder.first_name].filter(Boolean).join(" ");
    $("policy-holder").textContent = [name, formatDate(holder.birth_date)].filter(Boolean).join(", ");
    $("policy-holder-label").textContent = own ? "Владелец (вы)" : "Владелец";
  }

  async function downloadPolicy() {
    // The document needs the token, so it is fetched here and saved from a blob, not opened as a link.
    const policy = state.policy;
    if (!policy) return;
    const status = $("download-status");
    const button = $("download");
    button.disabled = true;
    status.textContent = "Готовим файл…";
    try {
      const response = await send("GET", `/policies/${encodeURIComponent(policy.enp)}/document`, undefined, {
        Accept: "application/pdf, application/problem+json",
      });
      if (!response.ok) {
        let data = null;
        try {
          data = await response.json();
        } catch {
          data = null;
        }
        status.textContent = problemText({ status: response.status, data });
        return;
      }
      const name = `polis-oms-${policy.enp}.pdf`;
      const url = URL.createObjectURL(await response.blob());
      const link = element("a");
      link.href = url;
      link.download = name;
      link.hidden = true;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      status.textContent = `Файл ${name} сохранён.`;
    } catch (error) {
      status.textContent = "";
      failure(error);
    } finally {
      button.disabled = false;
    }
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

  function openReplacement(reason) {
    const form = $("replacement-form");
    form.reset();
    if (reason) form.elements.namedItem("reason").value = reason;
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
        saveChanges((saved) => {
          saved.enps[answer.data.id] = enp;
          if (body.person) saved.names[enp] = { ...(saved.names[enp] || {}), ...body.person };
        });
        state.insurers.clear();
        state.family = null;
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
    $("list-items").hidden = items.length === 0;
    const list = $("list-items");
    list.replaceChildren();
    for (const item of items) {
      const entry = element("li", "application-item");
      const title = element("h2", "item-title");
      const open = element("button", "link", `${KIND[item.kind] || item.kind} № ${formatApplicationNumber(item.id)}`);
      open.type = "button";
      open.addEventListener("click", () => openApplication(item));
      title.append(open);
      entry.append(title);
      entry.append(element("p", "item-date", `Подано ${formatTime(item.created_at)}`));
      entry.append(element("p", `item-status status-${item.status}`, SHORT_STATUS[item.status] || item.status));
      const enp = element("p", "item-enp");
      if (item.policy) {
        enp.append(document.createTextNode("ЕНП "), element("span", "enp", formatEnp(item.policy.enp)));
      }
      entry.append(enp);
      list.append(entry);
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
    $("enp-finder").addEventListener("submit", findPolicy);
    $("download").addEventListener("click", downloadPolicy);

    const replacement = $("replacement-form");
    replacement.addEventListener("submit", replace);
    replacement.elements.namedItem("reason").addEventListener("change", replacementReasonChanged);
    replacement.querySelector('[data-role="region"]').addEventListener("change", () => fillInsurers(replacement));
    replacement.querySelector('[data-role="insurer"]').addEventListener("change", () => fillPolicyForms(replacement));
    $("replace-open").addEventListener("click", () => openReplacement());
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
