// An HTML compliance report in headless Chromium (Debian's /usr/bin/chromium driven by
// playwright-core): the page renders offline (no request leaves the file), its summary, control
// table and timeline agree with the signed report embedded in it, and a full-page screenshot is
// kept. Prints a JSON summary. Usage: node compliance_html.mjs REPORT.html SCREENSHOT.png
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const [file, screenshot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const errors = [];
  const requests = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('request', (request) => { if (!request.url().startsWith('file:')) requests.push(request.url()); });
  await page.goto(pathToFileURL(file).href);
  const seen = await page.evaluate(() => {
    const report = JSON.parse(document.getElementById('op-dbus-report').textContent);
    return {
      report: { result: report.summary.result, controls: report.controls.length, blocks: report.blocks.length },
      title: document.title,
      result: document.querySelector('#summary .result').textContent,
      controlRows: document.querySelectorAll('#controls > table:first-of-type tr').length - 1,
      dots: document.querySelectorAll('#timeline circle').length,
      failBadges: document.querySelectorAll('#controls > table:first-of-type .badge.fail').length,
      width: document.documentElement.scrollWidth,
    };
  });
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(JSON.stringify({ ...seen, errors, requests }));
} finally {
  await browser.close();
}
