// The fake phone: send as a person, poll the conversation (their messages + Sawti's replies).
// Text is only ever set with textContent.
"use strict";

(() => {
  const root = document.querySelector(".phone");
  const list = document.getElementById("messages");
  const statusLine = document.getElementById("status");
  const personInput = document.getElementById("person");
  const personLabel = document.getElementById("person-label");
  const channels = document.getElementById("channels");
  const form = document.getElementById("compose");
  const textBox = document.getElementById("text");
  const sendButton = document.getElementById("send");
  const KEY = "sawti-fake-phone:";
  const POLL_MS = 1000;
  let shownKey = "";
  let shownJson = "";
  let pollInFlight = false;

  const digits = (n) => {
    const values = new Uint32Array(n);
    crypto.getRandomValues(values);
    return Array.from(values, (v) => String(v % 10)).join("");
  };
  // Telegram: a private chat id (the user's id); SMS and WhatsApp: a Syrian mobile number.
  const kind = (channel) => (channel === "telegram" ? "telegram" : "phone");
  const randomPerson = (k) => (k === "telegram" ? "5" + digits(8) : "+9639" + digits(8));

  const channel = () => channels.querySelector("input[name=channel]:checked").value;

  function storedPerson(k) {
    let person = sessionStorage.getItem(KEY + "person:" + k);
    if (!person) {
      person = randomPerson(k);
      sessionStorage.setItem(KEY + "person:" + k, person);
    }
    return person;
  }

  function showPerson() {
    const k = kind(channel());
    personInput.value = storedPerson(k);
    personInput.inputMode = k === "telegram" ? "numeric" : "tel";
    personLabel.textContent = k === "telegram"
      ? "معرّف المحادثة · Chat id" : "رقم الهاتف · Phone number";
  }

  function setStatus(text) {
    statusLine.textContent = text || "";
  }

  function bubble(message) {
    const item = document.createElement("li");
    const failed = message.direction === "in" && !["delivered", "sending"].includes(message.status);
    item.className = message.direction + (failed ? " failed" : "");
    item.dir = "auto";
    const text = document.createElement("span");
    text.className = "text";
    text.dir = "auto";
    text.textContent = message.text;
    const meta = document.createElement("small");
    meta.className = "meta";
    const time = new Date(message.at * 1000).toLocaleTimeString();
    let note = "";
    if (message.direction === "out") note = "صوتي · Sawti";
    else if (message.status === "delivered") note = "✓";
    else if (message.status === "sending") note = "…";
    else note = "⚠ " + message.status;
    meta.textContent = time + " · " + note;
    item.append(text, meta);
    return item;
  }

  function render(messages) {
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    list.replaceChildren();
    if (messages.length === 0) {
      const empty = document.createElement("li");
      empty.className = "empty";
      empty.textContent = "لا رسائل بعد · No messages yet";
      list.append(empty);
    }
    for (const message of messages) list.append(bubble(message));
    if (atBottom || messages.length === 0) list.scrollTop = list.scrollHeight;
  }

  async function poll() {
    const key = channel() + "|" + personInput.value.trim();
    if (pollInFlight) return;
    pollInFlight = true;
    try {
      const query = new URLSearchParams({ channel: channel(), person: personInput.value.trim() });
      const response = await fetch(root.dataset.messagesUrl + "?" + query, { cache: "no-store" });
      const data = await response.json();
      if (key !== channel() + "|" + personInput.value.trim()) return;  // switched meanwhile
      if (!response.ok) {
        setStatus(data.error || "HTTP " + response.status);
        return;
      }
      const json = JSON.stringify(data.messages);
      if (key !== shownKey || json !== shownJson) {
        if (key !== shownKey) setStatus("");
        shownKey = key;
        shownJson = json;
        render(data.messages);
      }
    } catch (error) {
      setStatus("الهاتف لا يستجيب · phone server unreachable");
    } finally {
      pollInFlight = false;
    }
  }

  async function send() {
    const text = textBox.value;
    if (!text.trim()) return;
    sendButton.disabled = true;
    try {
      const response = await fetch(root.dataset.sendUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ channel: channel(), person: personInput.value.trim(), text }),
      });
      const data = await response.json();
      if (data.message) {
        textBox.value = "";
        setStatus(data.ok ? "" : data.message.status);
      } else {
        setStatus(data.error || "HTTP " + response.status);
      }
    } catch (error) {
      setStatus("الهاتف لا يستجيب · phone server unreachable");
    } finally {
      sendButton.disabled = false;
      textBox.focus();
      poll();
    }
  }

  channels.addEventListener("change", () => {
    sessionStorage.setItem(KEY + "channel", channel());
    showPerson();
    poll();
  });
  personInput.addEventListener("change", () => {
    const value = personInput.value.trim();
    if (value) sessionStorage.setItem(KEY + "person:" + kind(channel()), value);
    poll();
  });
  document.getElementById("new-person").addEventListener("click", () => {
    sessionStorage.setItem(KEY + "person:" + kind(channel()), randomPerson(kind(channel())));
    showPerson();
    poll();
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    send();
  });
  textBox.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  const saved = sessionStorage.getItem(KEY + "channel");
  const savedInput = saved && channels.querySelector(`input[value="${CSS.escape(saved)}"]`);
  if (savedInput) savedInput.checked = true;
  showPerson();
  poll();
  setInterval(poll, POLL_MS);
})();
