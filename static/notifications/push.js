// The "turn on push notifications" button of the notification settings page. Without
// JavaScript, or in a browser without Web Push, the button stays hidden and the page says so.
"use strict";

(function () {
  const controls = document.getElementById("push-controls");
  if (!controls || !("serviceWorker" in navigator) || !("PushManager" in window)) {
    return;
  }
  const button = document.getElementById("push-subscribe");
  const status = document.getElementById("push-status");
  const csrf = document.querySelector("input[name=csrfmiddlewaretoken]");
  controls.hidden = false;

  function keyBytes(base64url) {
    const padded = (base64url + "===".slice((base64url.length + 3) % 4))
      .replace(/-/g, "+")
      .replace(/_/g, "/");
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  }

  async function subscribe() {
    button.disabled = true;
    status.textContent = button.dataset.working || "…";
    try {
      const permission = await Notification.requestPermission();
      if (permission !== "granted") {
        throw new Error(controls.dataset.refused || "Notifications are blocked in this browser.");
      }
      const registration = await navigator.serviceWorker.register(controls.dataset.workerUrl, {
        scope: "/",
      });
      await navigator.serviceWorker.ready;
      const subscription = await registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: keyBytes(controls.dataset.key),
      });
      const response = await fetch(controls.dataset.subscribeUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf ? csrf.value : "" },
        body: JSON.stringify(subscription),
        credentials: "same-origin",
      });
      const answer = await response.json();
      if (!response.ok) {
        throw new Error(answer.error || response.statusText);
      }
      window.location.reload();
    } catch (error) {
      status.textContent = error.message;
      button.disabled = false;
    }
  }

  button.addEventListener("click", subscribe);
})();
