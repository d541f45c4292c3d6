// The electronic gradebook in the browser: a subject teacher enters marks with the keyboard only
// (Enter and arrow keys, "7,5" accepted and shown as 7.5, an invalid mark flagged and not saved),
// pastes a column copied from Excel, the autosave keeps everything across a reload, and a full
// row gives the TT 22 worked example's average 7.7. Then the principal locks term 1, the sheet
// turns read-only with a correction form, the teacher asks for a correction, the principal
// approves it, and the new mark and the trail (old, new, reason, who asked, who approved) show on
// the teacher's sheet and on the principal's page.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO_PASSWORD, launchBrowser, login, startServer } from '../lib/harness.mjs';
import { inContext, pathOf } from '../lib/context.mjs';

const TEACHER = 'gvbm.thcs';
const PRINCIPAL = 'hieutruong.thcs';
const SHEET_PATH = /^\/gradebook\/[0-9a-f-]{36}\/toan$/;
const MARKS_API = '/api/v1/gradebook/marks';
const SLOTS = ['tx1', 'tx2', 'tx3', 'tx4', 'gk', 'ck'];

let server;
let browser;
/** The sheet's URL (with ?term=1), found by the first test. */
let sheetUrl;

before(async () => {
  server = await startServer({ seed: 1 });
  browser = await launchBrowser();
}, { timeout: 180_000 });

after(async () => {
  await browser?.close();
  await server?.stop();
});

// ---------------------------------------------------------------------------------------------
// Helpers

const rows = (page) => page.locator('form.gradebook tbody tr[data-learner]');
const cell = (page, row, slot) => rows(page).nth(row).locator(`input[name=m][data-slot=${slot}]`);
const status = (page) => page.locator('form.gradebook .gradebook-status');

/** Waits until the grid has nothing left to save and its status line says it saved. */
async function waitSaved(page, what) {
  try {
    await page.waitForFunction(
      () => {
        const form = document.querySelector('form.gradebook');
        const text = form.querySelector('.gradebook-status').textContent;
        return !form.querySelector('input.pending') && /Đã lưu lúc \d\d:\d\d/.test(text) && !text.includes('Đang lưu');
      },
      null,
      { timeout: 15_000 },
    );
  } catch (err) {
    err.message += `\n(waiting for the autosave of ${what}; status: "${await status(page).textContent()}")`;
    throw err;
  }
}

/** Records the PUTs of the marks API: how many were sent and which did not answer 200. */
function watchSaves(page) {
  const saves = { sent: 0, bad: [] };
  page.on('request', (req) => {
    if (req.method() === 'PUT' && new URL(req.url()).pathname === MARKS_API) saves.sent += 1;
  });
  page.on('response', (res) => {
    const req = res.request();
    if (req.method() === 'PUT' && new URL(res.url()).pathname === MARKS_API && res.status() !== 200) {
      saves.bad.push(`${res.status()} ${res.url()}`);
    }
  });
  return saves;
}

/** The stored marks of the sheet, as "learner|slot" → value, through the API. */
async function storedMarks(page) {
  return page.evaluate(async (api) => {
    const f = document.querySelector('form.gradebook');
    const q = new URLSearchParams({ class_id: f.dataset.class, subject: f.dataset.subject, term: f.dataset.term });
    const res = await fetch(`${api}?${q}`, { headers: { Accept: 'application/json' }, cache: 'no-store' });
    if (res.status !== 200) throw new Error(`GET ${api}: ${res.status}`);
    const data = await res.json();
    const out = {};
    for (const c of data.cells) if (c.value !== null && c.value !== undefined) out[`${c.learner_id}|${c.slot}`] = String(c.value);
    return out;
  }, MARKS_API);
}

async function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    const tr = el && el.closest('tr[data-learner]');
    if (!tr) return null;
    return { row: Array.from(tr.parentElement.children).indexOf(tr), slot: el.dataset.slot };
  });
}

async function assertFocus(page, row, slot, why) {
  assert.deepEqual(await focused(page), { row, slot }, `focus after ${why}`);
}

