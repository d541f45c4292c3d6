// Foundation: login and logout, the dashboard, user administration, authorisation, CSRF and
// the phone layout, in headless Chromium against `truongso demo`.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { DEMO_PASSWORD, launchBrowser, login, startServer } from '../lib/harness.mjs';

const SCHOOL_ADMIN = 'admin.thcs';
const DEPT_ADMIN = 'admin.so';
const PARENT = 'phuhuynh.thcs';

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const resultsDir = fileURLToPath(new URL('../test-results/', import.meta.url));

let server;
let browser;

before(async () => {
  server = await startServer({ seed: 1 });
  browser = await launchBrowser();
}, { timeout: 180_000 });

after(async () => {
  await browser?.close();
  await server?.stop();
});

/**
 * Runs `fn(page)` in a fresh browser context (its own cookies, Vietnamese locale). On failure, saves a screenshot
 * and the page's HTML under e2e/test-results/ and adds the end of the server's output to the
 * error.
 */
async function inContext(t, options, fn) {
  // Chromium asks for en-US by default and the server honours Accept-Language; the texts
  // checked here are the Vietnamese ones, as a Vietnamese browser gets them.
  const context = await browser.newContext({ locale: 'vi-VN', ...options });
  const page = await context.newPage();
  page.on('dialog', (dialog) => dialog.accept());
  try {
    await fn(page);
  } catch (err) {
    const name = t.name.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').toLowerCase();
    try {
      await mkdir(resultsDir, { recursive: true });
      await page.screenshot({ path: `${resultsDir}${name}.png`, fullPage: true });
      await writeFile(`${resultsDir}${name}.html`, `<!-- ${page.url()} -->\n${await page.content()}`);
    } catch {
      // the page may be gone; the original error matters more
    }
    const tail = server.output().split('\n').slice(-40).join('\n');
    err.message += `\n(page: ${page.url()}; screenshot in e2e/test-results/${name}.png)\n--- server output (end) ---\n${tail}`;
    throw err;
  } finally {
    await context.close();
  }
}

function pathOf(page) {
  return new URL(page.url()).pathname;
}

async function textOf(page, selector) {
  return (await page.locator(selector).first().innerText()).trim();
}

/** Chooses the first option with a non-empty value unless one is already chosen. */
async function chooseFirstOption(page, selector) {
  const current = await page.locator(selector).inputValue();
  if (current) return current;
  const values = await page.$$eval(`${selector} option`, (os) => os.map((o) => o.value).filter(Boolean));
  assert.ok(values.length > 0, `${selector} offers no choice`);
  await page.selectOption(selector, values[0]);
  return values[0];
}

async function submit(page, buttonSelector) {
  const [response] = await Promise.all([page.waitForNavigation(), page.click(buttonSelector)]);
  return response;
}

