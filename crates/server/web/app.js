// The otp-auth sign-in page. Plain JavaScript, no build step, no third-party code.
//
// Tokens: the access token lives only in this page's memory. The refresh token is kept
// in sessionStorage, so a reload in the same tab stays signed in; it is gone when the
// tab closes and is never shared with other tabs. The page loads scripts only from this
// server (Content-Security-Policy: script-src 'self', no inline code), and every refresh
// token works once: a stolen one that is used after the page rotated it ends the session.
// The device token of the last sign-in is kept in localStorage and sent as
// X-Device-Token on every request: it tells this browser from a stranger's (its own
// rate-limit budgets, and no code at log-in right after a code was entered here). The
// registration token of a registration in progress lives only in memory.
"use strict";

(() => {
  const API = "/auth";
  const configuredLength = Number.parseInt(document.body.dataset.codeLength || "", 10);
  const CODE_LENGTH = configuredLength >= 4 && configuredLength <= 12 ? configuredLength : 6;
  const REFRESH_KEY = "otp-auth.refresh_token";
  const DEVICE_KEY = "otp-auth.device_token";

  function deviceToken() {
    try {
      return localStorage.getItem(DEVICE_KEY);
    } catch {
      return null;
    }
  }
  const OAUTH_KEY = "otp-auth.oauth";

  const $ = (id) => document.getElementById(id);

  /** What the server put in the page: its language, the languages on offer, texts. */
  const PAGE = (() => {
    try {
      return JSON.parse($("page-data")?.textContent || "{}");
    } catch {
      return {};
    }
  })();
  const TEXTS = PAGE.texts || {};
  const views = ["email", "code", "login", "register", "forgot", "reset", "account", "undo"];

  /** What the page knows: kept in memory only (see the note above). */
  const state = {
    accessToken: null,
    email: "",
    codeEmail: "",
    countdowns: new Map(),
  };

  // ---------------------------------------------------------------- messages

  const PROVIDER_NAMES = { google: "Google", github: "GitHub" };

  function providerName(provider) {
    return PROVIDER_NAMES[provider] || provider.charAt(0).toUpperCase() + provider.slice(1);
  }

  function seconds(n) {
    return n === 1 ? "1 second" : `${n} seconds`;
  }

  /** Plain words for a problem document's `code`. */
  function describe(problem, retryAfter) {
    const detail = typeof problem.detail === "string" ? problem.detail : "";
    switch (problem.code) {
      case "validation_failed":
        return `Please check what you entered: ${detail || "a value is not valid"}.`;
      case "password_too_weak": {
        // The detail starts with our own sentence; what follows is the advice.
        const advice = detail.replace(/^[^)]*\)\.\s*/, "");
        return `That password is too easy to guess. ${advice || "Try a passphrase of four or more unrelated words."}`;
      }
      case "invalid_credentials":
        return "The email address or password is incorrect.";
      case "email_not_verified":
        return "This email address isn't confirmed yet. Enter the code we emailed you, or ask for a new one.";
      case "account_disabled":
        return "This account has been disabled. Contact the site's administrator.";
      case "otp_invalid": {
        const left = /(\d+) tr(?:y|ies) left/.exec(detail);
        if (left) {
          const n = Number(left[1]);
          return `That code isn't right. You have ${n === 1 ? "1 try" : `${n} tries`} left.`;
        }
        return "That code isn't right, or it was already used. Ask for a new code.";
      }
      case "otp_expired":
        return "That code has expired. Ask for a new one.";
      case "otp_attempts_exceeded":
        return "Too many wrong codes. Ask for a new code.";
      case "otp_cooldown":
        return retryAfter
          ? `We sent a code a moment ago. You can ask for another in ${seconds(retryAfter)}; the last code still works.`
          : "We sent a code a moment ago; the last code still works.";
      case "rate_limited":
        return retryAfter
          ? `Too many attempts. Please wait ${seconds(retryAfter)} and try again.`
          : "Too many attempts. Please wait a little and try again.";
      case "token_invalid":
        return "Your session has ended. Please sign in again.";
      case "not_found":
        return "That session has already ended.";
      case "unavailable":
        return "The service is temporarily unavailable. Please try again in a moment.";
      case "internal":
        return "Something went wrong on our side. Please try again.";
      case "payload_too_large":
      case "unsupported_media_type":
      case "confirmation_required":
      case "last_sign_in_method":
      case "undo_invalid":
      case "email_unavailable":
        return detail ? `${detail.charAt(0).toUpperCase()}${detail.slice(1)}.` : "That change was refused.";
      case "method_not_allowed":
        return "The request could not be processed. Please reload the page and try again.";
      default:
        return detail ? `Sign-in failed: ${detail}.` : "Something went wrong. Please try again.";
    }
  }

  function showError(message) {
    const box = $("error");
    box.textContent = message;
    box.hidden = !message;
  }

  function showStatus(message) {
    $("status").textContent = message || "";
  }

  function clearMessages() {
    showError("");
    showStatus("");
  }

  // ---------------------------------------------------------------- HTTP

  class ApiError extends Error {
    constructor(status, problem, retryAfter) {
      super(describe(problem, retryAfter));
      this.status = status;
      this.code = problem.code;
      this.retryAfter = retryAfter;
    }
  }

  async function call(method, path, body, { auth = false, retried = false } = {}) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (auth && state.accessToken) headers.Authorization = `Bearer ${state.accessToken}`;
    const device = deviceToken();
    if (device) headers["X-Device-Token"] = device;
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "omit",
        cache: "no-store",
      });
    } catch {
      throw new ApiError(0, { code: "network", detail: "" }, null);
    }
    if (auth && response.status === 401 && !retried && (await refresh())) {
      return call(method, path, body, { auth, retried: true });
    }
    const text = await response.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
    if (!response.ok) {
      const retryAfter = Number.parseInt(response.headers.get("Retry-After") || "", 10);
      const problem = data && typeof data === "object" ? data : { code: "internal" };
      throw new ApiError(response.status, problem, Number.isFinite(retryAfter) ? retryAfter : null);
    }
    return { status: response.status, data };
  }

  function networkMessage(error) {
    return error.status === 0
      ? "We can't reach the server. Check your connection and try again."
      : error.message;
  }

  // ---------------------------------------------------------------- views

  function show(name, { focus = true } = {}) {
    for (const view of views) $(`view-${view}`).hidden = view !== name;
    document.title = `${$(`${name}-title`).textContent} · ${PAGE.product || "OTP Auth"}`;
    if (focus) {
      // The account view's inputs are in its folded forms: its heading takes focus.
      const first = name === "account" ? null : $(`view-${name}`).querySelector("input:not([type=hidden])");
      (first && !first.value ? first : $(`${name}-title`)).focus();
    }
  }

  function go(name) {
    clearMessages();
    for (const input of ["email-address", "login-email", "register-email", "forgot-email"]) {
      if (state.email && !$(input).value) $(input).value = state.email;
    }
    show(name);
  }

  // ---------------------------------------------------------------- busy buttons

  async function busy(form, work) {
    const buttons = form.querySelectorAll("button");
    for (const button of buttons) button.disabled = true;
    form.setAttribute("aria-busy", "true");
    try {
      await work();
    } finally {
      form.removeAttribute("aria-busy");
      for (const button of buttons) {
        if (!state.countdowns.has(button)) button.disabled = false;
      }
    }
  }

  // ---------------------------------------------------------------- resend countdown

  function startCountdown(button, total) {
    stopCountdown(button);
    const label = button.dataset.label || button.textContent;
    button.dataset.label = label;
    let left = Math.max(1, Math.ceil(total));
    const render = () => {
      button.textContent = `${label} (${left} s)`;
      button.setAttribute("aria-label", `${label}, available in ${seconds(left)}`);
    };
    button.disabled = true;
    render();
    const timer = setInterval(() => {
      left -= 1;
      if (left <= 0) {
        stopCountdown(button);
        return;
      }
      render();
    }, 1000);
    state.countdowns.set(button, timer);
  }

  function stopCountdown(button) {
    const timer = state.countdowns.get(button);
    if (timer !== undefined) clearInterval(timer);
    state.countdowns.delete(button);
    if (button.dataset.label) button.textContent = button.dataset.label;
    button.removeAttribute("aria-label");
    button.disabled = false;
  }

  // ---------------------------------------------------------------- code boxes

  /** Six one-digit inputs: typing advances, Backspace goes back, a pasted code fills them all. */
  function codeBoxes(fieldset, label, onComplete) {
    const inputs = [];
    const row = document.createElement("div");
    row.className = "boxes";
    for (let i = 0; i < CODE_LENGTH; i += 1) {
      const input = document.createElement("input");
      input.type = "text";
      input.inputMode = "numeric";
      input.autocomplete = i === 0 ? "one-time-code" : "off";
      input.maxLength = CODE_LENGTH; // one digit is kept; the rest is spread over the next boxes
      input.pattern = "[0-9]*";
      input.className = "digit";
      input.setAttribute("aria-label", `${label}, digit ${i + 1} of ${CODE_LENGTH}`);
      inputs.push(input);
      row.append(input);
    }
    fieldset.append(row);
    fieldset.querySelector("legend").textContent = `${label} (${CODE_LENGTH} digits)`;

    const value = () => inputs.map((input) => input.value).join("");
    const complete = () => value().length === CODE_LENGTH;

    function fill(from, digits) {
      let index = from;
      for (const digit of digits) {
        if (index >= CODE_LENGTH) break;
        inputs[index].value = digit;
        index += 1;
      }
      if (complete()) {
        inputs[CODE_LENGTH - 1].focus();
        onComplete(value());
      } else {
        inputs[Math.min(index, CODE_LENGTH - 1)].focus();
      }
    }

    inputs.forEach((input, index) => {
      input.addEventListener("input", () => {
        const digits = input.value.replace(/\D/g, "");
        input.value = "";
        if (digits) fill(index, digits);
      });
      input.addEventListener("keydown", (event) => {
        if (event.key === "Backspace" && !input.value && index > 0) {
          event.preventDefault();
          inputs[index - 1].value = "";
          inputs[index - 1].focus();
        } else if (event.key === "ArrowLeft" && index > 0) {
          event.preventDefault();
          inputs[index - 1].focus();
        } else if (event.key === "ArrowRight" && index < CODE_LENGTH - 1) {
          event.preventDefault();
          inputs[index + 1].focus();
        }
      });
      input.addEventListener("paste", (event) => {
        const text = (event.clipboardData || window.clipboardData)?.getData("text") || "";
        const digits = text.replace(/\D/g, "");
        event.preventDefault();
        if (!digits) return;
        fill(digits.length >= CODE_LENGTH ? 0 : index, digits);
      });
      input.addEventListener("focus", () => input.select());
    });

    return {
      value,
      complete,
      clear() {
        for (const input of inputs) input.value = "";
      },
      focus() {
        inputs[0].focus();
      },
      /** Fills the boxes without submitting (the person still presses the button). */
      set(digits) {
        inputs.forEach((input, index) => {
          input.value = digits[index] || "";
        });
      },
      setInvalid(invalid) {
        for (const input of inputs) input.setAttribute("aria-invalid", String(invalid));
      },
    };
  }

  // ---------------------------------------------------------------- signing in

  function keepTokens(tokens) {
    state.accessToken = tokens.access_token;
    try {
      if (tokens.device_token) localStorage.setItem(DEVICE_KEY, tokens.device_token);
    } catch {
      // Storage refused: this browser is a new device at each sign-in.
    }
    try {
      sessionStorage.setItem(REFRESH_KEY, tokens.refresh_token);
    } catch {
      // Storage refused (private mode): the session lasts as long as this page.
    }
  }

  function forgetTokens() {
    state.accessToken = null;
    try {
      sessionStorage.removeItem(REFRESH_KEY);
    } catch {
      // nothing stored
    }
  }

  let refreshing = null;

  /** Rotates the refresh token; true when the page holds a fresh access token. */
  function refresh() {
    if (!refreshing) {
      refreshing = (async () => {
        let token = null;
        try {
          token = sessionStorage.getItem(REFRESH_KEY);
        } catch {
          token = null;
        }
        if (!token) return false;
        try {
          const { data } = await call("POST", `${API}/refresh`, { refresh_token: token });
          keepTokens(data);
          return true;
        } catch {
          forgetTokens();
          return false;
        }
      })().finally(() => {
        refreshing = null;
      });
    }
    return refreshing;
  }

  async function signedIn(tokens) {
    keepTokens(tokens);
    await showAccount();
    showStatus(""); // the view's heading, which takes focus, says it
  }

  // ---------------------------------------------------------------- account view

  function describeAgent(agent) {
    if (!agent) return "Unknown device";
    const browser = /Edg\//.test(agent) ? "Edge" : /Firefox\//.test(agent) ? "Firefox"
      : /Chrom(e|ium)\//.test(agent) ? "Chrome" : /Safari\//.test(agent) ? "Safari" : null;
    const system = /Android/.test(agent) ? "Android" : /iPhone|iPad/.test(agent) ? "iOS"
      : /Windows/.test(agent) ? "Windows" : /Mac OS X/.test(agent) ? "macOS"
      : /Linux/.test(agent) ? "Linux" : null;
    if (browser && system) return `${browser} on ${system}`;
    return browser || system || agent.slice(0, 60);
  }

  function when(iso) {
    const date = new Date(iso);
    return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
  }

  async function showAccount({ focus = true } = {}) {
    const [{ data: me }, { data: list }] = await Promise.all([
      call("GET", `${API}/me`, undefined, { auth: true }),
      call("GET", `${API}/sessions`, undefined, { auth: true }),
    ]);
    state.email = me.email;
    $("me-email").textContent = me.email;
    $("me-verified").textContent = me.email_verified ? "Yes" : "Not yet";
    $("me-password").textContent = me.has_password ? "Set" : "None (you sign in with email codes)";
    $("me-created").textContent = when(me.created_at);
    showLanguages(me.locale);
    renderSessions(list.sessions);
    // An account with a password confirms changes with it; one without, with a code.
    state.hasPassword = me.has_password;
    $("cp-current-row").hidden = !me.has_password;
    $("cp-code-row").hidden = me.has_password;
    $("ce-password-row").hidden = !me.has_password;
    $("ce-code-row").hidden = me.has_password;
    $("da-password-row").hidden = !me.has_password;
    $("da-code-row").hidden = me.has_password;
    const { data: linked } = await call("GET", `${API}/identities`, undefined, { auth: true });
    renderIdentities(linked.identities);
    show("account", { focus });
  }

  function renderIdentities(identities) {
    const list = $("identities");
    list.replaceChildren();
    $("identities-none").hidden = identities.length > 0;
    for (const identity of identities) {
      const item = document.createElement("li");
      item.className = "session";
      const text = document.createElement("div");
      const name = document.createElement("strong");
      name.textContent = providerName(identity.provider);
      const meta = document.createElement("small");
      meta.textContent = `${identity.email} · linked ${when(identity.linked_at)}`;
      text.append(name, meta);
      const button = document.createElement("button");
      button.type = "button";
      button.className = "secondary";
      button.textContent = "Unlink";
      button.setAttribute("aria-label", `Unlink ${name.textContent}`);
      button.addEventListener("click", () => accountAction(button, async () => {
        await call("DELETE", `${API}/identities/${encodeURIComponent(identity.provider)}`, undefined, { auth: true });
        await showAccount({ focus: false });
        showStatus(`${name.textContent} is unlinked.`);
      }));
      item.append(text, button);
      list.append(item);
    }
  }

  /** Runs an account change from `control` (a button or form), showing its errors. */
  async function accountAction(control, work) {
    clearMessages();
    const target = control.tagName === "FORM" ? control : control.parentElement;
    await busy(target, async () => {
      try {
        await work();
      } catch (error) {
        if (error.code === "token_invalid") return sessionEnded();
        fail(error);
      }
    });
  }

  /** `{password}` or `{code}`, as the account confirms changes. */
  function confirmation(passwordId, codeId, passwordKey = "password") {
    return state.hasPassword ? { [passwordKey]: $(passwordId).value } : { code: $(codeId).value.trim() };
  }
  // The language of mail and this page, kept on the account (PUT me/locale).
  function showLanguages(chosen) {
    const select = $("me-language");
    select.replaceChildren();
    const automatic = new Option("Auto (browser)", "");
    select.append(automatic);
    for (const language of PAGE.languages || []) select.append(new Option(language, language));
    select.value = chosen || "";
    const params = new URLSearchParams(location.search);
    // Show the page in the account's language, once (the server serves ?lang=).
    if (chosen && !params.has("lang") && chosen !== PAGE.lang) {
      params.set("lang", chosen);
      location.replace(`${location.pathname}?${params}`);
    }
  }

  $("me-language").addEventListener("change", async (event) => {
    const locale = event.currentTarget.value || null;
    clearMessages();
    try {
      await call("PUT", `${API}/me/locale`, { locale }, { auth: true });
      const params = new URLSearchParams(location.search);
      if (locale) params.set("lang", locale);
      else params.delete("lang");
      location.replace(`${location.pathname}${params.size ? `?${params}` : ""}`);
    } catch (error) {
      fail(error);
    }
  });

  function renderSessions(sessions) {
    const list = $("sessions");
    list.replaceChildren();
    for (const session of sessions) {
      const item = document.createElement("li");
      item.className = "session";
      const text = document.createElement("div");
      const name = document.createElement("strong");
      name.textContent = describeAgent(session.user_agent);
      text.append(name);
      if (session.current) {
        const badge = document.createElement("span");
        badge.className = "badge";
        badge.textContent = "This device";
        text.append(" ", badge);
      }
      const meta = document.createElement("small");
      const where = session.ip ? ` from ${session.ip}` : "";
      meta.textContent = `Signed in ${when(session.created_at)}${where} · last active ${when(session.last_used_at)}`;
      text.append(meta);
      const button = document.createElement("button");
      button.type = "button";
      button.className = "secondary";
      button.textContent = "Sign out";
      button.setAttribute(
        "aria-label",
        session.current ? "Sign out this device" : `Sign out ${name.textContent}, signed in ${when(session.created_at)}`,
      );
      button.addEventListener("click", () => endSession(session, button));
      item.append(text, button);
      list.append(item);
    }
  }

  async function endSession(session, button) {
    clearMessages();
    button.disabled = true;
    try {
      await call("DELETE", `${API}/sessions/${encodeURIComponent(session.id)}`, undefined, { auth: true });
      if (session.current) {
        forgetTokens();
        go("email");
        showStatus("You're signed out.");
        return;
      }
      await showAccount({ focus: false });
      showStatus("That session is signed out.");
      $("sessions-title").setAttribute("tabindex", "-1");
      $("sessions-title").focus();
    } catch (error) {
      button.disabled = false;
      if (error.code === "token_invalid") return sessionEnded();
      showError(networkMessage(error));
    }
  }

  function sessionEnded() {
    forgetTokens();
    go("email");
    showError("Your session has ended. Please sign in again.");
  }

  // ---------------------------------------------------------------- flows

  /** What the code view is confirming, and how to ask for a new code. */
  let codePurpose = { resend: "resend-otp" };

  function openCodeView(
    email,
    { resend = "resend-otp", resendAfter = null, message = "", registrationToken = null } = {},
  ) {
    state.codeEmail = email;
    state.email = email;
    codePurpose = { resend, registrationToken };
    $("code-email").textContent = email;
    code.clear();
    code.setInvalid(false);
    show("code", { focus: false });
    code.focus();
    showStatus(message || `We sent a code to ${email}. It works for a few minutes.`);
    if (resendAfter) startCountdown($("code-resend"), resendAfter);
  }

  function emailValue(input) {
    return $(input).value.trim();
  }

  function requireFields(pairs) {
    for (const [id, message] of pairs) {
      const input = $(id);
      if (!input.value.trim()) {
        input.setAttribute("aria-invalid", "true");
        showError(message);
        input.focus();
        return false;
      }
      input.removeAttribute("aria-invalid");
    }
    return true;
  }

  function fail(error, { retryButton } = {}) {
    if (error.code === "otp_cooldown" && error.retryAfter && retryButton) {
      startCountdown(retryButton, error.retryAfter);
    }
    showStatus("");
    showError(networkMessage(error));
  }

  // Passwordless: email, then the code.
  $("email-form").addEventListener("submit", (event) => {
    event.preventDefault();
    clearMessages();
    if (!requireFields([["email-address", "Enter your email address."]])) return;
    const email = emailValue("email-address");
    busy(event.currentTarget, async () => {
      try {
        await call("POST", `${API}/send-otp`, { email });
        stopCountdown($("code-resend"));
        openCodeView(email);
      } catch (error) {
        if (error.code === "otp_cooldown") {
          openCodeView(email, { resendAfter: error.retryAfter, message: error.message });
          return;
        }
        fail(error);
        $("email-address").focus();
      }
    });
  });

  const code = codeBoxes($("code-boxes"), "Code", () => $("code-form").requestSubmit());

  $("code-form").addEventListener("submit", (event) => {
    event.preventDefault();
    clearMessages();
    if (!code.complete()) {
      code.setInvalid(true);
      showError(`Enter all ${CODE_LENGTH} digits of the code.`);
      code.focus();
      return;
    }
    const form = event.currentTarget;
    if (form.getAttribute("aria-busy")) return;
    busy(form, async () => {
      try {
        showStatus("Checking the code…");
        const body = { email: state.codeEmail, code: code.value() };
        if (codePurpose.registrationToken) body.registration_token = codePurpose.registrationToken;
        const { data } = await call("POST", `${API}/verify-otp`, body);
        stopCountdown($("code-resend"));
        await signedIn(data);
      } catch (error) {
        code.clear();
        code.setInvalid(true);
        fail(error);
        code.focus();
      }
    });
  });

  $("code-resend").addEventListener("click", async (event) => {
    const button = event.currentTarget;
    clearMessages();
    button.disabled = true;
    try {
      const body = { email: state.codeEmail };
      if (codePurpose.registrationToken) body.registration_token = codePurpose.registrationToken;
      await call("POST", `${API}/${codePurpose.resend}`, body);
      code.clear();
      code.setInvalid(false);
      showStatus(`We sent a new code to ${state.codeEmail}. Earlier codes no longer work.`);
      button.disabled = false;
      code.focus();
    } catch (error) {
      button.disabled = false;
      fail(error, { retryButton: button });
    }
  });

  // Password log-in, which may ask for a code.
  $("login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    clearMessages();
    if (!requireFields([["login-email", "Enter your email address."], ["login-password", "Enter your password."]])) return;
    const email = emailValue("login-email");
    const password = $("login-password").value;
    busy(event.currentTarget, async () => {
      try {
        const { status, data } = await call("POST", `${API}/login`, { email, password });
        $("login-password").value = "";
        if (status === 202 && data && data.otp_required) {
          stopCountdown($("code-resend"));
          openCodeView(email, {
            resendAfter: data.resend_after || null,
            message: "Your password is right. To finish, enter the code we emailed you.",
          });
          return;
        }
        await signedIn(data);
      } catch (error) {
        if (error.code === "email_not_verified") {
          $("login-password").value = "";
          openCodeView(email, { message: "" });
          showError(error.message);
          return;
        }
        fail(error);
        $(error.code === "invalid_credentials" ? "login-password" : "login-email").focus();
      }
    });
  });

  // Registration, confirmed by a code.
  $("register-form").addEventListener("submit", (event) => {
    event.preventDefault();
    clearMessages();
    if (!requireFields([["register-email", "Enter your email address."], ["register-password", "Choose a password."]])) return;
    const email = emailValue("register-email");
    const password = $("register-password").value;
    if ([...password].length < 8) {
      $("register-password").setAttribute("aria-invalid", "true");
      showError("Your password needs at least 8 characters.");
      $("register-password").focus();
      return;
    }
    busy(event.currentTarget, async () => {
      try {
        const { data } = await call("POST", `${API}/register`, { email, password });
        $("register-password").value = "";
        stopCountdown($("code-resend"));
        openCodeView(email, {
          message: `To confirm your address, enter the code we sent to ${email}.`,
          registrationToken: data && data.registration_token,
        });
      } catch (error) {
        fail(error);
      }
    });
  });

  // Forgot / reset password.
  const reset = codeBoxes($("reset-boxes"), "Reset code", () => $("reset-password").focus());

  async function sendResetCode(email) {
    await call("POST", `${API}/password/forgot`, { email });
  }

  $("forgot-form").addEventListener("submit", (event) => {
    event.preventDefault();
    clearMessages();
    if (!requireFields([["forgot-email", "Enter your email address."]])) return;
    const email = emailValue("forgot-email");
    busy(event.currentTarget, async () => {
      const open = (message, wait) => {
        state.email = email;
        $("reset-email").textContent = email;
        reset.clear();
        show("reset", { focus: false });
        reset.focus();
        showStatus(message);
        if (wait) startCountdown($("reset-resend"), wait);
      };
      try {
        await sendResetCode(email);
        stopCountdown($("reset-resend"));
        open(`If ${email} has an account, we sent it a reset code.`);
      } catch (error) {
        if (error.code === "otp_cooldown") {
          open(error.message, error.retryAfter);
          return;
        }
        fail(error);
      }
    });
  });

  $("reset-form").addEventListener("submit", (event) => {
    event.preventDefault();
    clearMessages();
    if (!reset.complete()) {
      reset.setInvalid(true);
      showError(`Enter all ${CODE_LENGTH} digits of the reset code.`);
      reset.focus();
      return;
    }
    if ([...$("reset-password").value].length < 8) {
      $("reset-password").setAttribute("aria-invalid", "true");
      showError("Your new password needs at least 8 characters.");
      $("reset-password").focus();
      return;
    }
    const email = $("reset-email").textContent;
    busy(event.currentTarget, async () => {
      try {
        await call("POST", `${API}/password/reset`, {
          email,
          code: reset.value(),
          new_password: $("reset-password").value,
        });
        $("reset-password").value = "";
        forgetTokens();
        $("login-email").value = email;
        go("login");
        $("login-password").focus();
        showStatus("Your password is changed and every device was signed out. Log in with the new password.");
      } catch (error) {
        if (String(error.code).startsWith("otp_")) {
          reset.clear();
          reset.setInvalid(true);
          reset.focus();
        }
        fail(error);
      }
    });
  });

  $("reset-resend").addEventListener("click", async (event) => {
    const button = event.currentTarget;
    clearMessages();
    button.disabled = true;
    try {
      await sendResetCode($("reset-email").textContent);
      reset.clear();
      showStatus("We sent a new reset code. Earlier codes no longer work.");
      button.disabled = false;
      reset.focus();
    } catch (error) {
      button.disabled = false;
      fail(error, { retryButton: button });
    }
  });

  // Account self-service (see docs/account.md).
  for (const button of document.querySelectorAll("button[data-action]")) {
    button.addEventListener("click", () => accountAction(button, async () => {
      await call("POST", `${API}/me/code`, { action: button.dataset.action }, { auth: true });
      showStatus(`We sent a code to ${state.email}.`);
    }));
  }

  $("revoke-others").addEventListener("click", (event) => {
    const button = event.currentTarget;
    accountAction(button, async () => {
      const { data } = await call("POST", `${API}/sessions/revoke-others`, undefined, { auth: true });
      await showAccount({ focus: false });
      showStatus(data.sessions_ended === 1 ? "1 other session is signed out." : `${data.sessions_ended} other sessions are signed out.`);
    });
  });

  $("change-password-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    accountAction(form, async () => {
      const body = { ...confirmation("cp-current", "cp-code", "current_password"), new_password: $("cp-new").value };
      await call("POST", `${API}/password/change`, body, { auth: true });
      form.reset();
      $("change-password-box").open = false;
      await showAccount({ focus: false });
      showStatus("Your password is changed. Every other session is signed out.");
    });
  });

  $("change-email-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    accountAction(form, async () => {
      const body = { new_email: emailValue("ce-new"), ...confirmation("ce-password", "ce-code") };
      await call("POST", `${API}/email/change`, body, { auth: true });
      form.hidden = true;
      $("confirm-email-form").hidden = false;
      $("ce-confirm-code").focus();
      showStatus(`If ${body.new_email} can receive mail, we sent it a code.`);
    });
  });

  $("confirm-email-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    accountAction(form, async () => {
      const body = { new_email: emailValue("ce-new"), code: $("ce-confirm-code").value.trim() };
      await call("POST", `${API}/email/change/confirm`, body, { auth: true });
      form.reset();
      form.hidden = true;
      $("change-email-form").reset();
      $("change-email-form").hidden = false;
      $("change-email-box").open = false;
      await showAccount({ focus: false });
      showStatus(`Your email address is now ${state.email}.`);
    });
  });

  $("delete-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    accountAction(form, async () => {
      await call("DELETE", `${API}/me`, confirmation("da-password", "da-code"), { auth: true });
      forgetTokens();
      go("email");
      showStatus("Your account is deleted.");
    });
  });

  $("export").addEventListener("click", (event) => {
    const button = event.currentTarget;
    accountAction(button, async () => {
      const { data } = await call("GET", `${API}/me/export`, undefined, { auth: true });
      const link = document.createElement("a");
      link.href = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }));
      link.download = "account-export.json";
      link.click();
      URL.revokeObjectURL(link.href);
    });
  });

  $("undo-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const token = state.undoToken;
    accountAction(form, async () => {
      await call("POST", `${API}/email/undo`, { token });
      state.undoToken = null;
      forgetTokens();
      go("email");
      showStatus("The change is undone and every device signed out. Sign in with a code to continue.");
    });
  });

  // Sign out.
  $("logout").addEventListener("click", async (event) => {
    const button = event.currentTarget;
    clearMessages();
    button.disabled = true;
    try {
      await call("POST", `${API}/logout`, undefined, { auth: true });
    } catch (error) {
      if (error.code !== "token_invalid") {
        button.disabled = false;
        showError(networkMessage(error));
        return;
      }
    }
    button.disabled = false;
    forgetTokens();
    go("email");
    showStatus("You're signed out.");
  });

  // ---------------------------------------------------------------- show / hide password

  for (const toggle of document.querySelectorAll("button.reveal")) {
    const input = $(toggle.getAttribute("aria-controls"));
    toggle.setAttribute("aria-label", "Show password");
    toggle.addEventListener("click", () => {
      const reveal = input.type === "password";
      input.type = reveal ? "text" : "password";
      toggle.textContent = reveal ? "Hide" : "Show";
      toggle.setAttribute("aria-pressed", String(reveal));
      toggle.setAttribute("aria-label", reveal ? "Hide password" : "Show password");
      input.focus();
    });
  }

  for (const link of document.querySelectorAll("[data-go]")) {
    link.addEventListener("click", () => go(link.dataset.go));
  }

  // ---------------------------------------------------------------- OAuth

  function safeNavigation(url) {
    try {
      const parsed = new URL(url);
      return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
    } catch {
      return null;
    }
  }

  async function loadProviders() {
    let providers = [];
    try {
      const response = await fetch(`${API}/oauth/providers`, { headers: { Accept: "application/json" } });
      if (!response.ok) return;
      const data = await response.json();
      providers = Array.isArray(data.providers) ? data.providers.filter((p) => /^[a-z0-9_-]{1,32}$/.test(p)) : [];
    } catch {
      return;
    }
    const container = $("oauth-buttons");
    container.replaceChildren();
    for (const provider of providers) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = `secondary provider provider-${provider}`;
      button.textContent = `Sign in with ${providerName(provider)}`;
      button.addEventListener("click", () => startOAuth(provider, button));
      container.append(button);
    }
    $("oauth").hidden = providers.length === 0;
  }

  async function startOAuth(provider, button) {
    clearMessages();
    button.disabled = true;
    try {
      const redirect = `${location.origin}/oauth/callback`;
      const { data } = await call(
        "GET",
        `${API}/oauth/${encodeURIComponent(provider)}/start?redirect_uri=${encodeURIComponent(redirect)}`,
      );
      const target = safeNavigation(data.auth_url);
      if (!target) throw new ApiError(502, { code: "internal" }, null);
      // The binding proves at the callback that this tab started the sign-in; it never
      // leaves the tab except in that request.
      sessionStorage.setItem(
        OAUTH_KEY,
        JSON.stringify({ provider: data.provider || provider, state: data.state, binding: data.client_binding }),
      );
      showStatus(`Taking you to ${providerName(provider)}…`);
      location.assign(target);
    } catch (error) {
      button.disabled = false;
      showError(`Sign-in with ${providerName(provider)} could not start. ${networkMessage(error)}`);
    }
  }

  /** Back from the provider at /oauth/callback?code=..&state=.. */
  async function finishOAuth(params) {
    let pending = null;
    try {
      pending = JSON.parse(sessionStorage.getItem(OAUTH_KEY) || "null");
      sessionStorage.removeItem(OAUTH_KEY);
    } catch {
      pending = null;
    }
    // The code and state are single-use: take them out of the address bar and history.
    history.replaceState(null, "", "/");
    const name = pending ? providerName(pending.provider) : "the provider";
    if (params.get("error")) {
      const denied = params.get("error") === "access_denied";
      go("email");
      showError(denied ? `Sign-in with ${name} was cancelled.` : `Sign-in with ${name} failed. Please try again.`);
      return;
    }
    if (!pending || !pending.provider || pending.state !== params.get("state")) {
      go("email");
      showError("That sign-in link is no longer valid. Please start again.");
      return;
    }
    show("email", { focus: false });
    showStatus(`Finishing sign-in with ${name}…`);
    try {
      const { data } = await call("POST", `${API}/oauth/${encodeURIComponent(pending.provider)}/callback`, {
        code: params.get("code"),
        state: params.get("state"),
        redirect_uri: `${location.origin}/oauth/callback`,
        client_binding: pending.binding,
      });
      await signedIn(data);
      showStatus(`You're signed in with ${name}.`);
    } catch (error) {
      go("email");
      showError(`Sign-in with ${name} failed. ${networkMessage(error)}`);
    }
  }

  // ---------------------------------------------------------------- start

  // The sign-in link of a code mail: `#email=…&code=…`. The fragment never reaches a
  // server; opening the link only fills the code in. Signing in takes a press of the
  // button (a POST), so link scanners and mail previews cannot spend the code.
  function openSignInLink() {
    const link = new URLSearchParams(location.hash.slice(1));
    const email = link.get("email");
    const digits = (link.get("code") || "").replace(/\D/g, "");
    if (!email || digits.length !== CODE_LENGTH) return false;
    // Out of the address bar and the history, so the code is not left behind.
    history.replaceState(null, "", `${location.pathname}${location.search}`);
    openCodeView(email, { message: TEXTS.link_ready || "Your code is filled in. Press Continue to sign in." });
    code.set(digits);
    $("code-submit").focus();
    return true;
  }

  async function start() {
    loadProviders();
    if (location.hash.startsWith("#undo-email=")) {
      // The token stays in memory only; the fragment never reached the server.
      state.undoToken = decodeURIComponent(location.hash.slice("#undo-email=".length));
      history.replaceState(null, "", location.pathname);
      show("undo", { focus: false });
      return;
    }
    if (openSignInLink()) return;
    const params = new URLSearchParams(location.search);
    if (location.pathname === "/oauth/callback" && (params.has("code") || params.has("error"))) {
      await finishOAuth(params);
      return;
    }
    if (await refresh()) {
      try {
        await showAccount();
        return;
      } catch {
        forgetTokens();
      }
    }
    show("email", { focus: false });
  }

  start();
})();
