// Reporting statistics up the tree: a ward office opens an end-of-year period; a school explains
// its data-quality errors (the last one in the page) and submits; the office returns it with a
// comment, the school resubmits, the office approves; the office's totals are the school's
// frozen figures, and the ward's form equals the sum of its schools' forms.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO_PASSWORD, launchBrowser, login, startServer } from '../lib/harness.mjs';
import { inContext, pathOf } from '../lib/context.mjs';

const OFFICE = 'chuyenvien.xa';
const SCHOOL = 'hieutruong.thcs';
const PERIOD_PATH = /^\/stats\/periods\/([0-9a-f-]{36})$/;
const SCHOOL_PATH = /^\/stats\/periods\/([0-9a-f-]{36})\/schools\/([0-9a-f-]{36})$/;

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

/** "1.234" (Vietnamese grouping) -> 1234; an empty cell -> null. */
function number(text) {
  const t = text.trim().replace(/\./g, '');
  return t === '' ? null : Number(t);
}

/** The cells of row `row` of the first table of form `formId` on the page. */
async function rowCells(page, formId, row) {
  const cells = page.locator(`table.stats-table[data-form="${formId}"]`).first().locator(`tr[data-row="${row}"] td.num`);
  return (await cells.allInnerTexts()).map(number);
}

async function flash(page) {
  return (await page.locator('.flash').first().innerText()).trim();
}

async function click(page, locator) {
  await Promise.all([page.waitForNavigation(), locator.click()]);
}

