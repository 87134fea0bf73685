/**
 * Screenshot baselines kept in the repo (test/e2e/baselines/<name>.png), compared with a
 * tolerance so the same page on another machine (fonts, antialiasing) still matches while a
 * changed layout does not.
 *
 * The comparison runs in Chromium itself (no image library): both images are drawn onto a canvas
 * scaled down 4× (which averages antialiasing away), and a pixel counts as different when any
 * channel differs by more than 48 of 255. The screenshots match when their sizes are within 2%
 * and at most 2% of the scaled pixels differ.
 *
 * To accept a deliberate change, rewrite the baselines and commit them:
 *   UPDATE_BASELINES=1 npx vitest run --project e2e test/e2e/clinic-pages.test.ts
 * A missing baseline fails the test (it is written, ready to be reviewed and committed).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';

export const BASELINE_DIR = join(process.cwd(), 'test', 'e2e', 'baselines');

export interface BaselineResult {
  readonly name: string;
  /** Why it does not match; undefined when it does (or the baseline was just written). */
  readonly mismatch?: string;
}

/** Screenshots the page (full page) and compares it with its baseline. */
export async function compareWithBaseline(browser: Browser, page: Page, name: string): Promise<BaselineResult> {
  const actual = await page.screenshot({ fullPage: true });
  const path = join(BASELINE_DIR, `${name}.png`);
  await mkdir(BASELINE_DIR, { recursive: true });
  if (process.env.UPDATE_BASELINES) {
    await writeFile(path, actual);
    return { name };
  }
  const expected = await readFile(path).catch(() => undefined);
  if (!expected) {
    await writeFile(path, actual);
    return { name, mismatch: `no baseline yet: wrote ${path}; review and commit it` };
  }
  const mismatch = await imageDifference(browser, expected, actual);
  return mismatch ? { name, mismatch: `${name}: ${mismatch} (UPDATE_BASELINES=1 rewrites the baselines)` } : { name };
}

/** Why two PNGs differ beyond the tolerance, or undefined. */
export async function imageDifference(browser: Browser, expected: Buffer, actual: Buffer): Promise<string | undefined> {
  const tab = await browser.newPage();
  try {
    return await tab.evaluate(
      async ({ a, b }) => {
        // This runs in the page (the project's types have no DOM library, hence the loose types).
        // biome-ignore lint/suspicious/noExplicitAny: DOM objects, untyped here
        type Dom = any;
        const g = globalThis as unknown as { Image: new () => Dom; document: Dom };
        const load = (src: string) =>
          new Promise<Dom>((resolve, reject) => {
            const img = new g.Image();
            img.onload = () => resolve(img);
            img.onerror = () => reject(new Error('not a PNG'));
            img.src = src;
          });
        const [one, two] = await Promise.all([load(a), load(b)]);
        const sizeOff = (x: number, y: number) => Math.abs(x - y) / Math.max(x, y) > 0.02;
        if (sizeOff(one.width, two.width) || sizeOff(one.height, two.height)) return `size ${two.width}×${two.height}, baseline ${one.width}×${one.height}`;
        const w = Math.max(1, Math.round(one.width / 4));
        const h = Math.max(1, Math.round(one.height / 4));
        const pixels = (img: Dom) => {
          const canvas = g.document.createElement('canvas');
          canvas.width = w;
          canvas.height = h;
          const ctx = canvas.getContext('2d');
          ctx.imageSmoothingQuality = 'high';
          ctx.drawImage(img, 0, 0, w, h);
          return ctx.getImageData(0, 0, w, h).data as Uint8ClampedArray;
        };
        const p = pixels(one);
        const q = pixels(two);
        let differing = 0;
        for (let i = 0; i < p.length; i += 4) {
          if (Math.abs(p[i]! - q[i]!) > 48 || Math.abs(p[i + 1]! - q[i + 1]!) > 48 || Math.abs(p[i + 2]! - q[i + 2]!) > 48) differing++;
        }
        const share = differing / (w * h);
        return share > 0.02 ? `${(share * 100).toFixed(1)}% of the pixels differ` : undefined;
      },
      { a: `data:image/png;base64,${expected.toString('base64')}`, b: `data:image/png;base64,${actual.toString('base64')}` },
    );
  } finally {
    await tab.close();
  }
}
