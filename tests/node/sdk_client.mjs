// Drives op-dbus's MCP server with the official TypeScript SDK client, over stdio or Streamable
// HTTP: lists the tools, runs a read tool, applies a state (confirmed, with progress), and reads
// the ledger block it left. Prints one JSON summary on stdout; exits 1 with the reason otherwise.
// Usage: node sdk_client.mjs stdio OPDBUS [OPDBUS ARGS...] -- STATE_JSON
//        node sdk_client.mjs http URL TOKEN -- STATE_JSON
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const [mode, ...rest] = process.argv.slice(2);
const split = rest.indexOf('--');
const target = rest.slice(0, split);
const desired = JSON.parse(rest[split + 1]);

function transport() {
  if (mode === 'stdio')
    return new StdioClientTransport({ command: target[0], args: target.slice(1), stderr: 'inherit' });
  const headers = { Authorization: `Bearer ${target[1]}` };
  return new StreamableHTTPClientTransport(new URL(target[0]), { requestInit: { headers } });
}

function check(condition, what) {
  if (!condition) throw new Error(what);
}

const client = new Client({ name: 'sdk-test', version: '1.0.0' });
try {
  await client.connect(transport());
  const { tools } = await client.listTools();
  const names = tools.map((tool) => tool.name);
  for (const needed of ['query_net', 'apply', 'ledger_log', 'retention_set'])
    check(names.includes(needed), `tools/list lacks ${needed}: ${names}`);
  const apply = tools.find((tool) => tool.name === 'apply');
  check(apply.annotations.destructiveHint === true, 'apply is not marked destructive');

  const query = await client.callTool({ name: 'query_net', arguments: {} });
  check(!query.isError && Array.isArray(query.structuredContent.state.interfaces),
        `query_net: ${JSON.stringify(query)}`);

  const refused = await client.callTool({ name: 'apply', arguments: { state: desired } });
  check(refused.isError && refused.structuredContent.outcome === 'needs_confirmation',
        `apply without confirm: ${JSON.stringify(refused)}`);

  const progress = [];
  const applied = await client.callTool(
      { name: 'apply', arguments: { state: desired, confirm: true } }, undefined,
      { onprogress: (update) => progress.push(update) });
  check(!applied.isError && applied.structuredContent.outcome === 'applied',
        `apply: ${JSON.stringify(applied)}`);

  const log = await client.callTool({ name: 'ledger_log', arguments: { count: 1 } });
  const block = log.structuredContent.blocks[0];
  const height = block.height;
  const resource = await client.readResource({ uri: `opdbus://ledger/${height}` });
  check(JSON.parse(resource.contents[0].text).hash === block.hash, 'the ledger resource differs');
  const proof = await client.callTool({ name: 'ledger_proof', arguments: { height } });
  check(proof.structuredContent.type === 'inclusion', `ledger_proof: ${JSON.stringify(proof)}`);

  console.log(JSON.stringify({
    tools: names.length,
    progress: progress.map((update) => update.progress),
    outcome: applied.structuredContent.outcome,
    block: { height, action: block.action, actor: block.actor, plugins: block.plugins },
  }));
  await client.close();
} catch (error) {
  console.error(`sdk_client: ${error.message}`);
  process.exit(1);
}
