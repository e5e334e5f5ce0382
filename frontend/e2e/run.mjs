// The end-to-end suite: the real taskmind binary (SPA embedded) with a real
// database, the local OpenID Connect provider of cmd/testoidc (mockoidc), and Debian's
// Chromium driven by playwright-core. Every page is screenshotted in light
// and dark, desktop and 375 px, under e2e-artifacts/ (gitignored), checked
// with axe-core, and must make no request that leaves 127.0.0.1.
//
//   npm run e2e                      build the SPA and the binary, then test
//   TASKMIND_BIN=/path npm run e2e   test an already built binary
//   TESTOIDC_BIN=/path               an already built cmd/testoidc
//   E2E_DATABASE_URL=postgres://...  use PostgreSQL instead of embedded SQLite
//   CHROMIUM=/usr/bin/chromium       the browser (never downloaded)
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { chromium } from 'playwright-core';
import { createInterface } from 'node:readline';

const frontend = resolve(import.meta.dirname, '..');
const repo = resolve(frontend, '..');
const artifacts = join(frontend, 'e2e-artifacts');
const shots = join(artifacts, 'screenshots');
const ADMIN = { email: 'admin@example.com', name: 'Ada Admin' };
const MEMBER = { email: 'member@example.com', name: 'Max Member' };

const results = [];
const violations = { external: new Set(), csp: [], pageErrors: [], a11y: [] };
const cleanup = [];

function log(...a) {
  console.log(...a);
}

let shotOnFailure = null;

// firstOf waits until one of the locators is visible and returns its index,
// so a step fails at once on an error alert instead of timing out.
async function firstOf(locators, timeout = 30000) {
  return Promise.any(locators.map((l, i) => l.first().waitFor({ timeout }).then(() => i)));
}

async function alertText(page) {
  const a = page.getByRole('alert');
  return (await a.count()) ? (await a.first().innerText()).replace(/\s+/g, ' ') : '';
}

async function step(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    results.push({ name, ok: true });
    log(`  ok   ${name} (${Date.now() - t0} ms)`);
  } catch (err) {
    results.push({ name, ok: false, err });
    if (shotOnFailure) {
      await shotOnFailure
        .screenshot({ path: join(artifacts, `FAILED-${name.replace(/[^a-z0-9]+/gi, '-')}.png`), fullPage: true })
        .catch(() => undefined);
    }
    log(`  FAIL ${name}: ${err instanceof Error ? err.message.split('\n').slice(0, 6).join('\n       ') : err}`);
  }
}

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
    s.on('error', rej);
  });
}

