// A guardian sees only their own child: the dashboard card leads to the child's record, a search
// by name finds only the child, a classmate's record is refused (403), and the menu has no school
// administration entries.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO_PASSWORD, launchBrowser, login, startServer } from '../lib/harness.mjs';
import { fold, hrefs, inContext, menuLabels, pathOf } from '../lib/context.mjs';

const PARENT = 'phuhuynh.thcs';
const CLERK = 'vanthu.thcs';
const LEARNER_PATH = /^\/learners\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

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

/** The learner links of a search on /learners. */
async function search(page, q) {
  const response = await page.goto(`${server.baseUrl}/learners?q=${encodeURIComponent(q)}`);
  assert.equal(response?.status(), 200, `GET /learners?q=${q}`);
  return hrefs(page, '#learner-results a');
}

test('a guardian sees only their own child', { timeout: 90_000 }, async () => {
  // The parent: dashboard card -> the child's record.
  const child = await inContext(browser, server, 'guardian-child', async (page) => {
    await login(page, server.baseUrl, PARENT, DEMO_PASSWORD);
    assert.equal(pathOf(page), '/');
    const cardLinks = page.locator('.cards .card a[href^="/learners/"]');
    assert.equal(await cardLinks.count(), 1, 'the dashboard has one card link to a learner');
    const cardText = (await cardLinks.innerText()).trim();
    await Promise.all([page.waitForURL(/\/learners\/[0-9a-f-]{36}$/), cardLinks.click()]);
    const path = pathOf(page);
    assert.match(path, LEARNER_PATH);
    const name = (await page.locator('h1').innerText()).trim();
    assert.ok(name.split(/\s+/).length >= 2, `the record shows the child's full name, got "${name}"`);
    assert.ok(cardText.includes(name), `the card ("${cardText}") names the child ("${name}")`);
    await page.locator('dl.facts').waitFor();
    return { path, name };
  });

  // The clerk: the child's class and a classmate, and how many learners share the search words.
  const { classmate, clerkSurnameHits, clerkNguyenHits } = await inContext(browser, server, 'guardian-clerk', async (page) => {
    await login(page, server.baseUrl, CLERK, DEMO_PASSWORD);
    await page.goto(`${server.baseUrl}/classes`);
    const classPaths = await hrefs(page, '#class-list a[href^="/classes/"]');
    assert.ok(classPaths.length > 0, 'the clerk sees the classes of the school');
    let roster = null;
    for (const classPath of classPaths) {
      await page.goto(`${server.baseUrl}${classPath}`);
      const links = await hrefs(page, '#roster a');
      if (links.includes(child.path)) {
        roster = links;
        break;
      }
    }
    assert.ok(roster, `some class roster lists the child ${child.path}`);
    const others = roster.filter((p) => p !== child.path);
    assert.ok(others.length > 0, 'the child has classmates');
    const surname = fold(child.name.split(/\s+/)[0]);
    return {
      classmate: others[0],
      clerkSurnameHits: (await search(page, surname)).length,
      clerkNguyenHits: (await search(page, 'nguyen')).length,
    };
  });
  // The searches below only mean something if the school has other learners matching them.
  assert.ok(clerkSurnameHits > 1, `the clerk finds several learners named like the child (${clerkSurnameHits})`);
  assert.ok(clerkNguyenHits > 1, `the clerk finds several learners named Nguyễn (${clerkNguyenHits})`);

  await inContext(browser, server, 'guardian-scope', async (page) => {
    await login(page, server.baseUrl, PARENT, DEMO_PASSWORD);

    // The menu: no school administration.
    const labels = await menuLabels(page);
    assert.ok(labels.includes('Trang chủ'), `menu: ${labels.join(', ')}`);
    for (const forbidden of ['Nhập/xuất Excel', 'Cán bộ, giáo viên', 'Tài khoản', 'Nhật ký']) {
      assert.ok(!labels.includes(forbidden), `the parent's menu has no "${forbidden}" (menu: ${labels.join(', ')})`);
    }
    const menuPaths = await hrefs(page, 'nav#main-nav a');
    for (const p of ['/import', '/staff', '/users', '/audit']) {
      assert.ok(!menuPaths.includes(p), `no menu link to ${p}`);
    }

    // The child's record opens.
    let response = await page.goto(`${server.baseUrl}${child.path}`);
    assert.equal(response?.status(), 200);
    assert.equal((await page.locator('h1').innerText()).trim(), child.name);

    // Searches find the child at most.
    for (const q of ['nguyen', fold(child.name.split(/\s+/)[0]), fold(child.name)]) {
      const found = await search(page, q);
      assert.ok(found.length <= 1, `"${q}": at most one result, got ${found.join(', ')}`);
      for (const p of found) assert.equal(p, child.path, `"${q}": every result is the child's own record`);
    }
    const own = await search(page, fold(child.name));
    assert.deepEqual(own, [child.path], 'the child is found by full name without diacritics');
    assert.deepEqual(await page.locator('#learner-results a').allInnerTexts(), [child.name]);

    // A classmate's record: refused, in Vietnamese.
    response = await page.goto(`${server.baseUrl}${classmate}`);
    assert.equal(response?.status(), 403, `GET ${classmate} as the parent`);
    assert.equal((await page.locator('h1').innerText()).trim(), 'Không có quyền truy cập');
    assert.equal(await page.locator('dl.facts').count(), 0, 'no learner facts on the refusal page');

    // Nor the school's import page.
    response = await page.goto(`${server.baseUrl}/import`);
    assert.equal(response?.status(), 403, 'GET /import as the parent');
    assert.equal((await page.locator('h1').innerText()).trim(), 'Không có quyền truy cập');
  });
});
