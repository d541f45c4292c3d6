// Học bạ số signed in the browser, on the demo: the demo leaves one class of 2025-2026 opened
// and unsigned, with the homeroom-teacher login (gvcn.thcs) as its teacher of record. The
// homeroom teacher finds it under "Lớp tôi chủ nhiệm", signs the whole class with "Ký tất cả"
// and the class waits for the principal; the principal opens the same class, signs and seals
// everything with one "Ký tất cả", every learner reads "Đã phát hành", and the issued PDF and
// its log proof download from the document's page.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { DEMO_PASSWORD, launchBrowser, login, startServer } from '../lib/harness.mjs';
import { inContext, pathOf } from '../lib/context.mjs';

const GVCN = 'gvcn.thcs';
const PRINCIPAL = 'hieutruong.thcs';
const CLASS_PATH = /^\/hoc-ba\/lop\/[0-9a-f-]{36}$/;

let server;
let browser;
/** The class page of the opened class, and how many learners it has. */
let classUrl;
let learners;

before(async () => {
  server = await startServer({ seed: 1 });
  browser = await launchBrowser();
}, { timeout: 180_000 });

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** The `data-state` of every row of the class table. */
const states = (page) => page.$$eval('#class-docs tbody tr', (rows) => rows.map((r) => r.dataset.state));

/** Submits a form by clicking `selector` and waits for the page the redirect lands on. */
async function submit(page, selector) {
  const [response] = await Promise.all([page.waitForNavigation(), page.click(selector)]);
  return response;
}

const flash = (page) => page.locator('main .flash').first().innerText();

test('the homeroom teacher signs the whole class with "Ký tất cả"', { timeout: 120_000 }, async () => {
  await inContext(browser, server, 'hocba-gvcn', async (page) => {
    await login(page, server.baseUrl, GVCN, DEMO_PASSWORD);
    // The menu leads to the records.
    await submit(page, 'nav#main-nav a[href="/hoc-ba"]');
    assert.equal(pathOf(page), '/hoc-ba');
    const link = page.locator('#my-classes a').first();
    assert.ok(await link.count(), 'the class the demo opened is listed under "Lớp tôi chủ nhiệm"');
    await submit(page, '#my-classes a >> nth=0');
    assert.match(pathOf(page), CLASS_PATH);
    classUrl = page.url();

    const before = await states(page);
    learners = before.length;
    assert.ok(learners > 0, 'the class has learners');
    assert.deepEqual(new Set(before), new Set(['awaiting_gvcn']), `every record waits for the GVCN: ${before}`);
    // One "Ký" button per record, and the certificate is there (no warning).
    assert.equal(await page.locator('#class-docs button.sign-one').count(), learners);
    assert.equal(await page.locator('.missing-identity').count(), 0);

    const response = await submit(page, '#sign-all');
    assert.equal(response?.status(), 200);
    assert.equal(await flash(page), `Đã thực hiện ${learners} chữ ký; 0 học bạ đã phát hành.`);
    const after = await states(page);
    assert.deepEqual(new Set(after), new Set(['awaiting_hieu_truong']), `${after}`);
    assert.equal(await page.locator('#sign-all').count(), 0, 'nothing is left for the GVCN');
    // The next signer is named on every row.
    const next = await page.$$eval('#class-docs tbody tr td:nth-child(4)', (tds) => tds.map((t) => t.textContent.trim()));
    assert.deepEqual(new Set(next), new Set(['hiệu trưởng']));
  });
});

test('the principal signs and seals the class, which is issued, and downloads a PDF', { timeout: 180_000 }, async () => {
  assert.ok(classUrl, 'the homeroom teacher signed first');
  await inContext(browser, server, 'hocba-principal', async (page) => {
    await login(page, server.baseUrl, PRINCIPAL, DEMO_PASSWORD);
    // The school's overview lists the class with its records waiting for the principal.
    await page.goto(`${server.baseUrl}/hoc-ba`);
    const classId = new URL(classUrl).pathname.split('/').pop();
    const row = page.locator(`#class-statuses tr[data-class="${classId}"]`);
    assert.equal(await row.count(), 1, 'the class is in the school overview');
    // Columns: class, with results, then one per status (not opened, GVCN, HT, seal, issued, revoked).
    const cells = await row.locator('td.num').allInnerTexts();
    assert.equal(cells[0], String(learners));
    assert.equal(cells[3], String(learners), `awaiting the principal: ${cells}`);

    await page.goto(classUrl);
    assert.equal(await page.locator('#class-docs button.sign-one').count(), learners);
    const response = await submit(page, '#sign-all');
    assert.equal(response?.status(), 200);
    assert.equal(await flash(page), `Đã thực hiện ${2 * learners} chữ ký; ${learners} học bạ đã phát hành.`);
    const after = await states(page);
    assert.deepEqual(new Set(after), new Set(['issued']), `${after}`);
    const labels = await page.$$eval('#class-docs td.status', (tds) => tds.map((t) => t.textContent.trim()));
    assert.deepEqual(new Set(labels), new Set(['Đã phát hành']));

    // A document's page: issued, three signatures in order, a log position, and downloads.
    await submit(page, '#class-docs tbody tr th a >> nth=0');
    assert.match(pathOf(page), /^\/van-ban\/HB-[0-9A-Z]{16}$/);
    assert.equal((await page.locator('#doc-status').innerText()).trim(), 'Đã phát hành');
    const roles = await page.$$eval('#signatures tbody tr td:first-child', (tds) => tds.map((t) => t.textContent.trim()));
    assert.deepEqual(roles, ['giáo viên chủ nhiệm', 'hiệu trưởng', 'đơn vị (con dấu)']);
    assert.match((await page.locator('#log-leaf').innerText()).trim(), /^\d+$/);

    const [pdf] = await Promise.all([page.waitForEvent('download'), page.click('#download-pdf')]);
    const docId = pathOf(page).split('/').pop();
    assert.equal(pdf.suggestedFilename(), `${docId}.pdf`);
    const bytes = await readFile(await pdf.path());
    assert.equal(bytes.subarray(0, 5).toString(), '%PDF-');
    assert.ok(bytes.length > 10_000, `a real PDF (${bytes.length} bytes)`);
    // Three signatures: three incremental revisions, each ending with %%EOF.
    assert.ok(bytes.toString('latin1').split('%%EOF').length - 1 >= 4, 'the original and three signed revisions');

    const [proof] = await Promise.all([page.waitForEvent('download'), page.click('#download-proof')]);
    assert.equal(proof.suggestedFilename(), `${docId}.tlog-proof`);
    const text = (await readFile(await proof.path())).toString();
    assert.match(text, /^c2sp\.org\/tlog-proof@v1\n(extra \S+\n)?index \d+\n/);
  });
});
