// The public verify page in the browser, with JavaScript switched off (the page must work
// without it): a visitor with no account uploads the học bạ the demo issued and wrote to
// data/demo-hocba/, sees "Văn bản hợp lệ" with every check passed, the holder's name and a proof
// bundle to download; a copy with bytes appended after the last signature reads "KHÔNG hợp lệ"
// with the line that says why; a text file is refused with a precise message beside the field;
// a scanned QR code's address shows what the log records without personal data; the English
// switch keeps the visitor on the page; and the diploma lookup refuses an empty form field by
// field.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchBrowser, startServer } from '../lib/harness.mjs';
import { inContext, pathOf } from '../lib/context.mjs';

const NO_JS = { javaScriptEnabled: false };
const PDF_LINE = /(\/\S+\/demo-hocba\/(HB-[0-9A-Z]{16})\.pdf)\s*$/m;

let server;
let browser;
let work;
/** The issued PDF the demo wrote, its document id, and a tampered copy. */
let pdf;
let docId;
let tampered;
let notPdf;

before(async () => {
  server = await startServer({ seed: 1 });
  browser = await launchBrowser();
  // The demo prints where it wrote one issued học bạ (it issues before it serves).
  const found = server.output().match(PDF_LINE);
  assert.ok(found, `the demo names the PDF it wrote to data/demo-hocba/:\n${server.output()}`);
  [, pdf, docId] = found;
  work = await mkdtemp(join(tmpdir(), 'truongso-verify-e2e-'));
  const bytes = await readFile(pdf);
  assert.equal(bytes.subarray(0, 5).toString(), '%PDF-');
  tampered = join(work, `${docId}-sua.pdf`);
  await writeFile(tampered, Buffer.concat([bytes, Buffer.from('\n% sửa sau khi ký\n')]));
  notPdf = join(work, 'ghi-chu.txt');
  await writeFile(notPdf, 'Đây không phải tệp PDF.\n');
}, { timeout: 180_000 });