test('a period from opening to approval, and the ward form is the sum of its schools', { timeout: 240_000 }, async () => {
  // The ward office opens the end-of-year period; the same period twice is refused.
  const periodPath = await inContext(browser, server, 'stats-office-open', async (page) => {
    await login(page, server.baseUrl, OFFICE, DEMO_PASSWORD);
    await page.goto(`${server.baseUrl}/stats`);
    const before = await page.locator('#stats-periods tbody tr').count();
    const form = page.locator('#open-period form');
    await form.locator('select[name=round]').selectOption('end_of_year');
    await form.locator('input[name=start_year]').fill('2026');
    await form.locator('input[name=deadline]').fill('2027-06-10');
    await click(page, form.locator('button[type=submit]'));
    assert.match(pathOf(page), PERIOD_PATH);
    assert.match(await flash(page), /Đã mở kỳ báo cáo/);
    assert.match(await page.locator('h1').innerText(), /Thống kê cuối năm học 2026-2027/);
    const rows = await page.locator('#period-schools tbody tr').count();
    assert.ok(rows >= 2, 'the ward has several schools');
    assert.equal(Number(await page.locator('#count-draft').innerText()), rows);
    const path = pathOf(page);

    await page.goto(`${server.baseUrl}/stats`);
    await form.locator('select[name=round]').selectOption('end_of_year');
    await form.locator('input[name=start_year]').fill('2026');
    const [response] = await Promise.all([page.waitForNavigation(), form.locator('button[type=submit]').click()]);
    assert.equal(response.status(), 409);
    assert.match(await flash(page), /Đã có một kỳ báo cáo cùng đợt/);
    await page.goto(`${server.baseUrl}/stats`);
    assert.equal(await page.locator('#stats-periods tbody tr').count(), before + 1, 'one period more, not two');
    return path;
  });

  // The school: every error but one explained beforehand (API), the last one in the page.
  const { schoolPath, snapshotCells, formId } = await inContext(browser, server, 'stats-school-submit', async (page) => {
    await login(page, server.baseUrl, SCHOOL, DEMO_PASSWORD);
    await page.goto(`${server.baseUrl}/stats`);
    const link = page.locator(`#stats-periods a[href^="${periodPath}/schools/"]`);
    assert.equal(await link.count(), 1, 'the school sees the new period');
    await click(page, link);
    assert.match(pathOf(page), SCHOOL_PATH);
    const schoolPath = pathOf(page);
    assert.equal((await page.locator('#submission-status').innerText()).trim(), 'Chưa nộp');
    const issues = page.locator('#stats-issues > li');
    const n = await issues.count();
    assert.ok(n >= 1, 'the demo school has data-quality errors');
    const list = await issues.evaluateAll((lis) => lis.map((li) => ({ rule: li.dataset.rule, entity_id: li.dataset.entity })));
    const status = await page.evaluate(async ({ path, items }) => {
      const csrf = document.querySelector('input[name=_csrf]').value;
      const out = [];
      for (const it of items) {
        const r = await fetch(`/api/v1${path}/explanations`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
          body: JSON.stringify({ ...it, text: 'Học sinh mới chuyển đến, đang chờ cấp mã định danh.' }),
        });
        out.push(r.status);
      }
      return out;
    }, { path: schoolPath, items: list.slice(1) });
    assert.ok(status.every((s) => s === 200), `explanations saved: ${status}`);
    await page.reload();

    // One left: the submission is refused with the count, nothing changes.
    await click(page, page.locator('#submit-form button'));
    assert.match(await flash(page), /Còn 1 lỗi dữ liệu chưa được sửa hoặc giải trình/);
    assert.equal((await page.locator('#submission-status').innerText()).trim(), 'Chưa nộp');

    const first = page.locator('#stats-issues > li').first();
    await first.locator('input[name=text]').fill('Học sinh khuyết tật, học lớp dưới độ tuổi theo kế hoạch giáo dục cá nhân.');
    await click(page, first.locator('form.explain button'));
    assert.equal(await flash(page), 'Đã lưu giải trình.');
    await click(page, page.locator('#submit-form button'));
    assert.equal(await flash(page), 'Đã nộp báo cáo.');
    assert.equal((await page.locator('#submission-status').innerText()).trim(), 'Đã nộp, chờ duyệt');
    assert.equal(await page.locator('#submit-form').count(), 0, 'no second submission');
    const formId = await page.locator('table.stats-table').first().getAttribute('data-form');
    return { schoolPath, snapshotCells: await rowCells(page, formId, '1'), formId };
  });
  assert.ok(snapshotCells[0] > 0, 'the school reports pupils on row 1');

  // The office returns it: a comment is required.
  const comment = 'Đề nghị kiểm tra lại số học sinh lưu ban của khối 9.';
  await inContext(browser, server, 'stats-office-return', async (page) => {
    await login(page, server.baseUrl, OFFICE, DEMO_PASSWORD);
    await page.goto(`${server.baseUrl}${periodPath}`);
    const row = page.locator(`#period-schools tr:has(a[href="${schoolPath}"])`);
    assert.equal(await row.getAttribute('data-status'), 'submitted');
    await click(page, row.locator('a'));
    await click(page, page.locator('#decide-form button[value=return]'));
    assert.match(await page.locator('.field-error, .flash').first().innerText(), /Khi trả lại báo cáo, hãy ghi rõ/);
    await page.locator('#decide-form textarea[name=comment]').fill(comment);
    await click(page, page.locator('#decide-form button[value=return]'));
    assert.equal(await flash(page), 'Đã trả lại báo cáo cho trường.');
    assert.equal((await page.locator('#submission-status').innerText()).trim(), 'Bị trả lại');
  });

  // The school sees why and resubmits; its explanations are kept.
  await inContext(browser, server, 'stats-school-resubmit', async (page) => {
    await login(page, server.baseUrl, SCHOOL, DEMO_PASSWORD);
    await page.goto(`${server.baseUrl}${schoolPath}`);
    assert.match(await page.locator('#return-comment').innerText(), new RegExp(comment.replace(/\./g, '\\.')));
    await click(page, page.locator('#submit-form button'));
    assert.equal(await flash(page), 'Đã nộp báo cáo.');
    assert.equal((await page.locator('#submission-status').innerText()).trim(), 'Đã nộp, chờ duyệt');
  });

  // The office approves; its totals are the school's frozen figures; the ward form is the sum of its schools.
  await inContext(browser, server, 'stats-office-approve', async (page) => {
    await login(page, server.baseUrl, OFFICE, DEMO_PASSWORD);
    await page.goto(`${server.baseUrl}${schoolPath}`);
    await click(page, page.locator('#decide-form button[value=approve]'));
    assert.equal(await flash(page), 'Đã duyệt báo cáo.');
    assert.equal((await page.locator('#submission-status').innerText()).trim(), 'Đã duyệt');
    await page.goto(`${server.baseUrl}${periodPath}`);
    assert.equal(await page.locator('#count-approved').innerText(), '1');
    assert.deepEqual(await rowCells(page, formId, '1'), snapshotCells, 'received totals = the approved snapshot');

    // Ward form = sum of the schools' forms, cell by cell on row 1 of every form.
    const schools = await page.$$eval('#period-schools a', (as) => as.map((a) => a.getAttribute('href').split('/').pop()));
    const q = 'round=end_of_year&year=2026';
    await page.goto(`${server.baseUrl}/stats/forms?${q}`);
    const tabs = await page.$$eval('nav.tabs a', (as) => as.map((a) => new URL(a.href).searchParams.get('form')));
    assert.ok(tabs.includes(formId));
    for (const form of tabs) {
      await page.goto(`${server.baseUrl}/stats/forms?${q}&form=${encodeURIComponent(form)}`);
      const ward = await rowCells(page, form, '1');
      const sum = ward.map(() => 0);
      for (const school of schools) {
        const r = await page.goto(`${server.baseUrl}/stats/forms?unit=${school}&${q}&form=${encodeURIComponent(form)}`);
        assert.equal(r.status(), 200);
        if ((await page.locator(`table.stats-table[data-form="${form}"]`).count()) === 0) continue; // not the school's level
        (await rowCells(page, form, '1')).forEach((v, i) => { sum[i] += v ?? 0; });
      }
      assert.deepEqual(ward.map((v) => v ?? 0), sum, `form ${form}, row 1: ward = Σ schools`);
    }

    // A cell opens the records behind it, as many as it says.
    await page.goto(`${server.baseUrl}/stats/forms?${q}&form=${encodeURIComponent(formId)}`);
    const cell = page.locator(`table.stats-table[data-form="${formId}"] tr[data-row="1"] td.num a`).first();
    const value = number(await cell.innerText());
    await click(page, cell);
    assert.equal(pathOf(page), '/stats/forms/trace');
    assert.equal(number(await page.locator('#trace-value').innerText()), value);
    assert.equal(await page.locator('#trace-records tbody tr').count(), Math.min(value, 1000));
  });
});
