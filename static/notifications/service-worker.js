// Machi+ service worker: shows the city's push messages and opens their page when tapped.
// It handles no fetches: pages load from the network as usual.
"use strict";

self.addEventListener("push", (event) => {
  let message = {};
  try {
    message = event.data ? event.data.json() : {};
  } catch (error) {
    message = { title: event.data ? event.data.text() : "" };
  }
  const urgent = ["warning", "emergency"].includes(message.urgency) && message.kind !== "cancellation";
  event.waitUntil(
    self.registration.showNotification(message.title || "Machi+", {
      body: message.text || "",
      tag: message.notice_id ? `notice-${message.notice_id}` : undefined,
      renotify: Boolean(message.notice_id),
      requireInteraction: urgent,
      lang: message.language || "ja",
      data: { url: message.url || "/" },
    }),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = new URL(event.notification.data.url || "/", self.location.origin);
  // Only the site's own pages are opened.
  const url = target.origin === self.location.origin ? target.href : self.location.origin;
  event.waitUntil(self.clients.openWindow(url));
});
