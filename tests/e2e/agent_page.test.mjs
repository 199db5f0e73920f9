// The sample agent page, end to end, in Debian's headless Chromium (playwright-core):
// the real `switchboard serve` on a copy of the quick start's configuration (port 0, a temp
// folder), an email dropped into its Maildir, and an agent who signs in on the page, sets
// herself ready, sees the offer arrive over the agent stream, accepts it, reads it and
// completes it. Screenshots go to E2E_OUTPUT_DIR (build/test-output).
//
// Environment (set by ctest, tests/e2e/CMakeLists.txt):
//   SWITCHBOARD_BINARY      the switchboard program
//   SWITCHBOARD_SOURCE_DIR  the source tree (quick start configuration, the page)
//   E2E_NODE_MODULES        where `npm ci` put playwright-core (default: normal resolution)
//   E2E_OUTPUT_DIR          where screenshots go (default: the temp folder)
//   CHROMIUM                the browser (default /usr/bin/chromium)

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';

const sourceDir = process.env.SWITCHBOARD_SOURCE_DIR ||
  path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const binary = process.env.SWITCHBOARD_BINARY || path.join(sourceDir, 'build/server/app/switchboard');
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const require = createRequire(process.env.E2E_NODE_MODULES
  ? path.join(process.env.E2E_NODE_MODULES, '..', 'package.json')
  : import.meta.url);
const { chromium } = require('playwright-core');

// Generous: the machine may be slow and busy. Nothing below measures speed.
const DEADLINE_MS = 120_000;

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-agent-page-'));
const outputDir = process.env.E2E_OUTPUT_DIR || work;
let server = null;
let serverLog = '';
let browser = null;

after(async () => {
  if (browser) await browser.close().catch(() => {});
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    const exited = await waitForExit(server, 20_000);
    if (!exited) server.kill('SIGKILL');
  }
  fs.rmSync(work, { recursive: true, force: true });
});

function waitForExit(child, ms) {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(true);
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => { clearTimeout(timer); resolve(true); });
  });
}

/** The quick start configuration, made private to this run: port 0, state in `work`. */
function writeConfig() {
  let config = fs.readFileSync(path.join(sourceDir, 'samples/quickstart/switchboard.xml'), 'utf8');
  const replace = (from, to) => {
    assert.ok(config.includes(from), `the quick start configuration no longer has ${from}`);
    config = config.split(from).join(to);
  };
  replace('port="8080"', 'port="0"');
  replace('../../var/quickstart/', './');
  replace('folder="../web/agent"', `folder="${path.join(sourceDir, 'samples/web/agent')}"`);
  const file = path.join(work, 'switchboard.xml');
  fs.writeFileSync(file, config);
  for (const sub of ['tmp', 'new', 'cur']) fs.mkdirSync(path.join(work, 'maildir', sub), { recursive: true });
  const key = /<apiKey [^>]*secret="([^"]+)"/.exec(config);
  assert.ok(key, 'the quick start configuration has an inline integrator key');
  return { file, key: key[1] };
}

/** Starts `switchboard serve` and resolves with its base URL from "listening on http://...". */
function startServer(configFile) {
  return new Promise((resolve, reject) => {
    server = spawn(binary, ['serve', '--config', configFile], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`no "listening on" line within ${DEADLINE_MS} ms:\n${serverLog}`)), DEADLINE_MS);
    server.stdout.on('data', (chunk) => {
      stdout += chunk;
      serverLog += chunk;
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
      if (match) { clearTimeout(timer); resolve(match[1]); }
    });
    server.stderr.on('data', (chunk) => { serverLog += chunk; });
    server.on('error', (error) => { clearTimeout(timer); reject(error); });
    server.on('exit', (code) => { clearTimeout(timer); reject(new Error(`switchboard exited (${code}):\n${serverLog}`)); });
  });
}

/** Delivers a mail as a mail server does: written to tmp/, then renamed into new/. */
function deliver(mail) {
  const name = `${Date.now()}.M${crypto.randomInt(1e9)}P${process.pid}.e2e`;
  const temporary = path.join(work, 'maildir', 'tmp', name);
  fs.writeFileSync(temporary, mail);
  fs.renameSync(temporary, path.join(work, 'maildir', 'new', name));
}