/** Submits a form by clicking `button` and waits for the page that follows the redirect. */
async function submit(page, button) {
  const [response] = await Promise.all([page.waitForNavigation(), button.click()]);
  assert.equal(response?.status(), 200, `the page after submitting (${page.url()})`);
}

async function flash(page) {
  return (await page.locator('.flash').innerText()).trim();
}

/** The texts of the cells of the rows of `table` that contain `text`. */
async function tableRows(page, selector, text) {
  return page.locator(`${selector} tbody tr`, { hasText: text }).evaluateAll((trs) =>
    trs.map((tr) => Array.from(tr.cells).map((td) => td.textContent.trim())),
  );
}

// ---------------------------------------------------------------------------------------------

test('a teacher types and pastes marks with the keyboard; autosave keeps them', { timeout: 120_000 }, async () => {
  await inContext(browser, server, 'gradebook-entry', async (page, context) => {
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.baseUrl });
    const saves = watchSaves(page);
    await login(page, server.baseUrl, TEACHER, DEMO_PASSWORD);

    // The index lists the teacher's sheet; its link opens term 1.
    await page.goto(`${server.baseUrl}/gradebook`);
    const link = page.locator('#my-sheets a', { hasText: '6A1 — Toán' });
    assert.equal(await link.count(), 1, 'the index links the sheet "6A1 — Toán"');
    await Promise.all([page.waitForURL(/\/toan\?term=1$/), link.click()]);
    assert.match(pathOf(page), SHEET_PATH);
    assert.equal(new URL(page.url()).searchParams.get('term'), '1');
    sheetUrl = page.url();
    await page.locator('form.gradebook').waitFor();
    assert.equal((await page.locator('h1').innerText()).trim(), 'Toán — 6A1');
    const n = await rows(page).count();
    assert.ok(n >= 7, `the class has at least 7 learners (${n})`);
    const slots = await rows(page).first().locator('input[name=m]').evaluateAll((is) => is.map((i) => i.dataset.slot));
    assert.deepEqual(slots, [...SLOTS, 'note'], 'the columns of a THCS sheet under TT 22 with four regular marks, then the comment');
    const learners = await rows(page).evaluateAll((trs) => trs.map((tr) => tr.dataset.learner));
    // The demo keeps this one sheet empty for the teacher to fill (crates/store/src/demo).
    for (let r = 0; r < 7; r += 1) {
      for (const s of SLOTS) assert.equal(await cell(page, r, s).inputValue(), '', `row ${r + 1} ${s} starts empty`);
    }

    // Typing down the TX1 column: Enter moves down; "7,5" becomes 7.5.
    await cell(page, 0, 'tx1').focus();
    await assertFocus(page, 0, 'tx1', 'focusing the first TX1 cell');
    await page.keyboard.type('7,5');
    assert.ok(!(await cell(page, 0, 'tx1').evaluate((i) => i.classList.contains('invalid'))), '"7,5" is not flagged');
    await page.keyboard.press('Enter');
    await assertFocus(page, 1, 'tx1', 'Enter');
    assert.equal(await cell(page, 0, 'tx1').inputValue(), '7.5', 'the comma is accepted and shown as a dot');

    await page.keyboard.type('8');
    await page.keyboard.press('Enter');
    await assertFocus(page, 2, 'tx1', 'Enter');
    assert.equal(await cell(page, 1, 'tx1').inputValue(), '8.0');

    // An invalid mark is flagged at once and never saved.
    await page.keyboard.type('11');
    const eleven = cell(page, 2, 'tx1');
    assert.ok(await eleven.evaluate((i) => i.classList.contains('invalid')), '"11" is flagged while typing');
    assert.equal(await eleven.getAttribute('aria-invalid'), 'true');
    assert.match((await eleven.getAttribute('title')) ?? '', /từ 0 đến 10/);
    await page.keyboard.press('ArrowDown');
    await assertFocus(page, 3, 'tx1', 'ArrowDown');
    assert.ok(await eleven.evaluate((i) => i.classList.contains('invalid')), '"11" stays flagged after leaving the cell');
    assert.ok(!(await eleven.evaluate((i) => i.classList.contains('pending'))), '"11" is not waiting to be saved');

    await page.keyboard.type('6');
    // Right and back left (the focused cell's text is all selected, so the arrows move).
    await page.keyboard.press('ArrowRight');
    await assertFocus(page, 3, 'tx2', 'ArrowRight');
    await page.keyboard.press('ArrowLeft');
    await assertFocus(page, 3, 'tx1', 'ArrowLeft');
    await page.keyboard.press('ArrowUp');
    await assertFocus(page, 2, 'tx1', 'ArrowUp');

    await waitSaved(page, 'the TX1 marks');
    assert.match(await status(page).textContent(), /Có 1 ô chưa hợp lệ/);
    const stored = await storedMarks(page);
    assert.equal(stored[`${learners[0]}|tx1`], '7.5');
    assert.equal(stored[`${learners[1]}|tx1`], '8.0');
    assert.equal(stored[`${learners[3]}|tx1`], '6.0');
    assert.equal(stored[`${learners[2]}|tx1`], undefined, '"11" was not saved');
    assert.ok(await eleven.evaluate((i) => i.classList.contains('invalid')), '"11" is still flagged');

    // The teacher fixes it: typing replaces the selected text.
    await page.keyboard.type('9');
    assert.ok(!(await eleven.evaluate((i) => i.classList.contains('invalid'))), '"9" is valid');
    await page.keyboard.press('Enter');
    await assertFocus(page, 3, 'tx1', 'Enter');
    await waitSaved(page, 'the fixed mark');
    assert.doesNotMatch(await status(page).textContent(), /chưa hợp lệ/);

    // A column of five marks copied from Excel (CRLF lines, a trailing line break), pasted
    // into TX2 from the first learner down.
    await cell(page, 0, 'tx2').focus();
    await page.evaluate((text) => navigator.clipboard.writeText(text), '6\r\n7,5\r\n8\r\n9,5\r\n10\r\n');
    await page.keyboard.press('Control+V');
    const pasted = ['6.0', '7.5', '8.0', '9.5', '10.0'];
    for (let r = 0; r < 5; r += 1) {
      assert.equal(await cell(page, r, 'tx2').inputValue(), pasted[r], `pasted TX2 of row ${r + 1}`);
    }
    assert.equal(await cell(page, 5, 'tx2').inputValue(), '', 'the paste stops after five lines');
    assert.match(await status(page).textContent(), /Đã dán 5 giá trị/);
    await assertFocus(page, 0, 'tx2', 'the paste');
    await waitSaved(page, 'the pasted column');

    // A full row: TX 7; 8,5; 9; 6, GK 7,5, CK 8 — the TT 22 worked example, average 7.7.
    const full = 6;
    await cell(page, full, 'tx1').focus();
    const marks = ['7', '8,5', '9', '6', '7,5', '8'];
    for (const [i, m] of marks.entries()) {
      await page.keyboard.type(m);
      await page.keyboard.press(i < marks.length - 1 ? 'ArrowRight' : 'Enter');
    }
    await assertFocus(page, full + 1, 'ck', 'Enter at the end of the row');
    await waitSaved(page, 'the full row');
    const avg = rows(page).nth(full).locator('[data-avg]');
    assert.equal((await avg.innerText()).trim(), '7.7', 'the row average of the TT 22 worked example');
    // The teacher's comment on the same learner (nhận xét).
    const comment = 'Tiến bộ rõ ở phần hình học';
    await cell(page, full, 'note').focus();
    await page.keyboard.type(comment);
    await page.keyboard.press('Tab');
    await waitSaved(page, 'the comment');
    assert.deepEqual(saves.bad, [], 'every save answered 200');

    // Everything is still there after a reload.
    const reloaded = await page.reload();
    assert.equal(reloaded?.status(), 200);
    await page.locator('form.gradebook').waitFor();
    const expected = {
      0: { tx1: '7.5', tx2: '6.0' },
      1: { tx1: '8.0', tx2: '7.5' },
      2: { tx1: '9.0', tx2: '8.0' },
      3: { tx1: '6.0', tx2: '9.5' },
      4: { tx1: '', tx2: '10.0' },
      5: { tx1: '', tx2: '' },
      6: { tx1: '7.0', tx2: '8.5', tx3: '9.0', tx4: '6.0', gk: '7.5', ck: '8.0', note: 'Tiến bộ rõ ở phần hình học' },
    };
    for (const [r, want] of Object.entries(expected)) {
      for (const [s, v] of Object.entries(want)) {
        assert.equal(await cell(page, Number(r), s).inputValue(), v, `row ${Number(r) + 1} ${s} after the reload`);
      }
    }
    assert.equal((await rows(page).nth(full).locator('[data-avg]').innerText()).trim(), '7.7', 'the average after the reload');
    for (const s of SLOTS) {
      assert.equal(await cell(page, 0, s).getAttribute('readonly'), null, `${s} is editable before the lock`);
    }
    assert.equal(await page.locator('details#correction').count(), 0, 'no correction form while nothing is locked');
  });
});

