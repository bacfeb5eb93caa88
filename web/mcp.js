// A small MCP client over Streamable HTTP for the browser: initialize (keeps Mcp-Session-Id),
// requests answered as JSON or as an SSE stream, and the session's GET stream for notifications.
// Invariant: every request carries the session, protocol version and bearer token it was given.
const PROTOCOL = '2025-11-25';

// Splits SSE text into the JSON messages of its data lines (priming events have none).
function sseMessages(text) {
  const messages = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    const data = block.split(/\r?\n/).filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trimStart()).join('\n');
    if (data.trim()) messages.push(JSON.parse(data));
  }
  return messages;
}

export class McpClient {
  constructor(endpoint, token) {
    this.endpoint = endpoint;
    this.token = token;
    this.session = null;
    this.nextId = 1;
    this.onnotification = () => {};
    this.listening = new AbortController();
  }

  // Stops the GET stream for good (a new client replaces this one).
  close() {
    this.listening.abort();
  }

  headers(extra = {}) {
    const headers = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...extra };
    if (this.session) {
      headers['Mcp-Session-Id'] = this.session;
      headers['MCP-Protocol-Version'] = PROTOCOL;
    }
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    return headers;
  }

  async post(message) {
    const response = await fetch(this.endpoint, { method: 'POST', headers: this.headers(), body: JSON.stringify(message) });
    if (response.status === 202) return null;
    const text = await response.text();
    if (!response.ok) {
      let reason = text;
      try { reason = JSON.parse(text).error.message; } catch { /* not JSON-RPC */ }
      throw new Error(`HTTP ${response.status}: ${reason}`);
    }
    if (!this.session && response.headers.get('Mcp-Session-Id')) this.session = response.headers.get('Mcp-Session-Id');
    const type = response.headers.get('Content-Type') || '';
    const messages = type.includes('text/event-stream') ? sseMessages(text) : [JSON.parse(text)];
    let answer = null;
    for (const each of messages) {
      if (each.id === message.id && ('result' in each || 'error' in each)) answer = each;
      else if (each.method) this.onnotification(each);
    }
    if (!answer) throw new Error('no answer from the server');
    if (answer.error) throw new Error(answer.error.message);
    return answer.result;
  }

  request(method, params = {}) {
    return this.post({ jsonrpc: '2.0', id: this.nextId++, method, params });
  }

  async initialize() {
    const result = await this.request('initialize', {
      protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: 'op-dbus-web', version: '1' },
    });
    await this.post({ jsonrpc: '2.0', method: 'notifications/initialized' });
    return result;
  }

  callTool(name, args = {}) {
    return this.request('tools/call', { name, arguments: args });
  }

  // Reads the session's GET stream until it ends, then reconnects after `retry` ms.
  async listen(retry = 1000) {
    while (!this.listening.signal.aborted) {
      try {
        const response = await fetch(this.endpoint, {
          headers: this.headers({ Accept: 'text/event-stream' }), signal: this.listening.signal,
        });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          const end = buffer.lastIndexOf('\n\n');
          if (end < 0) continue;
          for (const message of sseMessages(buffer.slice(0, end))) this.onnotification(message);
          buffer = buffer.slice(end + 2);
        }
      } catch (error) {
        if (!this.listening.signal.aborted) console.warn('live feed:', error.message);
      }
      await new Promise((resolve) => setTimeout(resolve, retry));
    }
  }
}
