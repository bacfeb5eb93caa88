// The op-dbus chat page: requests become MCP tool calls (intents.js offline, or an
// OpenAI-compatible model with tool calling when configured); results are shown as tables, plans
// and ledger blocks; a change the server wants confirmed shows its plan and waits for a click;
// the live feed lists new ledger blocks as the server announces them.
import { McpClient } from './mcp.js';
import { interpret, EXAMPLES } from './intents.js';

const $ = (id) => document.getElementById(id);
const settings = {
  token: sessionStorage.getItem('opdbus-token') || '',
  endpoint: localStorage.getItem('opdbus-llm-endpoint') || '',
  model: localStorage.getItem('opdbus-llm-model') || '',
};
let client;
let connecting = Promise.resolve(); // settles once the newest client has initialised (or failed)
const seenHeights = new Set();

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  for (const child of children) node.append(child instanceof Node ? child : String(child));
  return node;
}

function say(kind, ...content) {
  const item = element('li', { class: kind }, ...content);
  $('messages').append(item);
  item.scrollIntoView({ block: 'end' });
  return item;
}

function brief(value) {
  if (value === null || value === undefined) return '';
  if (typeof value !== 'object') return String(value);
  if (Array.isArray(value.address)) return value.address.map((a) => `${a.ip}/${a.prefix}`).join(', ');
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

// An array of objects as a table (one column per key seen), an object as a two-column table.
function table(value) {
  if (Array.isArray(value)) {
    if (!value.length) return element('p', {}, '(none)');
    if (typeof value[0] !== 'object') return element('p', {}, value.join(', '));
    const keys = [...new Set(value.flatMap((row) => Object.keys(row)))];
    return element('table', {},
      element('thead', {}, element('tr', {}, ...keys.map((key) => element('th', { scope: 'col' }, key)))),
      element('tbody', {}, ...value.map((row) => element('tr', {}, ...keys.map((key) => element('td', {}, brief(row[key])))))));
  }
  return element('table', {}, element('tbody', {}, ...Object.entries(value).map(([key, item]) =>
    element('tr', {}, element('th', { scope: 'row' }, key),
      element('td', {}, Array.isArray(item) && item.length && typeof item[0] === 'object' ? table(item) : brief(item))))));
}

function planView(plan) {
  const changes = plan.changes || [];
  if (!changes.length) return element('p', {}, 'No changes: the host already matches.');
  return element('table', {},
    element('thead', {}, element('tr', {}, ...['', 'plugin', 'object', 'before', 'after'].map((h) => element('th', { scope: 'col' }, h)))),
    element('tbody', {}, ...changes.map((change) => element('tr', {},
      element('td', { class: `op-${change.op}` }, change.op + (change.observe ? ' (observe)' : '')),
      element('td', {}, change.plugin), element('td', {}, change.id),
      element('td', {}, brief(change.before)), element('td', {}, brief(change.after))))));
}

function blockRows(blocks) {
  return blocks.map((block) => ({
    height: block.height, time: block.time, action: block.action,
    by: `${block.actor?.user || ''} via ${block.actor?.interface || ''}`,
    plugins: (block.plugins || []).join(', '), outcome: block.result?.outcome || '',
  }));
}

function show(intent, structured, text) {
  if (intent.tool === 'ledger_log') {
    const blocks = structured.blocks.filter(intent.keep || (() => true));
    return blocks.length ? table(blockRows(blocks)) : element('p', {}, 'No matching blocks in the ledger.');
  }
  if (intent.tool.startsWith('query_')) {
    const state = structured.state;
    const lists = Object.entries(state).filter(([, value]) => Array.isArray(value) || (value && typeof value === 'object'));
    return element('div', {}, ...lists.map(([key, value]) => element('section', {}, element('h3', {}, key),
      table(Array.isArray(value) ? value : Object.entries(value).map(([name, item]) => ({ name, ...item }))))));
  }
  if (structured && structured.changes) return planView(structured);
  if (structured?.before && structured?.after && typeof structured.after === 'object')
    return table(Object.keys(structured.after).map((key) => ({ '': key, before: structured.before[key], after: structured.after[key] })));
  if (structured && structured.snapshots) return table(structured.snapshots);
  if (structured && typeof structured === 'object') return table(structured);
  return element('pre', {}, text);
}

// Runs one tool call; a change the server wants confirmed shows its plan and a Confirm button.
async function run(intent, reply = say('pending', `${intent.title}…`)) {
  try {
    const result = await client.callTool(intent.tool, intent.args);
    const structured = result.structuredContent;
    const text = result.content?.map((item) => item.text).join('\n') || '';
    reply.className = result.isError ? 'error' : 'result';
    reply.replaceChildren(element('strong', {}, intent.title));
    if (structured?.outcome === 'needs_confirmation') return confirmStep(intent, reply, structured, text);
    if (result.isError && !structured) return reply.append(element('pre', {}, text));
    reply.append(show(intent, structured, text));
    if (result.isError) reply.append(element('pre', {}, text));
    return result;
  } catch (error) {
    reply.className = 'error';
    reply.replaceChildren(`${intent.title}: ${error.message}`);
  }
}

function confirmStep(intent, reply, structured, text) {
  reply.className = 'confirmation';
  reply.append(element('p', {}, text.split('\nNothing was changed')[0]));
  if (structured.plan?.changes) reply.append(planView(structured.plan));
  const yes = element('button', { type: 'button' }, 'Confirm');
  const no = element('button', { type: 'button' }, 'Cancel');
  reply.append(element('div', { class: 'confirm', role: 'group', 'aria-label': 'Confirm this change' }, yes, no));
  return new Promise((resolve) => {
    yes.addEventListener('click', async () => {
      yes.disabled = no.disabled = true;
      const done = say('pending', `${intent.title}: applying…`);
      resolve(await run({ ...intent, args: { ...intent.args, confirm: true } }, done));
    });
    no.addEventListener('click', () => {
      yes.disabled = no.disabled = true;
      say('result', 'Cancelled: nothing was changed.');
      resolve(null);
    });
  });
}

// With a model configured, it chooses the tools; destructive ones still need the click.
async function askModel(request) {
  const { tools } = await client.request('tools/list');
  const functions = tools.map((tool) => ({ type: 'function', function: { name: tool.name, description: tool.description, parameters: tool.inputSchema } }));
  const messages = [{ role: 'system', content: 'You operate op-dbus through its tools. Never set confirm yourself.' }, { role: 'user', content: request }];
  for (let turn = 0; turn < 8; turn++) {
    const response = await fetch(`${settings.endpoint.replace(/\/$/, '')}/chat/completions`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: settings.model || 'local', messages, tools: functions }),
    });
    const message = (await response.json()).choices[0].message;
    messages.push(message);
    if (!message.tool_calls?.length) return say('result', message.content || '');
    for (const call of message.tool_calls) {
      const args = JSON.parse(call.function.arguments || '{}');
      delete args.confirm;
      const result = await run({ tool: call.function.name, args, title: call.function.name });
      messages.push({ role: 'tool', tool_call_id: call.id, content: JSON.stringify(result?.structuredContent ?? result?.content ?? 'cancelled') });
    }
  }
}