const attachmentText = 'Fatura 2026-12-7730191\nValor cobrado: 89,90 EUR\nValor contratado: 39,90 EUR\n';

function customerMail(subject = 'Fatura_de_dezembro_com_valor_errado') {
  const id = crypto.randomBytes(8).toString('hex');
  return [
    'From: Rui Costa <rui.costa@example.pt>',
    'To: Apoio Marés Telecom <apoio@mares-telecom.example>',
    `Subject: =?UTF-8?Q?${subject}?=`,
    'Date: Sat, 21 Nov 2026 10:12:00 +0000',
    `Message-ID: <${id}@mail.example.pt>`,
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b-e2e"',
    '',
    '--b-e2e',
    'Content-Type: text/plain; charset=UTF-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    'Bom dia,',
    '',
    'A fatura de dezembro veio com um valor errado: cobraram 89,90 EUR em vez dos',
    '39,90 EUR do meu contrato. Envio a fatura em anexo.',
    '',
    'Obrigado,',
    'Rui Costa',
    '--b-e2e',
    'Content-Type: text/plain; name="fatura-dezembro.txt"',
    'Content-Disposition: attachment; filename="fatura-dezembro.txt"',
    'Content-Transfer-Encoding: base64',
    '',
    Buffer.from(attachmentText).toString('base64'),
    '--b-e2e--',
    '',
  ].join('\r\n');
}