test('the principal locks term 1; a correction is requested, approved and on the trail', { timeout: 120_000 }, async () => {
  assert.ok(sheetUrl, 'the first test found the sheet');
  const reason = 'Chấm nhầm bài kiểm tra thường xuyên, em làm đúng câu 3';

  // The principal locks every column of term 1.
  await inContext(browser, server, 'gradebook-lock', async (page) => {
    await login(page, server.baseUrl, PRINCIPAL, DEMO_PASSWORD);
    const res = await page.goto(`${server.baseUrl}/gradebook/manage`);
    assert.equal(res?.status(), 200);
    const form = page.locator('form#deadline-form');
    await form.locator('select[name=term]').selectOption('1');
    assert.equal(await form.locator('input[name=slot]').inputValue(), '*', 'the column defaults to every column');
    await form.locator('input[name=locked]').check();
    await submit(page, form.locator('button[type=submit]'));
    assert.equal(await flash(page), 'Đã lưu hạn nhập và trạng thái khóa sổ.');
    const locks = await tableRows(page, '#deadlines', '🔒');
    assert.ok(
      locks.some(([term, column]) => term === '1' && column === 'Tất cả các cột'),
      `term 1 is locked for every column: ${JSON.stringify(locks)}`,
    );
  });

  // The teacher's sheet is read-only now and offers the correction form.
  const target = await inContext(browser, server, 'gradebook-request', async (page) => {
    const saves = watchSaves(page);
    await login(page, server.baseUrl, TEACHER, DEMO_PASSWORD);
    await page.goto(sheetUrl);
    await page.locator('form.gradebook').waitFor();
    const readonly = await page.locator('form.gradebook input[name=m]').evaluateAll((is) => is.filter((i) => !i.readOnly).length);
    assert.equal(readonly, 0, 'every cell is read-only');
    assert.match(await page.locator('th[data-slot=tx1]').innerText(), /🔒/);
    const first = cell(page, 0, 'tx1');
    assert.ok(await first.evaluate((i) => i.classList.contains('locked')));
    const old = await first.inputValue();
    assert.equal(old, '7.5');
    // Typing into a locked cell changes nothing (and sends nothing: checked below).
    await first.focus();
    await page.keyboard.type('5');
    await page.keyboard.press('Enter');
    assert.equal(await first.inputValue(), old, 'a locked cell keeps its value');

    const learnerId = await rows(page).first().getAttribute('data-learner');
    const learnerName = (await rows(page).first().locator('th').innerText()).trim();
    const details = page.locator('details#correction');
    assert.equal(await details.count(), 1, 'the correction form is offered');
    await details.locator('summary').click();
    const form = details.locator('form#correction-form');
    await form.locator('select[name=learner_id]').selectOption(learnerId);
    await form.locator('select[name=slot]').selectOption('tx1');
    await form.locator('input[name=value]').fill('9');
    await form.locator('textarea[name=reason]').fill(reason);
    await submit(page, form.locator('button[type=submit]'));
    assert.equal(await flash(page), 'Đã gửi đề nghị sửa điểm; hiệu trưởng sẽ duyệt.');
    assert.equal(await cell(page, 0, 'tx1').inputValue(), old, 'the mark is unchanged until approved');
    const trail = await tableRows(page, '#corrections', reason);
    assert.equal(trail.length, 1, `one line on the trail: ${JSON.stringify(trail)}`);
    const [name, column, was, now, why, requested, state, decided] = trail[0];
    assert.equal(name, learnerName);
    assert.match(column, /^HK1 · tx1$/i);
    assert.equal(was, '7.5');
    assert.equal(now, '9.0');
    assert.equal(why, reason);
    assert.match(requested, new RegExp(`^${TEACHER.replace('.', '\\.')} · `));
    assert.equal(state, 'Chờ duyệt');
    assert.equal(decided, '');
    assert.equal(saves.sent, 0, 'nothing was sent from the locked sheet');
    return { learnerName, old };
  });

  // The principal sees it pending and approves it.
  await inContext(browser, server, 'gradebook-approve', async (page) => {
    await login(page, server.baseUrl, PRINCIPAL, DEMO_PASSWORD);
    await page.goto(`${server.baseUrl}/gradebook/manage`);
    const card = page.locator('section.correction', { hasText: reason });
    assert.equal(await card.count(), 1, 'the request is pending');
    const text = await card.innerText();
    assert.match(text, /6A1 · Toán/);
    assert.ok(text.includes(target.learnerName), `the card names the learner: ${text}`);
    assert.match(text, /HK1 · tx1: 7\.5 → 9\.0/i);
    assert.match(text, new RegExp(TEACHER.replace('.', '\\.')));
    await submit(page, card.locator('button[name=decision][value=approve]'));
    assert.equal(await flash(page), 'Đã duyệt; điểm mới đã được ghi vào sổ.');
    assert.equal(await page.locator('section.correction', { hasText: reason }).count(), 0, 'no longer pending');
    const decided = await tableRows(page, '#decided', reason);
    assert.equal(decided.length, 1, `one decided line: ${JSON.stringify(decided)}`);
    const [head, name, column, was, now, why, requested, state, by] = decided[0];
    assert.equal(head, '6A1 · Toán');
    assert.equal(name, target.learnerName);
    assert.match(column, /^HK1 · tx1$/i);
    assert.equal(was, '7.5');
    assert.equal(now, '9.0');
    assert.equal(why, reason);
    assert.match(requested, new RegExp(`^${TEACHER.replace('.', '\\.')} · `));
    assert.equal(state, 'Đã duyệt');
    assert.match(by, new RegExp(`^${PRINCIPAL.replace('.', '\\.')} · `));
  });

  // The teacher's sheet shows the new mark and the whole trail.
  await inContext(browser, server, 'gradebook-trail', async (page) => {
    await login(page, server.baseUrl, TEACHER, DEMO_PASSWORD);
    await page.goto(sheetUrl);
    await page.locator('form.gradebook').waitFor();
    assert.equal(await cell(page, 0, 'tx1').inputValue(), '9.0', 'the approved mark is in the sheet');
    assert.equal(await cell(page, 0, 'tx1').getAttribute('readonly'), '', 'and still locked');
    const trail = await tableRows(page, '#corrections', reason);
    assert.equal(trail.length, 1, `one line on the trail: ${JSON.stringify(trail)}`);
    const [name, column, was, now, why, requested, state, decided] = trail[0];
    assert.equal(name, target.learnerName);
    assert.match(column, /^HK1 · tx1$/i);
    assert.equal(was, '7.5');
    assert.equal(now, '9.0');
    assert.equal(why, reason);
    assert.match(requested, new RegExp(`^${TEACHER.replace('.', '\\.')} · `));
    assert.equal(state, 'Đã duyệt');
    assert.match(decided, new RegExp(`^${PRINCIPAL.replace('.', '\\.')} · `));
  });
});
