// Live alert console. The server is the source of truth: this page remembers the last
// change it showed (the deployment's alert counter), says so on every (re)connect, and
// shows each alert (seq) as one card. One alert is one sighting: when the subject is seen
// again the server sends the alert under "updated", and its card is updated in place.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("console-config").textContent);
  const list = document.getElementById("alerts");
  const empty = document.getElementById("empty");
  const conn = document.getElementById("conn");
  const soundBox = document.getElementById("sound");
  const csrf = document.querySelector("input[name=csrfmiddlewaretoken]").value;

  const cards = new Map(); // seq -> {el, alert}
  const state = { lastSeq: 0, lastDecision: 0, lastVerification: 0, socket: null, retries: 0, downSince: null, shownAt: {}, via: {}, ticks: 0 };
  window.lfrConsole = state; // for browser tests and the curious

  // --- connection -------------------------------------------------------------------
  // The badge says "Live" only while the socket is open, the server answers it, and the
  // officer's last request went through: a socket can stay open while the server behind
  // it cannot read or write its database.
  const RETRY_MAX_MS = 10000;
  const SILENCE_MS = 20000; // the server ticks every 5 s; this long without word = dead
  const TROUBLE_AFTER = 3; // failed socket attempts in a row (browser online) = server trouble
  let silenceTimer = null;
  let stopped = false;
  let opened = false; // the current socket is open
  let answered = false; // ... and the server has spoken on it since
  const trouble = { socket: false, attempts: 0, requests: 0 };
  state.trouble = trouble;

  function setConn(kind, text) {
    conn.dataset.state = kind;
    conn.textContent = text;
  }

  function refreshConn() {
    if (stopped) return;
    if (!opened) { showDown(); return; }
    if (!answered) setConn("connecting", "Connecting…");
    else if (trouble.requests) setConn("trouble", "Server trouble: a decision is not saved yet");
    else if (trouble.socket) setConn("trouble", "Server trouble: alerts may be delayed");
    else if (config.state === "live") setConn("live", "Live");
    else setConn("live", config.state === "completed" ? "Connected · deployment ended" : "Connected · not live yet");
  }

  function requestFailed() { trouble.requests += 1; refreshConn(); }
  function requestWorked() { trouble.requests = 0; refreshConn(); }

  // One clock: every time in the force's zone (config.time_zone), whatever the browser's
  // own zone is; the page names the zone once (in its footer).
  const clock = new Intl.DateTimeFormat("en-GB", {
    timeZone: config.time_zone, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
  });
  function fmtTime(iso) {
    return clock.format(new Date(iso));
  }

  function showDown() {
    if (stopped) return;
    if (state.downSince === null) state.downSince = new Date();
    const since = fmtTime(state.downSince.toISOString());
    if (navigator.onLine && (trouble.attempts >= TROUBLE_AFTER || trouble.requests)) {
      setConn("trouble", "Server trouble: reconnecting (offline since " + since + ")");
    } else if (!navigator.onLine || Date.now() - state.downSince.getTime() > 15000) {
      setConn("offline", "Offline since " + since);
    } else {
      setConn("reconnecting", "Reconnecting… (offline since " + since + ")");
    }
  }

  function armSilence() {
    clearTimeout(silenceTimer);
    silenceTimer = setTimeout(function () {
      if (state.socket) state.socket.close();
    }, SILENCE_MS);
  }

  function connect() {
    if (stopped) return;
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + location.host + config.socket_path);
    state.socket = socket;
    answered = false;
    socket.onopen = function () {
      state.retries = 0;
      state.downSince = null;
      opened = true;
      refreshConn();
      socket.send(JSON.stringify({
        type: "resume", after_seq: state.lastSeq, after_decision: state.lastDecision,
        after_verification: state.lastVerification,
      }));
      armSilence();
    };
    socket.onmessage = function (event) {
      armSilence();
      const msg = JSON.parse(event.data);
      if (msg.type === "tick" || msg.via === "tick") state.ticks += 1; // for tests: the server's beat
      answered = true;
      trouble.attempts = 0;
      // "trouble": the server could not read its database for this socket just now.
      trouble.socket = msg.type === "trouble";
      refreshConn();
      if (msg.type === "alerts") {
        msg.alerts.forEach(function (a) {
          if (!cards.has(a.seq)) state.via[a.seq] = msg.via;
          show(a, true);
        });
        (msg.updated || []).forEach(function (a) { show(a, true); });
        msg.decided.forEach(function (a) { show(a, false); });
      }
    };
    socket.onclose = function (event) {
      if (state.socket !== socket) return;
      clearTimeout(silenceTimer);
      state.socket = null;
      opened = false;
      // Closed before the server said anything, or by a server error: a failed attempt.
      if (!answered || event.code === 1011) trouble.attempts += 1;
      if (event.code === 4401 || event.code === 4403) {
        stopped = true;
        setConn("ended", event.code === 4401 ? "Signed out — log in again" : "You may no longer watch this deployment");
        return;
      }
      showDown();
      const delay = Math.min(RETRY_MAX_MS, 500 * Math.pow(2, state.retries++));
      setTimeout(connect, delay);
    };
  }
  window.addEventListener("offline", showDown);
  window.addEventListener("online", function () { if (!state.socket) connect(); });
  setInterval(function () { if (!state.socket && !stopped) showDown(); }, 1000);

  // --- cues: sound and desktop notifications, offered on the first visit, remembered ------
  let audio = null;
  const prefs = {
    get sound() { return localStorage.getItem("lfr.console.sound") === "on"; },
    set sound(on) { localStorage.setItem("lfr.console.sound", on ? "on" : "off"); },
  };
  function startAudio() {
    // Browsers allow sound only after a gesture: the click that turned it on is it.
    if (!audio) audio = new (window.AudioContext || window.webkitAudioContext)();
  }
  soundBox.checked = prefs.sound;
  soundBox.addEventListener("change", function () {
    prefs.sound = soundBox.checked;
    if (soundBox.checked) startAudio();
  });
  // A remembered "on" needs one gesture on this page before the browser lets it play.
  document.addEventListener("pointerdown", function () { if (prefs.sound) startAudio(); }, { once: true });
  const offer = document.getElementById("cue-offer");
  if (offer && localStorage.getItem("lfr.console.asked") === null) {
    offer.hidden = false;
    offer.querySelector("[data-cue=on]").addEventListener("click", function () {
      localStorage.setItem("lfr.console.asked", "yes");
      prefs.sound = true; soundBox.checked = true; startAudio();
      if ("Notification" in window && Notification.permission === "default") Notification.requestPermission();
      offer.hidden = true;
    });
    offer.querySelector("[data-cue=off]").addEventListener("click", function () {
      localStorage.setItem("lfr.console.asked", "no");
      offer.hidden = true;
    });
  }
  function beep() {
    if (!soundBox.checked || !audio) return;
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = "sine";
    osc.frequency.setValueAtTime(880, audio.currentTime);
    osc.frequency.setValueAtTime(660, audio.currentTime + 0.12);
    gain.gain.setValueAtTime(0.2, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.3);
    osc.connect(gain).connect(audio.destination);
    osc.start();
    osc.stop(audio.currentTime + 0.3);
  }
  function notify(alert) {
    if (!("Notification" in window) || Notification.permission !== "granted" || !document.hidden) return;
    const who = alert.subject ? alert.subject.display_name : alert.subject_reference;
    const n = new Notification("Alert " + alert.seq + " · " + config.reference, {
      body: (alert.is_test ? "TEST — do not engage: " : "") + who + " on " + alert.camera + " at " + fmtTime(alert.frame_at), tag: "lfr-alert-" + alert.seq,
    });
    n.onclick = function () { window.focus(); focusCard(alert.seq); n.close(); };
  }
  let unseen = 0;
  const baseTitle = document.title;
  function flagTitle() {
    if (document.hidden) { unseen += 1; document.title = "(" + unseen + ") " + baseTitle; }
  }
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) { unseen = 0; document.title = baseTitle; }
  });

  // --- cards --------------------------------------------------------------------------
  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(function ([k, v]) {
      if (k === "text") node.textContent = v;
      else if (k === "class") node.className = v;
      else node.setAttribute(k, v);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }

  function picture(url, label) {
    const missing = function () { return el("div", { class: "noimg", text: label + " image not held" }); };
    if (!url) return missing();
    const img = el("img", { src: url, alt: label, loading: "lazy", width: "160", height: "160" });
    const figure = el("figure", {}, [img, el("figcaption", { text: label })]);
    img.addEventListener("error", function () { figure.replaceWith(missing()); });
    return figure;
  }

  function decisionText(d) {
    return (d.is_true_match ? "True match" : "False match") + ", " +
      (d.confirmed ? "confirmed" : "unconfirmed") + " — " + d.outcome_label +
      " (" + d.by + ", " + fmtTime(d.at) + (d.is_correction ? ", correction" : "") + ")";
  }

  function radios(name, options) {
    return el("fieldset", {}, [el("legend", { text: options.legend })].concat(
      options.values.map(function ([value, text]) {
        return el("label", { class: "choice" }, [
          el("input", { type: "radio", name: name, value: value, required: "required" }),
          document.createTextNode(" " + text),
        ]);
      })));
  }

  // Two-person deployments: the verifications settle the match. Verified (both true):
  // a true match, any outcome. Both false or disagreed: a false match, no action.
  function decisionChoices(alert) {
    const v = alert.verification;
    if (!v) return { match: null, outcomes: config.outcomes };
    const verified = v.state === "verified";
    return {
      match: verified ? "true" : "false",
      outcomes: verified ? config.outcomes : config.outcomes.filter(function ([value]) { return value === "no_action"; }),
    };
  }

  function form(alert) {
    const choices = decisionChoices(alert);
    const match = choices.match === null
      ? radios("is_true_match", { legend: "Match", values: [["true", "True match"], ["false", "False match"]] })
      : el("input", { type: "hidden", name: "is_true_match", value: choices.match });
    const f = el("form", { class: "decide", "data-testid": "decide", method: "post", action: alert.adjudicate_url }, [
      match,
      radios("confirmed", { legend: "Identity", values: [["true", "Confirmed"], ["false", "Unconfirmed"]] }),
      el("label", { text: "Outcome" }, [
        el("select", { name: "outcome", required: "required" }, [el("option", { value: "", text: "—" })].concat(
          choices.outcomes.map(function ([v, t]) { return el("option", { value: v, text: t }); }))),
      ]),
      el("label", { text: "Perceived group (optional, for equality monitoring)" }, [
        el("select", { name: "perceived_group" }, [el("option", { value: "", text: "—" })].concat(
          config.groups.map(function (g) { return el("option", { value: g, text: g }); }))),
      ]),
      el("label", { text: "Note (optional)" }, [el("textarea", { name: "note", rows: "2", maxlength: "2000" })]),
      el("p", { class: "save-status", "data-testid": "save-status", role: "status", hidden: "hidden" }),
      el("button", { type: "submit", text: alert.decision ? "Record correction" : (choices.match === "false" ? "Record: not verified, no action" : "Record decision") }),
    ]);
    f.addEventListener("submit", function (event) {
      event.preventDefault();
      if (f.dataset.state === "saving" || f.dataset.state === "retrying") return;
      const body = new FormData(f);
      if (alert.decision) body.append("corrects", alert.decision.id);
      // The decision being retried is the one on screen: no edits until the server answers.
      f.querySelectorAll("input, select, textarea, button").forEach(function (c) { c.disabled = true; });
      decide(f, alert, body, 0);
    });
    return f;
  }

  // One officer's own check (two-person deployments): true or false match, nothing else.
  // The other officer's decision is not on this card until this one is recorded.
  function verifyForm(alert) {
    const f = el("form", { class: "decide verify", "data-testid": "verify", method: "post", action: alert.verify_url }, [
      radios("is_true_match", { legend: "Your own verification", values: [["true", "True match"], ["false", "False match"]] }),
      el("label", { text: "Note (optional)" }, [el("textarea", { name: "note", rows: "2", maxlength: "2000" })]),
      el("p", { class: "save-status", "data-testid": "save-status", role: "status", hidden: "hidden" }),
      el("button", { type: "submit", text: "Record my verification" }),
    ]);
    f.addEventListener("submit", function (event) {
      event.preventDefault();
      if (f.dataset.state === "saving" || f.dataset.state === "retrying") return;
      const body = new FormData(f);
      f.querySelectorAll("input, select, textarea, button").forEach(function (c) { c.disabled = true; });
      decide(f, alert, body, 0, alert.verify_url);
    });
    return f;
  }

  function verificationNodes(alert) {
    const v = alert.verification;
    const nodes = [el("p", { class: "verification " + v.state, "data-testid": "verification", "data-state": v.state, text: v.label })];
    if (v.verifications.length) {
      nodes.push(el("ul", { class: "verifiers", "data-testid": "verifiers" }, v.verifications.map(function (r) {
        return el("li", { text: r.by + ": " + (r.is_true_match ? "true match" : "false match") + " at " + fmtTime(r.at) + (r.note ? " — " + r.note : "") });
      })));
    }
    return nodes;
  }

  // Whether the card waits for this officer's own verification.
  function toVerify(alert) {
    const v = alert.verification;
    return !!v && !v.mine && (v.state === "awaiting_first" || v.state === "awaiting_second");
  }
  function verificationComplete(alert) {
    const v = alert.verification;
    return !v || v.state === "verified" || v.state === "false_match" || v.state === "disagreed";
  }
  function verificationCursor(alert) {
    return alert.verification ? alert.verification.cursor : 0;
  }

  // A decision is shown as recorded only once the server says so. A timeout, a 5xx or a
  // lost connection is said on the card and retried with the same content; the server
  // recognises a retry of a decision it saved already ("retry": it never saves twice).
  const SAVE_TIMEOUT_MS = 15000;
  function decide(f, alert, body, attempt, url) {
    url = url || alert.adjudicate_url;
    const status = f.querySelector("[data-testid=save-status]");
    function say(kind, text) { f.dataset.state = kind; status.textContent = text; status.hidden = !text; }
    function refused(text) {
      say("refused", text);
      f.querySelectorAll("input, select, textarea, button").forEach(function (c) { c.disabled = false; });
    }
    function retry(why) {
      requestFailed();
      const delay = Math.min(RETRY_MAX_MS, 1000 * Math.pow(2, attempt));
      say("retrying", "Not saved: " + why + ". Trying again in " + Math.round(delay / 1000) + " s…");
      setTimeout(function () {
        // The card was replaced by a newer decision from the server meanwhile: it says
        // where things stand; this attempt's answer would have nowhere to show.
        if (f.isConnected) decide(f, alert, body, attempt + 1, url);
        else requestWorked();
      }, delay);
    }
    if (attempt > 0) body.set("retry", "1");
    say("saving", attempt ? "Saving again…" : "Saving…");
    const abort = new AbortController();
    const timer = setTimeout(function () { abort.abort(); }, SAVE_TIMEOUT_MS);
    fetch(url, {
      method: "POST", body: body, credentials: "same-origin", signal: abort.signal,
      headers: { "X-CSRFToken": csrf, Accept: "application/json" },
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        return { status: r.status, ok: r.ok, data: data };
      });
    }).then(function (res) {
      clearTimeout(timer);
      if (res.status >= 500 || res.status === 429) { retry("the server had trouble (" + res.status + ")"); return; }
      requestWorked();
      if (res.ok && res.data.alert) { show(res.data.alert, false); moveOn(alert.seq); return; }
      refused("Not recorded: " + (res.data.error || "refused (" + res.status + ")."));
    }).catch(function () {
      clearTimeout(timer);
      retry(abort.signal.aborted ? "the server did not answer in time" : "the server could not be reached");
    });
  }

  function subjectLine(alert) {
    const s = alert.subject;
    if (!s) return el("p", { class: "subject muted", "data-testid": "subject", text: "Watchlist entry no longer held" });
    return el("p", { class: "subject", "data-testid": "subject" }, [
      el("strong", { text: s.display_name }),
      document.createTextNode(" · " + s.category_label + " · case " + s.case_reference),
    ]);
  }

  function sightingsText(alert) {
    const times = alert.sightings === 1 ? "Seen once" : "Seen " + alert.sightings + " times";
    return times + " · last " + fmtTime(alert.last_seen_at || alert.frame_at) + " · " + alert.cameras.join(", ");
  }

  // The server words the match on one scale ("distance 0.462 — alerts at ≤ 0.55").
  function scoreNodes(alert) {
    return [
      el("span", { class: "score", "data-testid": "score", text: alert.match }),
      document.createTextNode(" (face distance: lower is closer)"),
    ];
  }

  function render(alert) {
    const d = alert.decision;
    const card = el("li", { class: "alert-card" + (d ? " decided" : "") + (alert.is_test ? " test" : ""), "data-seq": String(alert.seq), "data-testid": "alert" }, [
      el("div", { class: "pics" }, [picture(alert.crop_url, "Camera"), picture(alert.reference_url, "Watchlist")]),
      el("div", { class: "facts" }, [
        alert.is_test ? el("p", { class: "test-badge", "data-testid": "test-badge", text: "TEST — do not engage: a blue-list walk-through by a staff volunteer" }) : null,
        el("h2", { text: "Alert " + alert.seq + " · " + alert.subject_reference }),
        subjectLine(alert),
        el("p", { class: "score-line", "data-testid": "score-line" }, scoreNodes(alert)),
        el("p", { class: "muted", text: "First seen " + fmtTime(alert.frame_at) + " on " + alert.camera }),
        el("p", { class: "sightings", "data-testid": "sightings", "data-count": String(alert.sightings), text: sightingsText(alert) }),
        el("p", { class: "overdue-note", "data-testid": "overdue" }),
        alert.is_test ? null : d ? el("p", { class: "decision", "data-testid": "decision", text: decisionText(d) }) : el("p", { class: "decision pending", "data-testid": "decision", text: verificationComplete(alert) ? "Awaiting decision" : "No decision until two officers have verified" }),
      ]),
    ]);
    const v = alert.verification;
    if (v && !alert.is_test) {
      card.classList.add("verify-" + v.state);
      const line = card.querySelector("[data-testid=decision]");
      verificationNodes(alert).forEach(function (node) { line.before(node); });
    }
    // A test alert is scored by its walk-through: no verification, decision or outcome form.
    if (config.can_adjudicate && !alert.is_test) {
      const holder = el("div", { class: "decide-holder" });
      if (toVerify(alert)) {
        holder.appendChild(verifyForm(alert));
      } else if (!verificationComplete(alert)) {
        // Verified by this officer, waiting for another: nothing to do here.
      } else if (d) {
        const toggle = el("button", { type: "button", class: "secondary", text: "Correct decision" });
        toggle.addEventListener("click", function () { toggle.replaceWith(form(alert)); });
        holder.appendChild(toggle);
      } else {
        holder.appendChild(form(alert));
      }
      card.querySelector(".facts").appendChild(holder);
    }
    return card;
  }

  function show(alert, fresh) {
    const known = cards.get(alert.seq);
    if (alert.decision) state.lastDecision = Math.max(state.lastDecision, alert.decision.id);
    state.lastVerification = Math.max(state.lastVerification, verificationCursor(alert));
    if (alert.changed_seq) state.lastSeq = Math.max(state.lastSeq, alert.changed_seq);
    if (known) {
      // Shown already: a newer decision re-draws the card; a newer sighting updates it
      // in place (a form being filled in is left alone).
      const had = known.alert.decision ? known.alert.decision.id : 0;
      const has = alert.decision ? alert.decision.id : 0;
      // A verification re-draws it too (a form being filled in on it is replaced only
      // by a card that changed: someone else verified or decided).
      const checked = verificationCursor(alert) > verificationCursor(known.alert) ||
        (alert.verification && known.alert.verification && alert.verification.state !== known.alert.verification.state);
      if (has > had || checked) {
        const card = render(alert);
        known.el.replaceWith(card);
        cards.set(alert.seq, { el: card, alert: alert });
        markOverdue(cards.get(alert.seq));
        countWaiting();
      } else if ((alert.changed_seq || 0) > (known.alert.changed_seq || 0)) {
        sighted(known, alert, fresh);
      }
      return;
    }
    const card = render(alert);
    cards.set(alert.seq, { el: card, alert: alert });
    state.shownAt[alert.seq] = Date.now();
    // Newest first: insert before the first card with a lower seq.
    let before = null;
    for (const child of list.children) {
      if (Number(child.dataset.seq) < alert.seq) { before = child; break; }
    }
    list.insertBefore(card, before);
    empty.hidden = true;
    countWaiting();
    markOverdue(cards.get(alert.seq));
    if (fresh && Date.now() - new Date(alert.time).getTime() < 60000) {
      card.classList.add("fresh");
      setTimeout(function () { card.classList.remove("fresh"); }, 6000);
      beep();
      notify(alert);
      flagTitle();
    }
  }

  function sighted(known, alert, fresh) {
    const closer = alert.distance < known.alert.distance;
    known.alert = Object.assign({}, known.alert, alert, { decision: known.alert.decision, verification: known.alert.verification });
    const line = known.el.querySelector("[data-testid=sightings]");
    line.textContent = sightingsText(alert);
    line.dataset.count = String(alert.sightings);
    known.el.querySelector("[data-testid=score-line]").replaceChildren(...scoreNodes(alert));
    if (closer && alert.crop_url) {
      // A closer view replaced the crop: fetch it again (the fetch is audited as a view).
      const img = known.el.querySelector("img[alt=Camera]");
      if (img) img.src = alert.crop_url + "&view=" + alert.changed_seq;
    }
    if (fresh) {
      known.el.classList.remove("seen-again");
      void known.el.offsetWidth; // restart the animation
      known.el.classList.add("seen-again");
    }
  }

  // The console's head: how many alerts wait for a second verifier (two-person only).
  const waiting = document.getElementById("awaiting-second");
  function countWaiting() {
    if (!waiting) return;
    let n = 0;
    let mine = 0;
    cards.forEach(function (entry) {
      const v = entry.alert.verification;
      if (v && v.state === "awaiting_second") { n += 1; if (!v.mine) mine += 1; }
    });
    waiting.dataset.count = String(n);
    waiting.textContent = n === 0 ? "No alert waits for a second verifier."
      : (n === 1 ? "1 alert waits" : n + " alerts wait") + " for a second verifier" +
        (config.can_adjudicate ? " (" + mine + " yours to verify)." : ".");
  }

  function markOverdue(entry) {
    const age = (Date.now() - new Date(entry.alert.time).getTime()) / 60000;
    const overdue = !entry.alert.decision && !entry.alert.is_test && age >= config.overdue_minutes;
    entry.el.classList.toggle("overdue", overdue);
    entry.el.querySelector(".overdue-note").textContent = overdue
      ? "Undecided for " + Math.floor(age) + " min" : "";
  }
  setInterval(function () { cards.forEach(markOverdue); }, 15000);

  // --- keyboard: n/j next undecided, k/p previous, t/f true/false match, c/u confirmed
  // or unconfirmed on the focused card, ? help. Keys typed into a field are left alone.
  let focused = null;
  function focusCard(seq) {
    const entry = cards.get(seq);
    if (!entry) return;
    if (focused !== null && cards.get(focused)) cards.get(focused).el.classList.remove("focused");
    focused = seq;
    entry.el.classList.add("focused");
    entry.el.scrollIntoView({ block: "center" });
    entry.el.setAttribute("tabindex", "-1");
    entry.el.focus({ preventScroll: true });
  }
  function step(direction) {
    const order = Array.from(list.children).map(function (c) { return Number(c.dataset.seq); });
    const open = order.filter(function (seq) { return !cards.get(seq).alert.decision; });
    const pool = open.length ? open : order;
    if (!pool.length) return;
    const at = pool.indexOf(focused);
    const next = at < 0 ? 0 : (at + direction + pool.length) % pool.length;
    focusCard(pool[next]);
  }
  function choose(name, value) {
    if (focused === null) step(1);
    const entry = cards.get(focused);
    const input = entry && entry.el.querySelector("input[name=" + name + "][value=" + value + "]");
    if (input && !input.disabled) { input.checked = true; input.dispatchEvent(new Event("change", { bubbles: true })); }
  }
  function moveOn(seq) {
    // A decision saved from the focused card: on to the next card still waiting (below
    // it, else from the top), so the officer can keep going from the keyboard.
    if (focused !== seq) return;
    const order = Array.from(list.children).map(function (c) { return Number(c.dataset.seq); });
    const open = order.filter(function (s) { return !cards.get(s).alert.decision; });
    const below = open.filter(function (s) { return order.indexOf(s) > order.indexOf(seq); });
    focusCard(below.length ? below[0] : open.length ? open[0] : seq);
  }
  function enter(event) {
    // Enter records the focused card's form: on the card itself, or on its outcome list,
    // where the browser would not submit by itself (it does so only from a text field).
    const card = event.target.closest && event.target.closest("[data-testid=alert]");
    // The card's one open form: its verification (two-person) or its decision.
    const f = card && card.querySelector("form[data-testid=verify], form[data-testid=decide]");
    if (!f || !(event.target === card || event.target.tagName === "SELECT")) return false;
    f.requestSubmit();
    return true;
  }
  const help = document.getElementById("shortcuts");
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Enter" && config.can_adjudicate && enter(event)) { event.preventDefault(); return; }
    if (event.target.closest && event.target.closest("input, textarea, select, [contenteditable]")) return;
    const key = event.key;
    if (key === "n" || key === "j") step(1);
    else if (key === "k" || key === "p") step(-1);
    else if (key === "t" && config.can_adjudicate) choose("is_true_match", "true");
    else if (key === "f" && config.can_adjudicate) choose("is_true_match", "false");
    else if (key === "c" && config.can_adjudicate) choose("confirmed", "true");
    else if (key === "u" && config.can_adjudicate) choose("confirmed", "false");
    else if (key === "?" && help) help.hidden = !help.hidden;
    else return;
    event.preventDefault();
  });
  state.focusCard = focusCard;

  connect();
})();
