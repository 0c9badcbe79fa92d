// The simulator page: posts what the "beneficiary" types to the simulator webhook and shows
// the replies the dispatcher delivered. Each tab keeps its identity and its conversation in
// sessionStorage, so a reload shows the same conversation.
(function () {
  "use strict";
  var POLL_MS = 500;
  var list = document.getElementById("conversation");
  var form = document.getElementById("composer");
  var input = document.getElementById("text");
  var store = window.sessionStorage;
  var tab = store.getItem("sawti-tab");
  if (!tab) {
    tab = crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + "-" + String(Math.random()).slice(2);
    store.setItem("sawti-tab", tab);
  }
  var lastSeen = Number(store.getItem("sawti-last") || "0");
  var counter = Number(store.getItem("sawti-count") || "0");
  var history = JSON.parse(store.getItem("sawti-history") || "[]");

  function render(text, who) {
    var item = document.createElement("li");
    item.className = who;
    item.setAttribute("dir", "auto");
    item.textContent = text;  // never innerHTML: what people write is shown as text
    list.appendChild(item);
    list.scrollTop = list.scrollHeight;
  }

  function show(text, who) {
    render(text, who);
    if (who !== "error") {
      history.push([text, who]);
      store.setItem("sawti-history", JSON.stringify(history));
    }
  }

  history.forEach(function (entry) { render(entry[0], entry[1]); });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    if (!text.trim()) { return; }
    counter += 1;
    store.setItem("sawti-count", String(counter));
    show(text, "mine");
    input.value = "";
    fetch("/webhooks/simulator", {
      method: "POST",
      headers: {"Content-Type": "application/json", "X-Sawti-Simulator": "1"},
      body: JSON.stringify({tab: tab, id: "m" + counter + "-" + Date.now(), text: text})
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
    }).catch(function () {
      render(list.dataset.error, "error");
      if (!input.value) { input.value = text; }  // give the text back to send again
    });
  });

  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  function poll() {
    fetch("/simulator/messages?after=" + lastSeen, {headers: {"X-Sawti-Tab": tab}})
      .then(function (response) { return response.ok ? response.json() : {messages: []}; })
      .then(function (data) {
        data.messages.forEach(function (message) {
          show(message.body, "theirs");
          lastSeen = Math.max(lastSeen, message.id);
        });
        store.setItem("sawti-last", String(lastSeen));
      })
      .catch(function () {})
      .then(function () { setTimeout(poll, POLL_MS); });
  }
  poll();
})();
