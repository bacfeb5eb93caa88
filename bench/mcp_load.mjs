// Load generator for MCP over Streamable HTTP: C clients each open a session (initialize +
// initialized), then call one tool in a loop for S seconds, as an MCP client does (Accept:
// application/json, text/event-stream; keep-alive). Prints JSON: requests, errors, requests/s,
// and p50/p99 round-trip latency in ms. A request is an error unless HTTP 200 with a result that
// is not isError. Usage: node mcp_load.mjs URL CLIENTS SECONDS TOOL [ARGUMENTS_JSON]
const [url, clientsText, secondsText, tool, argumentsText = '{}'] = process.argv.slice(2);
const clients = Number(clientsText);
const deadline = performance.now() + Number(secondsText) * 1000;
const toolArguments = JSON.parse(argumentsText);
const latencies = [];
let errors = 0;
let firstError = '';

async function post(session, body) {
  const headers = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' };
  if (session) Object.assign(headers, { 'Mcp-Session-Id': session, 'MCP-Protocol-Version': '2025-11-25' });
  const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
  return { response, text: await response.text() };
}

async function client() {
  const { response } = await post(null, {
    jsonrpc: '2.0', id: 0, method: 'initialize',
    params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'load', version: '1' } },
  });
  const session = response.headers.get('mcp-session-id');
  await post(session, { jsonrpc: '2.0', method: 'notifications/initialized' });
  for (let id = 1; performance.now() < deadline; id++) {
    const start = performance.now();
    try {
      const { response: answer, text } = await post(session,
        { jsonrpc: '2.0', id, method: 'tools/call', params: { name: tool, arguments: toolArguments } });
      const ok = answer.status === 200 && text.includes('"result"') && !text.includes('"isError":true');
      if (!ok && !firstError) firstError = `${answer.status} ${text.slice(0, 200)}`;
      if (ok) latencies.push(performance.now() - start); else errors++;
    } catch (error) {
      errors++;
      firstError ||= error.message;
    }
  }
}

const started = performance.now();
await Promise.all(Array.from({ length: clients }, client));
const elapsed = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const percentile = (p) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))];
console.log(JSON.stringify({
  requests: latencies.length + errors, errors, first_error: firstError,
  requests_per_second: Math.round(latencies.length / elapsed),
  p50_ms: Number(percentile(0.5).toFixed(3)), p99_ms: Number(percentile(0.99).toFixed(3)),
}));