after(async () => {
  await browser?.close();
  await server?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

/** Uploads `file` through the form on the current page and waits for the answer. */
async function upload(page, file) {
  await page.setInputFiles('#verify-file', file);
  const [response] = await Promise.all([
    page.waitForNavigation(),
    page.click('#verify-form button[type=submit]'),
  ]);
  return response;
}

/** The verdict table: code → passed. */
async function verdictRows(page) {
  return page.$$eval('#verdict-lines tbody tr', (trs) =>
    trs.map((tr) => [tr.dataset.code, tr.classList.contains('ok')]),
  );
}

test('the issued học bạ from the demo verifies as valid, without an account or JavaScript', async () => {
  await inContext(browser, server, 'verify-valid', async (page) => {
    await page.goto(`${server.baseUrl}/xac-minh`);
    assert.equal(pathOf(page), '/xac-minh', 'public: no login redirect');
    assert.equal(await page.textContent('h1'), 'Xác minh học bạ số, văn bằng số');
    const response = await upload(page, pdf);
    assert.equal(response.status(), 200);
    const headline = (await page.textContent('#verdict-headline')).trim();
    assert.match(headline, /Văn bản hợp lệ/);
    assert.doesNotMatch(headline, /KHÔNG/);
    const rows = await verdictRows(page);
    assert.equal(rows.length, 9, JSON.stringify(rows));
    assert.deepEqual(rows.filter(([, ok]) => !ok), [], 'every check passed');
    assert.ok(rows.some(([code]) => code === 'witnesses_ok'), 'the witness cosigned');
    // The file proves whose it is: its facts are shown.
    const facts = await page.textContent('#verdict dl.facts');
    assert.match(facts, new RegExp(docId));
    assert.match(facts, /Họ và tên/);
    assert.match(facts, /2025-2026/);
    // The proof bundle downloads.
    const href = await page.getAttribute('#verdict a[download]', 'href');
    assert.equal(href, `/xac-minh/${docId}.tlog-proof`);
    const proof = await page.request.get(`${server.baseUrl}${href}`);
    assert.equal(proof.status(), 200);
    assert.match(await proof.text(), /^c2sp\.org\/tlog-proof@v1\n(extra \S+\n)?index \d+\n/);
  }, NO_JS);
});

test('a copy changed after signing reads KHÔNG hợp lệ with the reason', async () => {
  await inContext(browser, server, 'verify-tampered', async (page) => {
    await page.goto(`${server.baseUrl}/xac-minh`);
    await upload(page, tampered);
    const headline = (await page.textContent('#verdict-headline')).trim();
    assert.match(headline, /Văn bản KHÔNG hợp lệ/);
    const failed = (await verdictRows(page)).filter(([, ok]) => !ok).map(([code]) => code);
    assert.deepEqual(failed, ['modified_after_signing']);
    const line = await page.textContent('#verdict-lines tr[data-code=modified_after_signing]');
    assert.match(line, /✗/);
    assert.match(line, /Tệp đã bị thêm hoặc sửa nội dung sau chữ ký cuối cùng\./);
  }, NO_JS);
});

test('a file that is not a PDF is refused beside the field', async () => {
  await inContext(browser, server, 'verify-not-pdf', async (page) => {
    await page.goto(`${server.baseUrl}/xac-minh`);
    const response = await upload(page, notPdf);
    assert.equal(response.status(), 415);
    const error = await page.textContent('#verify-form .field-error');
    assert.match(error, /Chỉ nhận tệp PDF \(application\/pdf\); tệp đã chọn có kiểu «text\/plain»\./);
  }, NO_JS);
});

test('the QR code address shows what the log records, then English on the same page', async () => {
  await inContext(browser, server, 'verify-qr', async (page) => {
    const proof = await (await page.request.get(`${server.baseUrl}/api/v1/credentials/${docId}/status`)).json();
    assert.equal(proof.status, 'issued');
    await page.goto(`${server.baseUrl}/xac-minh?doc=${docId}&h=${proof.sha256_data}`);
    const status = await page.textContent('#log-status');
    assert.match(status, /Văn bản đang có hiệu lực\./);
    assert.match(status, /Mã băm trên mã QR khớp với mã băm đã ghi trên sổ cái\./);
    assert.match(status, new RegExp(proof.sha256_data));
    assert.doesNotMatch(status, /Họ và tên/, 'no personal data for a QR lookup');
    assert.equal(await page.inputValue('#verify-form input[name=doc]'), docId);
    await Promise.all([page.waitForNavigation(), page.click('a[lang=en]')]);
    assert.equal(pathOf(page), '/xac-minh');
    assert.equal(await page.textContent('h1'), 'Verify a digital school record or diploma');
  }, NO_JS);
});

test('the diploma lookup needs all three fields', async () => {
  await inContext(browser, server, 'diploma-lookup', async (page) => {
    await page.goto(`${server.baseUrl}/tra-cuu-van-bang`);
    assert.equal(await page.textContent('h1'), 'Tra cứu văn bằng');
    await page.fill('input[name=serial]', 'A 0012345');
    const [response] = await Promise.all([
      page.waitForNavigation(),
      page.click('#lookup-form button[type=submit]'),
    ]);
    assert.equal(response.status(), 422);
    const errors = await page.$$eval('#lookup-form .field-error', (ps) => ps.map((p) => p.textContent.trim()));
    assert.deepEqual(errors, ['Trường này là bắt buộc.', 'Trường này là bắt buộc.']);
    await page.fill('input[name=full_name]', 'Nguyễn Văn Không Có');
    await page.fill('input[name=date_of_birth]', '01/01/2011');
    await Promise.all([page.waitForNavigation(), page.click('#lookup-form button[type=submit]')]);
    assert.match(await page.textContent('#lookup-result'), /Không tìm thấy văn bằng phù hợp/);
  }, NO_JS);
});
