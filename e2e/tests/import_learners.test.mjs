// A clerk imports learners from the downloaded template: one row has an identity number whose
// first three digits are no province code, so the whole file is refused with an error naming
// sheet, row and column; nothing is written; after the fix the three learners are imported, can be
// found by name without diacritics, and a third upload of the same file changes nothing.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import ExcelJS from 'exceljs';
import { DEMO_PASSWORD, launchBrowser, login, startServer } from '../lib/harness.mjs';
import { fold, inContext, pathOf } from '../lib/context.mjs';

const CLERK = 'vanthu.thcs';
const SHEET = 'HocSinh';

// Today is in the school year whose grade 6 was born in (year - 11) or so; the importer does not
// check ages against grades, and 6A1 and 7A1 exist in the demo's current year.
const LEARNERS = [
  {
    full_name: 'Quách Văn Đạt',
    date_of_birth: '14/02/2015',
    sex: 'Nam',
    class_name: '6A1',
    mother_name: 'Lương Thị Huệ',
    mother_phone: '0912004517',
  },
  {
    full_name: 'Lương Thị Diễm Quỳnh',
    date_of_birth: '03/11/2015',
    sex: 'Nữ',
    class_name: '6A1',
    mother_name: 'Tạ Thị Yến',
    mother_phone: '0389004521',
  },
  {
    // The bad row: third data row, so row 4 of the sheet.
    full_name: 'Tạ Quang Khải',
    date_of_birth: '21/08/2014',
    sex: 'Nam',
    class_name: '7A1',
    cccd: '999214000333', // 999 is no province code
    mother_name: 'Đinh Thị Thu Hường',
    mother_phone: '0978004533',
  },
];
// Tuyên Quang (008), male born 2000-2099 (2), born 2014 (14).
const FIXED_CCCD = '008214000333';
const BAD_ROW = 4;

const COLUMNS = {
  full_name: 'Họ và tên',
  date_of_birth: 'Ngày sinh (dd/mm/yyyy)',
  sex: 'Giới tính',
  cccd: 'Số định danh cá nhân',
  class_name: 'Lớp',
  mother_name: 'Họ tên mẹ',
  mother_phone: 'Điện thoại mẹ',
};

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

function columnLetter(n) {
  let s = '';
  for (; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}

/** The column numbers of the template's header row, by key; the header row itself is kept as is. */
function headerColumns(sheet) {
  const found = {};
  const headers = [];
  sheet.getRow(1).eachCell((cell, col) => {
    const text = String(cell.value ?? '').trim();
    headers.push(text);
    for (const [key, header] of Object.entries(COLUMNS)) {
      if (text === header || text === `${header} *`) found[key] = col;
    }
  });
  for (const key of Object.keys(COLUMNS)) {
    assert.ok(found[key], `the template's header row has a column "${COLUMNS[key]}" (it has: ${headers.join(' | ')})`);
  }
  return found;
}

/** The template with the learners filled in; every value is a text cell (leading zeros stay). */
async function filledTemplate(template, learners) {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(template);
  const sheet = wb.getWorksheet(SHEET);
  assert.ok(sheet, `the template has a sheet ${SHEET} (it has: ${wb.worksheets.map((w) => w.name).join(', ')})`);
  const cols = headerColumns(sheet);
  learners.forEach((learner, i) => {
    const row = sheet.getRow(2 + i);
    for (const [key, value] of Object.entries(learner)) {
      const cell = row.getCell(cols[key]);
      cell.numFmt = '@';
      cell.value = String(value);
    }
    row.commit();
  });
  return { bytes: Buffer.from(await wb.xlsx.writeBuffer()), cols };
}

/**
 * Uploads the file through the card's form and waits for the job's outcome in #job-learners.
 * Returns the locator of the outcome and whether the first answer was the progress bar.
 */
async function upload(page, card, name, bytes, outcome) {
  const job = card.locator('#job-learners');
  // The job fragment replaces itself while it polls: remember whether a progress bar showed.
  await page.evaluate(() => {
    const box = document.querySelector('#job-learners');
    window.__sawProgress = false;
    box.innerHTML = '';
    new MutationObserver(() => {
      if (box.querySelector('progress')) window.__sawProgress = true;
    }).observe(box, { childList: true, subtree: true });
  });
  await card.locator('input[type=file][name=file]').setInputFiles({
    name,
    mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    buffer: bytes,
  });
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/import/learners'),
    card.locator('button[type=submit]').click(),
  ]);
  assert.equal(response.status(), 200, `POST /import/learners answered ${response.status()}`);
  const first = await response.text();
  assert.match(first, /class="job/, 'the upload answers with the job fragment');
  const result = job.locator(outcome);
  await result.waitFor({ timeout: 30_000 });
  const sawProgress = /<progress/.test(first) || (await page.evaluate(() => window.__sawProgress));
  return { result, sawProgress };
}

async function searchLearners(page, q) {
  await page.goto(`${server.baseUrl}/learners?q=${encodeURIComponent(q)}`);
  const results = page.locator('#learner-results a');
  return { names: await results.allInnerTexts(), hrefs: await results.evaluateAll((as) => as.map((a) => a.getAttribute('href'))) };
}

