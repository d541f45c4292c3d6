// Helpers for the browser tests: a throw-away demo server, a headless Chromium, a login.
//
// Environment:
//   TRUONGSO_BIN  the truongso binary (default: <repo>/target/debug/truongso)
//   CHROMIUM      the Chromium executable (default: /usr/bin/chromium)

import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

/** Password of every demo account. */
export const DEMO_PASSWORD = 'Demo@2025';

const READY_TIMEOUT_MS = 120_000;
const READY_POLL_MS = 200;
const STOP_GRACE_MS = 5_000;
const MAX_OUTPUT_CHARS = 200_000;

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

function serverBinary() {
  return process.env.TRUONGSO_BIN || join(repoRoot, 'target', 'debug', 'truongso');
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts `truongso demo` on a fresh database in a temporary directory and waits until
 * GET /readyz answers 200.
 *
 * @returns {Promise<{ baseUrl: string, stop: () => Promise<void>, output: () => string }>}
 */
export async function startServer({ seed = 1 } = {}) {
  const bin = serverBinary();
  const dir = await mkdtemp(join(tmpdir(), 'truongso-e2e-'));
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const args = ['demo', '--db', join(dir, 'demo.db'), '--bind', `127.0.0.1:${port}`, '--seed', String(seed)];

  let out = '';
  const collect = (chunk) => {
    out += chunk.toString();
    if (out.length > MAX_OUTPUT_CHARS) out = out.slice(-MAX_OUTPUT_CHARS);
  };

  const child = spawn(bin, args, {
    cwd: dir,
    env: { RUST_BACKTRACE: '1', ...process.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);

  let exited = null; // { code, signal } once the process has ended
  const exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    });
    child.on('error', (err) => {
      collect(`\n[harness] could not start ${bin}: ${err.message}\n`);
      exited = { code: null, signal: null, error: err };
      resolve(exited);
    });
  });

  // Never leave a server behind if the test process exits without calling stop().
  const killOnExit = () => {
    if (!exited) child.kill('SIGKILL');
  };
  process.on('exit', killOnExit);

  let stopped = false;
  async function stop() {
    if (stopped) return;
    stopped = true;
    process.off('exit', killOnExit);
    if (!exited) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (!exited) child.kill('SIGKILL');
      }, STOP_GRACE_MS);
      await exitPromise;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  }

  const describe = () =>
    `command: ${bin} ${args.join(' ')}\ncwd: ${dir}\n--- server output ---\n${out}\n--- end of server output ---`;

  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastProblem = 'no answer yet';
  for (;;) {
    if (exited) {
      const how = exited.error ? exited.error.message : `exit code ${exited.code}, signal ${exited.signal}`;
      const msg = `truongso demo ended before it was ready (${how})\n${describe()}`;
      await stop();
      throw new Error(msg);
    }
    try {
      const res = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(2_000) });
      if (res.status === 200) break;
      lastProblem = `GET /readyz answered ${res.status}`;
    } catch (err) {
      lastProblem = `GET /readyz failed: ${err.cause?.code || err.message}`;
    }
    if (Date.now() > deadline) {
      const msg = `truongso demo was not ready within ${READY_TIMEOUT_MS / 1000} s (${lastProblem})\n${describe()}`;
      await stop();
      throw new Error(msg);
    }
    await sleep(READY_POLL_MS);
  }

  return { baseUrl, stop, output: () => out };
}

/** Headless Debian Chromium; never a browser downloaded by Playwright. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * Logs in through the login form and waits for the page that follows.
 *
 * @returns the response of the navigation that the form submission caused (the dashboard
 *   after a redirect, or the re-rendered login page with its error status).
 */
export async function login(page, baseUrl, username, password) {
  await page.goto(`${baseUrl}/login`);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', password);
  const [response] = await Promise.all([
    page.waitForNavigation(),
    page.click('#login-form button[type=submit]'),
  ]);
  return response;
}