async function waitFor(fn, what, timeout = 30000) {
  const end = Date.now() + timeout;
  let last;
  while (Date.now() < end) {
    try {
      if (await fn()) return;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ''}`);
}

function binary(work) {
  if (process.env.TASKMIND_BIN) return process.env.TASKMIND_BIN;
  if (!process.env.E2E_SKIP_BUILD) {
    log('building the SPA…');
    execFileSync('npm', ['run', 'build'], { cwd: frontend, stdio: 'inherit' });
  }
  log('building the binary…');
  const bin = join(work, 'taskmind');
  execFileSync('go', ['build', '-o', bin, '.'], { cwd: repo, stdio: 'inherit' });
  return bin;
}

// startOIDC runs cmd/testoidc, which prints its issuer, client credentials
// and control address as one JSON line; users are queued over that control API.
async function startOIDC(work) {
  let bin = process.env.TESTOIDC_BIN;
  if (!bin) {
    bin = join(work, 'testoidc');
    execFileSync('go', ['build', '-o', bin, './cmd/testoidc'], { cwd: repo, stdio: 'inherit' });
  }
  const child = spawn(bin, [], { stdio: ['ignore', 'pipe', 'inherit'] });
  cleanup.push(async () => {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r() : child.on('exit', r)));
  });
  const line = await new Promise((res, rej) => {
    const rl = createInterface({ input: child.stdout });
    rl.once('line', res);
    child.once('exit', (c) => rej(new Error(`testoidc exited ${c} before printing its configuration`)));
  });
  const cfg = JSON.parse(line);
  return {
    ...cfg,
    async queueUser(u) {
      const res = await fetch(`${cfg.control}/users`, {
        method: 'POST',
        body: JSON.stringify({ subject: u.email, email: u.email, name: u.name }),
      });
      assert(res.ok, `queueing ${u.email} at testoidc: got ${res.status}, want 204`);
    },
  };
}

async function startServer(bin, work, oidc) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = {
    PATH: process.env.PATH,
    HOME: work,
    PORT: String(port),
    TASKMIND_LISTEN_ADDR: '127.0.0.1',
    TASKMIND_DATA_DIR: join(work, 'data'),
    TASKMIND_BASE_URL: base,
    TASKMIND_SECRET_KEY: randomBytes(32).toString('hex'),
    TASKMIND_ADMIN_EMAILS: ADMIN.email,
    TASKMIND_OIDC_ISSUER: oidc.issuer,
    TASKMIND_OIDC_CLIENT_ID: oidc.clientId,
    TASKMIND_OIDC_CLIENT_SECRET: oidc.clientSecret,
    TASKMIND_OIDC_NAME: 'Test ID',
    TASKMIND_LOG_FORMAT: 'text',
    ...(process.env.E2E_DATABASE_URL ? { DATABASE_URL: process.env.E2E_DATABASE_URL } : {}),
  };
  mkdirSync(env.TASKMIND_DATA_DIR, { recursive: true });
  const logFile = join(artifacts, 'server.log');
  const out = [];
  const child = spawn(bin, ['serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d) => out.push(d));
  child.stderr.on('data', (d) => out.push(d));
  cleanup.push(async () => {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r() : child.on('exit', r)));
    writeFileSync(logFile, Buffer.concat(out));
  });
  await waitFor(async () => {
    if (child.exitCode !== null) throw new Error(`server exited ${child.exitCode}: ${Buffer.concat(out).toString().slice(-2000)}`);
    return (await fetch(`${base}/readyz`)).ok;
  }, 'the server to be ready');
  return base;
}

async function newContext(browser) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light', locale: 'en-GB', timezoneId: 'UTC' });
  // Nothing may leave this machine: refuse and record any other host.
  await ctx.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if (u.protocol === 'data:' || u.protocol === 'blob:' || u.hostname === '127.0.0.1') return route.continue();
    violations.external.add(route.request().url());
    return route.abort();
  });
  ctx.on('page', (p) => watch(p));
  return ctx;
}

function watch(page) {
  page.on('console', (m) => {
    const t = m.text();
    if (/Content Security Policy|Refused to (load|execute|apply|connect)/i.test(t)) violations.csp.push(t);
  });
  page.on('pageerror', (e) => violations.pageErrors.push(`${page.url()}: ${e.message}`));
  page.on('websocket', (ws) => {
    if (!new URL(ws.url()).hostname.startsWith('127.0.0.1')) violations.external.add(ws.url());
  });
}

async function signIn(page, base, user, oidc) {
  await oidc.queueUser(user);
  await page.goto(`${base}/signin?redirect=%2Fboard`);
  await page.getByRole('link', { name: 'Test ID' }).click();
  await page.waitForURL(`${base}/board`, { timeout: 15000 });
  await page.getByRole('heading', { name: 'Tasks' }).waitFor();
}

let axeSource;
async function audit(page, name, exclude = []) {
  axeSource ??= readFileSync(join(frontend, 'node_modules/axe-core/axe.min.js'), 'utf8');
  // evaluate runs through the DevTools protocol, so the page's CSP still
  // applies to the app while axe is injected.
  await page.evaluate(axeSource);
  const found = await page.evaluate(async (exclude) => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(exclude.length ? { exclude: exclude.map((s) => [s]) } : document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  }, exclude);
  for (const v of found) violations.a11y.push({ page: name, ...v });
}

const VIEWPORTS = [
  { tag: 'desktop', width: 1280, height: 800 },
  { tag: '375', width: 375, height: 812 },
];

async function screenshots(page, name, auditExclude = []) {
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const vp of VIEWPORTS) {
      await page.setViewportSize({ width: vp.width, height: vp.height });
      await page.waitForTimeout(150);
      await page.screenshot({ path: join(shots, `${name}-${scheme}-${vp.tag}.png`), fullPage: true });
      if (vp.tag === '375') {
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert(overflow <= 1, `${name} (${scheme}) scrolls sideways at 375 px by ${overflow} px`);
      }
    }
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 1280, height: 800 });
  await audit(page, name, auditExclude);
}

function findModel() {
  if (process.env.E2E_MODEL_FILE) return process.env.E2E_MODEL_FILE;
  for (const dir of ['models/mnist', 'models', 'internal/inference/testdata']) {
    const d = join(repo, dir);
    if (!existsSync(d)) continue;
    const f = readdirSync(d).find((n) => n.endsWith('.onnx'));
    if (f) return join(d, f);
  }
  return null;
}

async function main() {
  rmSync(artifacts, { recursive: true, force: true });
  mkdirSync(shots, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'taskmind-e2e-'));
  cleanup.push(() => rmSync(work, { recursive: true, force: true }));

  const bin = binary(work);
  const oidc = await startOIDC(work);
  const base = await startServer(bin, work, oidc);
  log(`server at ${base}, OpenID Connect issuer at ${oidc.issuer}`);

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  cleanup.push(() => browser.close());

  const ctx = await newContext(browser);
  const page = await ctx.newPage();
  shotOnFailure = page;
  const title = `E2E task ${randomBytes(3).toString('hex')}`;

  await step('welcome page says Welcome and offers sign-in', async () => {
    await page.goto(base + '/');
    await page.getByRole('heading', { name: 'Welcome to Taskmind' }).waitFor();
    await page.getByRole('link', { name: 'Sign in' }).first().waitFor();
    await screenshots(page, 'welcome');
  });

  await step('sign-in page lists the OpenID Connect provider', async () => {
    await page.goto(base + '/signin');
    await page.getByRole('link', { name: 'Test ID' }).waitFor();
    await screenshots(page, 'signin');
  });

  await step('a protected page sends an anonymous visitor to sign-in', async () => {
    await page.goto(base + '/settings');
    await page.waitForURL(/\/signin\?redirect=%2Fsettings/);
  });

  await step('sign in through the OpenID Connect provider', async () => {
    await signIn(page, base, ADMIN, oidc);
    await page.getByText(ADMIN.name).first().waitFor();
  });

  await step('create, edit, complete a task', async () => {
    const form = page.getByRole('form', { name: 'New task' });
    await form.getByLabel('Title').fill(title);
    await form.getByLabel('Priority').selectOption('HIGH');
    await form.getByRole('button', { name: 'Add task' }).click();
    await page.locator('.title-text', { hasText: title }).waitFor();

    await page.getByRole('button', { name: `Edit ${title}` }).click();
    const edit = page.getByRole('form', { name: `Edit task ${title}` });
    await edit.getByLabel('Title').fill(`${title} (edited)`);
    await edit.getByLabel('Description').fill('Written by the end-to-end suite.');
    await edit.getByRole('button', { name: 'Save' }).click();
    await page.locator('.title-text', { hasText: `${title} (edited)` }).waitFor();

    // The checkbox is controlled by the server's answer, so click and wait.
    await page.getByRole('checkbox', { name: `Done: ${title} (edited)` }).click();
    await waitFor(() => page.getByRole('checkbox', { name: `Done: ${title} (edited)` }).isChecked(), 'the task to be done');
    await page.reload();
    assert(await page.getByRole('checkbox', { name: `Done: ${title} (edited)` }).isChecked(), 'got not done after reload, want done');
  });

  const ctx2 = await newContext(browser);
  const page2 = await ctx2.newPage();
  const live = `Live from another browser ${randomBytes(3).toString('hex')}`;

  await step('a task created in a second browser appears live', async () => {
    await signIn(page2, base, ADMIN, oidc);
    // Wait for the subscription's socket to be acknowledged (graphql-ws
    // connection_ack) so the event cannot be missed.
    const socket = page.waitForEvent('websocket');
    await page.goto(base + '/board');
    const ws = await socket;
    await ws.waitForEvent('framereceived', { predicate: (f) => String(f.payload).includes('connection_ack') });
    await page.waitForTimeout(200); // the subscribe message follows the ack
    const form = page2.getByRole('form', { name: 'New task' });
    await form.getByLabel('Title').fill(live);
    await form.getByRole('button', { name: 'Add task' }).click();
    await page.locator('.title-text', { hasText: live }).waitFor({ timeout: 10000 });
  });

  await step('a stale edit shows the conflict dialog with the newer version', async () => {
    await page.getByRole('button', { name: `Edit ${live}` }).click();
    await page2.reload();
    await page2.getByRole('button', { name: `Edit ${live}` }).click();
    await page2.getByRole('form', { name: `Edit task ${live}` }).getByLabel('Title').fill(`${live} (theirs)`);
    await page2.getByRole('button', { name: 'Save' }).click();
    await page2.locator('.title-text', { hasText: `${live} (theirs)` }).waitFor();

    await page.getByRole('form', { name: `Edit task ${live}` }).getByLabel('Title').fill(`${live} (mine)`);
    await page.getByRole('button', { name: 'Save' }).click();
    const dialog = page.getByRole('dialog', { name: 'This task changed while you were editing' });
    await dialog.waitFor();
    await dialog.getByText(`${live} (theirs)`).waitFor();
    await page.screenshot({ path: join(shots, 'board-conflict-light-desktop.png') });
    await dialog.getByRole('button', { name: 'Save my version' }).click();
    await page.locator('.title-text', { hasText: `${live} (mine)` }).waitFor();
    await page2.locator('.title-text', { hasText: `${live} (mine)` }).waitFor({ timeout: 10000 });
  });

  await step('delete with undo, then delete for good', async () => {
    const name = `${live} (mine)`;
    await page.getByRole('button', { name: `Delete ${name}` }).click();
    await page.getByRole('button', { name: 'Undo' }).click();
    await page.locator('.title-text', { hasText: name }).waitFor();
    await page.getByRole('button', { name: `Delete ${name}` }).click();
    await page.locator('.title-text', { hasText: name }).waitFor({ state: 'detached' });
    await page.waitForTimeout(7000); // the undo window
    await page.reload();
    await page.getByRole('heading', { name: 'Tasks' }).waitFor();
    await page.locator('.task-list, .status.empty').first().waitFor();
    assert((await page.locator('.title-text', { hasText: name }).count()) === 0, 'got the deleted task after reload, want it gone');
  });

  await step('board screenshots', async () => {
    await page.goto(base + '/board');
    await page.locator('.task-list, .status.empty').first().waitFor();
    await screenshots(page, 'board');
  });

  const model = findModel();
  await step('upload a model as admin', async () => {
    assert(model, 'no .onnx file found: set E2E_MODEL_FILE or add one under models/');
    await page.goto(base + '/models');
    const form = page.getByRole('form', { name: 'Upload a model' });
    await form.getByLabel('ONNX file').setInputFiles(model);
    await form.getByLabel('Name').fill('e2e-upload');
    await form.getByLabel('Description').fill('uploaded by the end-to-end suite');
    await form.getByRole('button', { name: 'Upload' }).click();
    const outcome = await firstOf([page.getByText(/Uploaded e2e-upload/), page.getByRole('alert')], 60000);
    assert(outcome === 0, `upload failed: ${await alertText(page)}`);
    await page.getByRole('heading', { name: /e2e-upload/ }).waitFor();
    await screenshots(page, 'models');
  });

  let predicted = false;
  await step('draw a 7 and get 7', async () => {
    await page.goto(base + '/digits');
    const canvas = page.getByRole('img', { name: /Drawing area/ });
    await canvas.waitFor();
    const box = await canvas.boundingBox();
    assert(box, 'the canvas has no box');
    const at = (x, y) => [box.x + x * box.width, box.y + y * box.height];
    await page.mouse.move(...at(0.22, 0.2));
    await page.mouse.down();
    await page.mouse.move(...at(0.78, 0.2), { steps: 12 });
    await page.mouse.move(...at(0.42, 0.85), { steps: 16 });
    await page.mouse.up();
    const outcome = await firstOf([page.getByTestId('predicted-digit'), page.getByRole('alert')], 15000);
    assert(outcome === 0, `prediction failed: ${await alertText(page)}`);
    await waitFor(async () => (await page.getByTestId('predicted-digit').textContent())?.trim().endsWith('7'), 'the prediction 7', 15000);
    predicted = true;
    await screenshots(page, 'digits');
  });

  await step('pick the uploaded model and read the same drawing with it', async () => {
    const picker = page.getByLabel('Model');
    await picker.selectOption('e2e-upload'); // option values are model names
    await page.getByText(/^e2e-upload v/).waitFor({ timeout: 15000 });
    await waitFor(async () => (await page.getByTestId('predicted-digit').textContent())?.trim().endsWith('7'), 'the prediction 7', 15000);
  });

  await step('prediction history lists the prediction', async () => {
    await page.goto(base + '/history');
    await page.getByRole('heading', { name: 'Prediction history' }).waitFor();
    const outcome = await firstOf([page.locator('table.data, .status.empty'), page.getByRole('alert')]);
    assert(outcome === 0, `history failed: ${await alertText(page)}`);
    if (predicted) {
      await page.getByRole('row', { name: /mnist.*7/ }).first().waitFor();
    }
    await screenshots(page, 'history');
  });

  await step('create and revoke an API token', async () => {
    await page.goto(base + '/settings');
    await page.getByLabel('Token name').fill('e2e script');
    await page.getByRole('button', { name: 'Create token' }).click();
    const secret = await page.getByLabel('New token').inputValue();
    assert(secret.length >= 20, `got token ${JSON.stringify(secret)}, want a long secret`);
    const res = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${secret}` },
      body: JSON.stringify({ query: '{ viewer { email } }' }),
    });
    const body = await res.json();
    assert(body.data?.viewer?.email === ADMIN.email, `got ${JSON.stringify(body)} with the new token, want the admin's email`);
    await page.getByRole('button', { name: 'Done' }).click();
    await screenshots(page, 'settings');
    await page.getByRole('button', { name: 'Revoke token e2e script' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke token' }).click();
    await page.getByRole('row', { name: /e2e script/ }).getByText('revoked').waitFor();
    const after = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${secret}` },
      body: JSON.stringify({ query: '{ viewer { email } }' }),
    });
    assert(after.status === 401, `got ${after.status} with a revoked token, want 401`);
  });

  await step('admin page lists users and changes a role', async () => {
    const ctx3 = await newContext(browser);
    const p3 = await ctx3.newPage();
    await signIn(p3, base, MEMBER, oidc);
    await ctx3.close();
    await page.goto(base + '/admin');
    const role = page.getByLabel(`Role of ${MEMBER.email}`);
    await role.selectOption('VIEWER');
    await page.reload();
    await waitFor(async () => (await page.getByLabel(`Role of ${MEMBER.email}`).inputValue()) === 'VIEWER', 'the role to be saved');
    await page.getByRole('button', { name: `Disable ${MEMBER.email}` }).click();
    await page.getByRole('button', { name: `Enable ${MEMBER.email}` }).waitFor();
    await page.reload();
    await page.getByRole('button', { name: `Enable ${MEMBER.email}` }).waitFor();
    await screenshots(page, 'admin');
  });

  await step('the playground runs a query offline with the session', async () => {
    await page.goto(base + '/playground');
    await page.locator('.graphiql-container').waitFor({ timeout: 20000 });
    // GraphiQL fills its editor asynchronously: run only once the query is in.
    await waitFor(async () => (await page.locator('.graphiql-query-editor').innerText()).includes('MyTasks'), 'the default query');
    await page.getByRole('button', { name: /Execute query/ }).click();
    await waitFor(
      async () => (await page.locator('.result-window').innerText()).includes(ADMIN.name),
      'the query result',
      15000,
    );
    await page.getByRole('button', { name: /Documentation Explorer/i }).click();
    await page.getByText('Root Types').waitFor();
    // GraphiQL's own editor (CodeMirror) has known axe findings we cannot
    // fix from outside; the page around it is still audited.
    await screenshots(page, 'playground', ['.graphiql-container']);
  });

  await step('sign out', async () => {
    await page.goto(base + '/board');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(base + '/');
    await page.getByRole('link', { name: 'Sign in' }).first().waitFor();
  });

  await step('no request left 127.0.0.1', () => {
    assert(violations.external.size === 0, `got requests to ${[...violations.external].join(', ')}`);
  });
  await step('no Content-Security-Policy violation', () => {
    assert(violations.csp.length === 0, violations.csp.join('\n'));
  });
  await step('no uncaught error in the page', () => {
    assert(violations.pageErrors.length === 0, violations.pageErrors.join('\n'));
  });
  await step('axe finds no serious or critical accessibility violation', () => {
    const bad = violations.a11y.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    assert(bad.length === 0, bad.map((v) => `${v.page}: ${v.id} (${v.impact}) ${v.help} at ${v.nodes.join(', ')}`).join('\n'));
  });
  writeFileSync(join(artifacts, 'a11y.json'), JSON.stringify(violations.a11y, null, 2));
}

let code = 0;
try {
  await main();
} catch (err) {
  log('e2e set-up failed:', err);
  code = 2;
} finally {
  for (const f of cleanup.reverse()) {
    try {
      await f();
    } catch {
      /* best effort */
    }
  }
}
const failed = results.filter((r) => !r.ok);
log(`\n${results.length - failed.length} passed, ${failed.length} failed; screenshots in ${shots}`);
process.exit(code || (failed.length > 0 ? 1 : 0));