async function handle(request) {
  say('user', request);
  await connecting;
  if (settings.endpoint) return askModel(request).catch((error) => say('error', `model: ${error.message}`));
  const intent = interpret(request);
  if (intent.help || intent.unknown) {
    return say(intent.help ? 'result' : 'error', intent.help ? 'Try:' : 'I did not understand that. Try:',
      element('ul', {}, ...EXAMPLES.map((example) => element('li', {}, example))));
  }
  if (intent.invalid) return say('error', intent.invalid);
  return run(intent);
}

async function refreshFeed() {
  const result = await client.callTool('ledger_log', { count: 20 });
  for (const block of (result.structuredContent?.blocks || []).reverse()) {
    if (seenHeights.has(block.height)) continue;
    seenHeights.add(block.height);
    const kind = block.action.startsWith('drift') || block.action.startsWith('reconcile') ? 'drift'
               : block.action.startsWith('anomaly') ? 'anomaly' : 'change';
    $('feed').prepend(element('li', { class: kind },
      element('time', { datetime: block.time }, new Date(block.time).toLocaleTimeString()), ' ',
      element('strong', {}, `#${block.height} ${block.action}`), ` ${(block.plugins || []).join(', ')} — ${block.actor?.user || ''} via ${block.actor?.interface || ''}`));
  }
}

// Replaces the client; requests made meanwhile wait for it (a session-less request gets a 400).
function connect() {
  $('status').textContent = 'connecting…';
  connecting = establish();
}

async function establish() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.get('token')) {
    settings.token = fragment.get('token');
    sessionStorage.setItem('opdbus-token', settings.token);
    history.replaceState(null, '', location.pathname);
    $('token').value = settings.token;
  }
  client?.close();
  client = new McpClient(new URL('mcp', location.href).href, settings.token);
  try {
    const info = await client.initialize();
    $('status').textContent = `connected to ${info.serverInfo.name} ${info.serverInfo.version}`;
    client.onnotification = (message) => {
      if (message.method === 'notifications/resources/updated') refreshFeed();
    };
    await client.request('resources/subscribe', { uri: 'opdbus://ledger/checkpoint' });
    client.listen();
    await refreshFeed();
  } catch (error) {
    $('status').textContent = `not connected: ${error.message}`;
  }
}

$('ask').addEventListener('submit', (event) => {
  event.preventDefault();
  const request = $('request').value.trim();
  if (!request) return;
  $('request').value = '';
  handle(request);
});
$('request').addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey) {
    event.preventDefault();
    $('ask').requestSubmit();
  }
});
$('token').value = settings.token;
$('llm-endpoint').value = settings.endpoint;
$('llm-model').value = settings.model;
$('settings-form').addEventListener('submit', (event) => {
  event.preventDefault();
  settings.token = $('token').value;
  settings.endpoint = $('llm-endpoint').value;
  settings.model = $('llm-model').value;
  sessionStorage.setItem('opdbus-token', settings.token);
  localStorage.setItem('opdbus-llm-endpoint', settings.endpoint);
  localStorage.setItem('opdbus-llm-model', settings.model);
  $('settings').open = false;
  connect();
});
connect();
