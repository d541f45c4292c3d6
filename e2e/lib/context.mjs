// Shared helpers of the browser tests: a fresh browser context per step that leaves a screenshot,
// the page's HTML and the end of the server's output behind when the step fails.

import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const resultsDir = fileURLToPath(new URL('../test-results/', import.meta.url));

/**
 * Runs `fn(page, context)` in a fresh context of `browser` (own cookies, Vietnamese locale:
 * Chromium asks for en-US by default and the server honours Accept-Language). On failure, saves
 * a screenshot and the HTML under e2e/test-results/<label>.* and adds the end of the server's
 * output to the error.
 */
export async function inContext(browser, server, label, fn, options = {}) {
  const context = await browser.newContext({ locale: 'vi-VN', acceptDownloads: true, ...options });
  const page = await context.newPage();
  page.on('dialog', (dialog) => dialog.accept());
  try {
    return await fn(page, context);
  } catch (err) {
    const name = label.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').toLowerCase();
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

export function pathOf(page) {
  return new URL(page.url()).pathname;
}

/** Vietnamese text without diacritics, lower case: "Quách Văn Đạt" -> "quach van dat". */
export function fold(s) {
  return s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/đ/g, 'd')
    .replace(/Đ/g, 'D')
    .toLowerCase();
}

/** The texts of the main menu's links. */
export async function menuLabels(page) {
  return page.$$eval('nav#main-nav a', (as) => as.map((a) => a.textContent.trim()));
}

/** Hrefs of the links matched by `selector`, as paths. */
export async function hrefs(page, selector) {
  return page.$$eval(selector, (as) => as.map((a) => new URL(a.href).pathname));
}