test('school administrator: dashboard, create a user, grant a role, disable, log out', { timeout: 240_000 }, async (t) => {
  const suffix = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
  const username = `gv.e2e.${suffix}`;
  const displayName = 'Nguyễn Thị Kiểm Thử';
  const password = 'Matkhau2025';
  let userPath;

  await inContext(t, {}, async (page) => {
    await login(page, server.baseUrl, SCHOOL_ADMIN, DEMO_PASSWORD);
    assert.equal(pathOf(page), '/');
    assert.match(await textOf(page, 'h1'), /Xin chào/);
    assert.ok(await page.locator('nav#main-nav').isVisible(), 'nav#main-nav is visible');

    // The list of users, then the form to create one.
    await page.goto(`${server.baseUrl}/users`);
    await page.locator('#users-table').waitFor();
    await submit(page, 'a#new-user');
    assert.equal(pathOf(page), '/users/new');
    await page.fill('#user-form input[name=username]', username);
    await page.fill('#user-form input[name=display_name]', displayName);
    await page.fill('#user-form input[name=email]', `${username}@example.edu.vn`);
    await page.fill('#user-form input[name=phone]', '0912345678');
    await page.fill('#user-form input[name=password]', password);
    await chooseFirstOption(page, '#user-form select[name=owner_org_id]');
    await submit(page, '#user-form button[type=submit]');

    assert.match(pathOf(page), new RegExp(`^/users/${UUID}$`), `landed on ${page.url()}`);
    userPath = pathOf(page);
    await page.locator('.flash.success').first().waitFor();
    assert.ok((await textOf(page, 'h1')).includes(displayName), 'h1 shows the display name');

    // Grant the librarian role on the school.
    await page.selectOption('#grant-form select[name=role]', 'librarian');
    await chooseFirstOption(page, '#grant-form select[name=org_unit_id]');
    await submit(page, '#grant-form button[type=submit]');
    await page.locator('.flash.success').first().waitFor();
    await page.locator('#grants-table', { hasText: 'Thư viện' }).waitFor();
  });

  // The new user can log in while the account is active.
  await inContext(t, {}, async (page) => {
    await login(page, server.baseUrl, username, password);
    assert.equal(pathOf(page), '/');
    assert.match(await textOf(page, 'h1'), /Xin chào/);
  });

  // The administrator disables the account, then logs out.
  await inContext(t, {}, async (page) => {
    await login(page, server.baseUrl, SCHOOL_ADMIN, DEMO_PASSWORD);
    await page.goto(`${server.baseUrl}${userPath}`);
    // A plain form post (full page) or an htmx swap; a confirm() is accepted by inContext.
    await page.click('#disable-form button[type=submit]');
    await page.locator('#user-status', { hasText: 'Đã vô hiệu hóa' }).waitFor();

    await page.locator('#logout-form button[type=submit]').waitFor();
    await submit(page, '#logout-form button[type=submit]');
    assert.equal(pathOf(page), '/login');
    await page.locator('.flash.info').first().waitFor();
  });

  // A disabled account cannot log in.
  await inContext(t, {}, async (page) => {
    await login(page, server.baseUrl, username, password);
    assert.ok(await page.locator('#login-form').isVisible(), 'still on the login form');
    await page.locator('.flash.error').first().waitFor();
  });
});

test('wrong password: 401 and an error, then the right one works', { timeout: 120_000 }, async (t) => {
  await inContext(t, {}, async (page) => {
    const response = await login(page, server.baseUrl, DEPT_ADMIN, 'Sai-mat-khau-123');
    assert.equal(response?.status(), 401);
    assert.ok(await page.locator('#login-form').isVisible(), 'the login form is shown again');
    assert.match(await textOf(page, '.flash.error'), /không đúng/);

    await login(page, server.baseUrl, DEPT_ADMIN, DEMO_PASSWORD);
    assert.equal(pathOf(page), '/');
    assert.match(await textOf(page, 'h1'), /Xin chào/);
  });
});

test('a parent is refused the user administration page', { timeout: 120_000 }, async (t) => {
  await inContext(t, {}, async (page) => {
    await login(page, server.baseUrl, PARENT, DEMO_PASSWORD);
    assert.equal(pathOf(page), '/');
    const response = await page.goto(`${server.baseUrl}/users`);
    assert.equal(response?.status(), 403);
    assert.match(await textOf(page, 'h1'), /Không có quyền/);
  });
});

test('a form posted without the CSRF token is refused', { timeout: 120_000 }, async (t) => {
  await inContext(t, {}, async (page) => {
    await login(page, server.baseUrl, SCHOOL_ADMIN, DEMO_PASSWORD);
    assert.equal(pathOf(page), '/');
    const response = await page.request.post(`${server.baseUrl}/users`, {
      form: { username: 'x' },
      maxRedirects: 0,
    });
    assert.equal(response.status(), 403);
  });
});

test('phone width (375 px): no horizontal scrolling', { timeout: 120_000 }, async (t) => {
  const phone = { viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
  await inContext(t, phone, async (page) => {
    await login(page, server.baseUrl, SCHOOL_ADMIN, DEMO_PASSWORD);
    assert.equal(pathOf(page), '/');
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 375, `the page is ${width} px wide`);
  });
});
