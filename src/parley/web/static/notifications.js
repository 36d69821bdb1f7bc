// Live updates: a notification channel (POST /api/v2/notifications/channels), its topics
// (PUT .../subscriptions), and the websocket at the channel's connectUri. When the socket
// drops, or stays silent past two heartbeats, it makes a new channel and reconnects with
// back-off, then calls onResync so the page reloads what it may have missed.
import { api } from "./api.js";

const SILENCE_MS = 75_000; // the server sends a heartbeat every 30 s

export class Notifications {
  constructor({ topics, onEvent, onState = () => {}, onResync = () => {} }) {
    this.topics = topics;
    this.onEvent = onEvent;
    this.onState = onState;
    this.onResync = onResync;
    this.socket = null;
    this.channelId = null;
    this.attempt = 0;
    this.stopped = false;
    this.watchdog = null;
    this.connectedOnce = false;
  }

  async start() {
    this.stopped = false;
    await this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.watchdog);
    if (this.socket) this.socket.close();
  }

  /** Replace the topics (e.g. the supervisor picked other queues). */
  async setTopics(topics) {
    this.topics = topics;
    if (this.channelId) {
      await api(`/api/v2/notifications/channels/${this.channelId}/subscriptions`,
        { method: "PUT", body: topics.map((id) => ({ id })) });
    }
  }

  async connect() {
    if (this.stopped) return;
    this.onState(this.connectedOnce ? "reconnecting" : "connecting");
    let channel;
    try {
      channel = await api("/api/v2/notifications/channels", { method: "POST" });
      await api(`/api/v2/notifications/channels/${channel.id}/subscriptions`,
        { method: "PUT", body: this.topics.map((id) => ({ id })) });
    } catch (e) {
      if (e.status === 401) { this.onState("offline"); return; }
      this.retry();
      return;
    }
    this.channelId = channel.id;
    const socket = new WebSocket(channel.connectUri);
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.attempt = 0;
      this.onState("live");
      this.kick();
      if (this.connectedOnce) this.onResync();
      this.connectedOnce = true;
    });
    socket.addEventListener("message", (e) => {
      this.kick();
      let msg;
      try { msg = JSON.parse(e.data); } catch { return; }
      if (msg.topicName === "channel.metadata") return;
      if (msg.topicName === "v2.system.socket_closing") { socket.close(); return; }
      try {
        this.onEvent(msg.topicName, msg.eventBody);
      } catch (err) {
        console.error("notification handler failed", err);
      }
    });
    socket.addEventListener("close", () => {
      if (this.socket !== socket) return;
      this.socket = null;
      clearTimeout(this.watchdog);
      this.retry();
    });
  }

  kick() {
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => this.socket && this.socket.close(), SILENCE_MS);
  }

  retry() {
    if (this.stopped) return;
    this.onState("reconnecting");
    const delay = Math.min(15_000, 500 * 2 ** this.attempt++);
    setTimeout(() => this.connect(), delay);
  }
}