test('clerk imports learners: error list with sheet, row, column; nothing written; fix; import; re-import unchanged', { timeout: 90_000 }, async (t) => {
  await inContext(browser, server, 'import-learners', async (page) => {
    await login(page, server.baseUrl, CLERK, DEMO_PASSWORD);
    assert.equal(pathOf(page), '/');

    // The menu leads to the import page.
    const entry = page.locator('nav#main-nav a[href="/import"]');
    assert.equal((await entry.innerText()).trim(), 'Nhập/xuất Excel');
    await Promise.all([page.waitForURL(`${server.baseUrl}/import`), entry.click()]);
    assert.equal((await page.locator('h1').innerText()).trim(), 'Nhập dữ liệu từ Excel');
    const card = page.locator('section.card#import-learners');
    assert.equal((await card.locator('h2').innerText()).trim(), 'Học sinh');

    // The blank template, as the browser downloads it.
    const link = card.locator('a[href="/import/templates/learners.xlsx"]');
    assert.equal((await link.innerText()).trim(), 'Tải tệp mẫu');
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    assert.match(download.suggestedFilename(), /\.xlsx$/);
    const template = await readFile(await download.path());
    assert.equal(template.subarray(0, 2).toString(), 'PK', 'the template is a zip (xlsx)');

    // Three learners; the third has an identity number with no province code.
    const { bytes: bad, cols } = await filledTemplate(template, LEARNERS);
    const cccdLetter = columnLetter(cols.cccd);

    let { result, sawProgress } = await upload(page, card, 'hoc-sinh.xlsx', bad, '.import-errors');
    t.diagnostic(`first upload: progress bar shown before the errors: ${sawProgress}`);
    const errorsText = await result.innerText();
    assert.match(errorsText, /Tệp chưa được nhập vì có lỗi\. Không có dữ liệu nào được ghi\./);
    const items = await result.locator('li').allInnerTexts();
    assert.equal(items.length, 1, `exactly one error (the bad row), got:\n${items.join('\n')}`);
    assert.match(
      items[0],
      new RegExp(`^Trang ${SHEET}, dòng ${BAD_ROW}, cột ${cccdLetter} \\(Số định danh cá nhân\\): .*mã tỉnh`),
      `the error names sheet, row and column: ${items[0]}`,
    );

    // Nothing was written: not even the two good rows.
    for (const learner of LEARNERS) {
      const found = await searchLearners(page, fold(learner.full_name));
      assert.deepEqual(found.names, [], `${learner.full_name} is not in the school after the refused file`);
      await page.getByText('Không tìm thấy học sinh nào trong phạm vi của bạn.').waitFor();
    }

    // Fix the identity number and upload again.
    const fixed = LEARNERS.map((l) => (l.cccd ? { ...l, cccd: FIXED_CCCD } : l));
    const { bytes: good } = await filledTemplate(template, fixed);
    await page.goto(`${server.baseUrl}/import`);
    ({ result, sawProgress } = await upload(page, card, 'hoc-sinh.xlsx', good, '.job[role=status]'));
    t.diagnostic(`second upload: progress bar shown before the report: ${sawProgress}`);
    assert.match(
      await result.innerText(),
      /^Đã nhập xong: 3 bản ghi mới, 0 bản ghi cập nhật, 0 bản ghi không đổi\.$/,
    );
    assert.equal(await card.locator('.import-errors').count(), 0, 'no error list after the fix');

    // Found by name without diacritics, shown with them; the record shows the fixed number.
    for (const learner of fixed) {
      const found = await searchLearners(page, fold(learner.full_name));
      assert.deepEqual(found.names, [learner.full_name], `searching "${fold(learner.full_name)}"`);
    }
    const khai = fixed[2];
    const found = await searchLearners(page, fold(khai.full_name));
    await Promise.all([page.waitForURL(/\/learners\/[0-9a-f-]{36}$/), page.locator('#learner-results a').first().click()]);
    assert.equal(pathOf(page), found.hrefs[0]);
    assert.equal((await page.locator('h1').innerText()).trim(), khai.full_name);
    assert.equal((await page.locator('#learner-cccd').innerText()).trim(), FIXED_CCCD, 'the clerk sees the full identity number, leading zeros kept');
    await page.locator('dl.facts', { hasText: '21/08/2014' }).waitFor();

    // The same file once more: nothing new, nothing changed.
    await page.goto(`${server.baseUrl}/import`);
    ({ result } = await upload(page, card, 'hoc-sinh.xlsx', good, '.job[role=status]'));
    assert.match(
      await result.innerText(),
      /^Đã nhập xong: 0 bản ghi mới, 0 bản ghi cập nhật, 3 bản ghi không đổi\.$/,
    );
    const again = await searchLearners(page, fold(LEARNERS[0].full_name));
    assert.deepEqual(again.names, [LEARNERS[0].full_name], 'no duplicate after the third upload');
  });
});
