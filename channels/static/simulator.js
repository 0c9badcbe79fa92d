// The simulator page: posts what the "beneficiary" types to the simulator webhook and shows
// the replies the dispatcher delivered. Each tab keeps its own identity in sessionStorage.
(function () {
  "use strict";
  var POLL_MS = 500;
  var list = document.getElementById("conversation");
  var form = document.getElementById("composer");
  var input = document.getElementById("text");
  var tab = sessionStorage.getItem("sawti-tab");
  if (!tab) {
    tab = crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + "-" + String(Math.random()).slice(2);
    sessionStorage.setItem("sawti-tab", tab);
  }
  var lastSeen = Number(sessionStorage.getItem("sawti-last") || "0");
  var counter = Number(sessionStorage.getItem("sawti-count") || "0");

  function show(text, who) {
    var item = document.createElement("li");
    item.className = who;
    item.setAttribute("dir", "auto");
    item.textContent = text;  // never innerHTML: text is shown as text
    list.appendChild(item);
    list.scrollTop = list.scrollHeight;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    if (!text.trim()) { return; }
    counter += 1;
    sessionStorage.setItem("sawti-count", String(counter));
    show(text, "mine");
    input.value = "";
    fetch("/webhooks/simulator", {
      method: "POST",
      headers: {"Content-Type": "application/json", "X-Sawti-Simulator": "1"},
      body: JSON.stringify({tab: tab, id: "m" + counter + "-" + Date.now(), text: text})
    }).then(function (response) {
      if (!response.ok) { show(list.dataset.error, "error"); }
    }).catch(function () { show(list.dataset.error, "error"); });
  });

  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
  });

  function poll() {
    fetch("/simulator/messages?tab=" + encodeURIComponent(tab) + "&after=" + lastSeen)
      .then(function (response) { return response.ok ? response.json() : {messages: []}; })
      .then(function (data) {
        data.messages.forEach(function (message) {
          show(message.body, "theirs");
          lastSeen = Math.max(lastSeen, message.id);
        });
        sessionStorage.setItem("sawti-last", String(lastSeen));
      })
      .catch(function () {})
      .then(function () { setTimeout(poll, POLL_MS); });
  }
  poll();
})();