async function rest(base, method, route, credential) {
  const response = await fetch(base + route, { method, headers: { Authorization: `Bearer ${credential}` } });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

test('an emailed customer reaches the agent page: offer, accept, read, complete', async () => {
  assert.ok(fs.existsSync(binary), `no switchboard program at ${binary}`);
  assert.ok(fs.existsSync(chromiumPath), `no Chromium at ${chromiumPath}: run ./dev deps`);
  const { file, key } = writeConfig();
  const base = await startServer(file);

  // The page and its files come from the server, with their types, without credentials.
  const page0 = await fetch(`${base}/agent/`);
  assert.equal(page0.status, 200);
  assert.match(page0.headers.get('content-type'), /^text\/html/);
  assert.equal((await fetch(`${base}/agent/../switchboard.xml`)).status, 404);

  // The CRM issues the agent's token with its integrator key, as the README shows.
  const issued = await rest(base, 'POST', '/v1/agents/a-ana/tokens', key);
  assert.equal(issued.status, 201);
  const token = issued.body.token;

  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  const page = await context.newPage();
  const problems = [];
  let phase = 'signin';
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  // Every refusal is a problem: an offer the page was pushed is readable at once (the server
  // reads a work item no older than what it pushed).
  page.on('response', (response) => {
    if (response.status() >= 400) {
      problems.push(`${phase}: ${response.status()} ${response.request().method()} ${response.url()}`);
    }
  });
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`${phase}: console: ${message.text()}`);
  });
  page.setDefaultTimeout(DEADLINE_MS);

  // Sign in with the token.
  await page.goto(`${base}/agent/`);
  await page.fill('#login-token', token);
  await page.click('#login-submit');
  await page.waitForSelector('#desk-view:not([hidden])');
  await page.waitForFunction(() => document.querySelector('#agent-name').textContent === 'Ana Sousa');
  await page.waitForFunction(() => document.querySelector('#connection').textContent === 'Live');

  // Not ready with a reason, then ready.
  await page.selectOption('#notready-reason', 'lunch');
  await page.click('#state-notready');
  await page.waitForFunction(() => document.querySelector('#state-pill').textContent === 'Not ready · Lunch');
  await page.click('#state-ready');
  await page.waitForSelector('#state-pill[data-state="ready"]');

  // A customer writes; the offer arrives over the agent stream.
  phase = 'delivered';
  deliver(customerMail());
  // The page redraws its lists: every check below finds the elements again, by item id.
  const itemId = await (await page.waitForSelector('.card.offer')).getAttribute('data-item');
  const card = `.card.offer[data-item="${itemId}"]`;
  assert.match(itemId, /^wi-\d+$/);
  await page.waitForFunction(
    (id) => [...document.querySelectorAll('#log li')].some((li) => li.textContent.includes(`Offer ${id} arrived`)),
    itemId);
  await page.waitForFunction((c) => document.querySelector(`${c} .card-customer`).textContent === 'Rui Costa', card);
  assert.equal(await page.textContent(`${card} .card-subject`), 'Fatura de dezembro com valor errado');
  // Why this agent: the queue the rules chose, and how the routing decision ordered agents.
  await page.waitForFunction((c) => /topic billing → queue billing · \S/.test(
    document.querySelector(`${c} .card-reason b`).textContent), card);
  await page.waitForFunction(() => document.querySelector('#item-body').textContent.includes('valor errado'));
  await page.screenshot({ path: path.join(outputDir, 'agent-page-offer.png') });

  // Accept, read the email and its attachment.
  phase = 'accept';
  await page.click(`${card} button.accept`);
  await page.waitForSelector(`.card.work[data-item="${itemId}"]`);
  await page.waitForFunction(() => document.querySelectorAll('.card.offer').length === 0);
  await page.waitForSelector('#complete-form:not([hidden])');
  const body = await page.textContent('#item-body');
  assert.match(body, /cobraram 89,90 EUR/);
  assert.equal(await page.textContent('#item-from'), 'Rui Costa <rui.costa@example.pt>');
  assert.equal(await page.textContent('#item-state'), 'accepted');
  await page.waitForSelector('#item-attachments .attachment');
  assert.equal(await page.textContent('#item-attachments .attachment-name'), 'fatura-dezembro.txt');
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.click('#item-attachments .attachment button'),
  ]);
  assert.equal(download.suggestedFilename(), 'fatura-dezembro.txt');
  assert.equal(fs.readFileSync(await download.path(), 'utf8'), attachmentText);
  await page.waitForSelector('#state-pill[data-state="busy"], #state-pill[data-state="ready"]');
  const screenshot = path.join(outputDir, 'agent-page.png');
  fs.mkdirSync(outputDir, { recursive: true });
  await page.screenshot({ path: screenshot });
  console.log(`screenshot: ${screenshot}`);

  // Complete it.
  await page.selectOption('#complete-disposition', 'solved');
  await page.fill('#complete-notes', 'Refund of 50,00 EUR requested.');
  phase = 'complete';
  await page.click('#complete-submit');
  await page.waitForFunction(() => document.querySelectorAll('.card.work').length === 0);
  await page.waitForSelector('#item-empty', { state: 'visible' });

  // The server agrees, and the agent's token no longer reads the finished item.
  const record = await rest(base, 'GET', `/v1/work-items/${itemId}`, key);
  assert.equal(record.status, 200);
  assert.equal(record.body.state, 'completed');
  assert.equal(record.body.agent, 'a-ana');
  assert.equal((await rest(base, 'GET', `/v1/work-items/${itemId}`, token)).status, 403);

  // Another mail: declined on the page. It waits for another agent, still bearing Ana's name
  // as its last agent, and her token no longer reads it.
  phase = 'delivered';
  deliver(customerMail('Segunda_via_da_fatura'));
  await page.waitForFunction(() => [...document.querySelectorAll('.card.offer .card-subject')]
    .some((n) => n.textContent === 'Segunda via da fatura'));
  const declinedId = await page.getAttribute('.card.offer', 'data-item');
  assert.notEqual(declinedId, itemId);
  phase = 'decline';
  await page.click(`.card.offer[data-item="${declinedId}"] button.decline`);
  await page.waitForFunction(() => document.querySelectorAll('.card.offer').length === 0);
  const declined = await rest(base, 'GET', `/v1/work-items/${declinedId}`, key);
  assert.equal(declined.body.state, 'queued');
  assert.equal((await rest(base, 'GET', `/v1/work-items/${declinedId}`, token)).status, 403);
  const listed = await rest(base, 'GET', '/v1/work-items', token);
  assert.deepEqual(listed.body.items, []);

  assert.deepEqual(problems, []);
});
