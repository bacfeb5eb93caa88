// The web UI in headless Chromium (Debian's /usr/bin/chromium driven by playwright-core): the page
// connects, "show network interfaces" shows the namespace's bridge as a table, "set the hourly
// retention to 10" shows the change and waits for Confirm, and once confirmed the change is
// reported and appears in the live feed; with a chat model endpoint configured, the model's tool
// call runs and its answer is shown. Screenshots go to ARTIFACTS. Prints a JSON summary.
// Usage: node web_ui.mjs URL TOKEN EXPECTED_INTERFACE ARTIFACTS
import { createServer } from 'node:http';
import { chromium } from 'playwright-core';

// A stand-in for an OpenAI-compatible endpoint (llama.cpp's server speaks the same): it asks for
// query_net, then answers from what the tool returned, so the page's tool loop is exercised.
function fakeModel() {
  const server = createServer((request, response) => {
    response.setHeader('Access-Control-Allow-Origin', '*');
    response.setHeader('Access-Control-Allow-Headers', 'Content-Type');
    if (request.method === 'OPTIONS') return response.end();
    let body = '';
    request.on('data', (chunk) => { body += chunk; });
    request.on('end', () => {
      const { messages, tools } = JSON.parse(body);
      const result = messages.find((message) => message.role === 'tool');
      const message = result
        ? { role: 'assistant', content: `Model says: interfaces ${JSON.parse(result.content).state.interfaces.map((i) => i.name).join(', ')}` }
        : { role: 'assistant', content: null, tool_calls: [{ id: 'call-1', type: 'function', function: { name: tools.find((t) => t.function.name === 'query_net').function.name, arguments: '{}' } }] };
      response.setHeader('Content-Type', 'application/json');
      response.end(JSON.stringify({ choices: [{ message }] }));
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const [url, token, expectedInterface, artifacts] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'],
});
const errors = [];
let model;
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()); });
  const shot = (name) => page.screenshot({ path: `${artifacts}/web-${name}.png`, fullPage: true });
  const ask = async (request) => {
    await page.fill('#request', request);
    await page.press('#request', 'Enter');
  };

  await page.goto(`${url}#token=${token}`);
  await page.waitForSelector('#status:has-text("connected to op-dbus")', { timeout: 10000 });
  await shot('loaded');

  await ask('show network interfaces');
  const row = page.locator('#messages li.result table td', { hasText: expectedInterface });
  await row.first().waitFor({ timeout: 10000 });
  await shot('query');

  await ask('set the hourly retention to 10');
  const confirm = page.locator('#messages li.confirmation button', { hasText: 'Confirm' });
  await confirm.waitFor({ timeout: 10000 });
  const question = await page.locator('#messages li.confirmation').last().innerText();
  await shot('confirm');
  await confirm.click();
  await page.locator('#messages li.result td', { hasText: 'hourly' }).last().waitFor({ timeout: 10000 });
  await page.locator('#feed li', { hasText: 'retention.set' }).first().waitFor({ timeout: 10000 });
  await shot('confirmed');

  model = await fakeModel();
  await page.click('#settings summary');
  await page.fill('#llm-endpoint', `http://127.0.0.1:${model.address().port}/v1`);
  await page.click('#settings-form button');
  await page.waitForSelector('#status:has-text("connected to op-dbus")');
  await ask('which interfaces are there?');
  const answer = page.locator('#messages li.result', { hasText: 'Model says' });
  await answer.waitFor({ timeout: 10000 });
  const modelAnswer = await answer.innerText();
  await shot('model');

  console.log(JSON.stringify({ question, modelAnswer, feed: await page.locator('#feed li').allInnerTexts(), errors }));
  if (errors.length) process.exitCode = 1;
} catch (error) {
  console.error(`web_ui: ${error.message}; page errors: ${JSON.stringify(errors)}`);
  process.exitCode = 1;
} finally {
  model?.close();
  await browser.close();
}
