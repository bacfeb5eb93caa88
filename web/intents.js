// The offline intent engine: maps the common requests to one MCP tool call, without a model.
// interpret(text) returns {tool, args, title, keep?} where `keep` filters ledger blocks, or
// {help: true}, or {unknown: true}. Rules are tried in order; the first that matches wins.
const PLUGIN_WORDS = [
  ['networkmanager', /\b(network ?manager|nm|connection profiles?|profiles?)\b/],
  ['ovs', /\b(ovs|open ?vswitch|vswitch)\b/],
  ['net', /\b(network|net|interfaces?|links?|addresses|address|routes?|ip|bridges?)\b/],
  ['systemd', /\b(systemd|units?|services?)\b/],
  ['hostname', /\b(host ?name)\b/],
  ['timedate', /\b(time ?zone|ntp|time|clock)\b/],
  ['login1', /\b(sessions?|logins?|users?|seats?)\b/],
  ['dbus', /\b(d-?bus|properties)\b/],
];
const TIERS = ['hourly', 'daily', 'weekly', 'quarterly'];

function stateFrom(text) {
  const start = text.indexOf('{');
  if (start < 0) return null;
  try {
    const value = JSON.parse(text.slice(start));
    return value.plugins ? value : { version: 1, plugins: value };
  } catch {
    return undefined;
  }
}

function retentionChange(text) {
  const args = {};
  for (const tier of TIERS) {
    const match = text.match(new RegExp(`${tier}\\D{0,30}?(\\d+)`)) || text.match(new RegExp(`(\\d+)\\s+${tier}`));
    if (match) args[tier] = Number(match[1]);
  }
  return Object.keys(args).length ? args : null;
}

// A word the user asks about ("why did br0 change"): blocks mentioning it are kept.
function subjectOf(text) {
  const match = text.match(/\b(?:why did|what happened to|who changed|history of)\s+([\w.:@/-]+)/);
  return match ? match[1] : null;
}

const RULES = [
  [/^\s*(help|\?)\s*$|what can you do/, () => ({ help: true })],
  [/^\s*(diff|plan)\b/, (lowered, text) => {
    const state = stateFrom(text);
    return state ? { tool: 'diff', args: { state }, title: 'Plan' } : { invalid: 'paste a state document after "diff"' };
  }],
  [/^\s*apply\b/, (lowered, text) => {
    const state = stateFrom(text);
    return state ? { tool: 'apply', args: { state }, title: 'Apply' } : { invalid: 'paste a state document after "apply"' };
  }],
  [/retention/, (text) => {
    const change = /\b(set|change|keep|make|raise|lower)\b/.test(text) ? retentionChange(text) : null;
    return change ? { tool: 'retention_set', args: change, title: 'Retention change' }
                  : { tool: 'retention_show', args: {}, title: 'Retention policy' };
  }],
  [/\b(take|create|make)\b.*\bsnapshot/, () => ({ tool: 'snapshot_create', args: {}, title: 'Snapshot' })],
  [/snapshot/, () => ({ tool: 'snapshot_list', args: {}, title: 'Snapshots' })],
  [/\b(roll ?back|undo)\b/, (text) => {
    const to = text.match(/\bto\s+([\w:.-]+)/);
    return { tool: 'rollback', args: to ? { to: to[1] } : {}, title: 'Rollback' };
  }],
  [/^\s*commit\b/, () => ({ tool: 'commit', args: {}, title: 'Commit' })],
  [/\b(verify|intact|tamper)/, () => ({ tool: 'ledger_verify', args: {}, title: 'Ledger verification' })],
  [/\bproof\b.*?(\d+)/, (text) => ({ tool: 'ledger_proof', args: { height: Number(text.match(/\bproof\b.*?(\d+)/)[1]) }, title: 'Inclusion proof' })],
  [/\bblock\s+#?(\d+)/, (text) => ({ tool: 'ledger_show', args: { height: Number(text.match(/\bblock\s+#?(\d+)/)[1]) }, title: 'Ledger block' })],
  [/\bdrift/, () => ({ tool: 'ledger_log', args: { count: 200 }, title: 'Drift', keep: (b) => /^(drift|reconcile)/.test(b.action) })],
  [/\banomal/, () => ({ tool: 'ledger_log', args: { count: 200 }, title: 'Anomalies', keep: (b) => b.action.startsWith('anomaly') })],
  [/\b(why did|what happened to|who changed|history of)\b/, (text) => {
    const subject = subjectOf(text);
    return { tool: 'ledger_log', args: { count: 200 }, title: `Changes to ${subject}`,
             keep: (b) => !subject || JSON.stringify(b).includes(subject) };
  }],
  [/\b(ledger|history|log|what changed|recent changes|changes)\b/, (text) => {
    const plugin = PLUGIN_WORDS.find(([, words]) => words.test(text));
    const args = { count: 20 };
    if (plugin) args.plugin = plugin[0];
    return { tool: 'ledger_log', args, title: 'Recent changes' };
  }],
  [/\bdiscover/, () => ({ tool: 'discover', args: {}, title: 'D-Bus services' })],
];

export function interpret(raw) {
  const text = raw.trim();
  const lowered = text.toLowerCase();
  for (const [pattern, build] of RULES)
    if (pattern.test(lowered)) return build(lowered, text);
  const plugin = PLUGIN_WORDS.find(([, words]) => words.test(lowered));
  if (plugin) return { tool: `query_${plugin[0]}`, args: {}, title: `Current ${plugin[0]} state` };
  return { unknown: true };
}

export const EXAMPLES = [
  'show network interfaces', 'show systemd units', 'what changed recently?', 'why did br0 change?',
  'any drift?', 'verify the ledger', 'show block 3', 'list snapshots', 'set the hourly retention to 10',
  'diff {"net": {"interfaces": [{"name": "br0", "type": "bridge"}]}}', 'roll back',
];
