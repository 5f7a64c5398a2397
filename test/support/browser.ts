import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, type Browser, type Page, type Response } from 'playwright-core';

/** Debian's Chromium: playwright-core drives it as it is, no browser download of its own. */
const CHROMIUM = '/usr/bin/chromium';

/** Screenshots for a person to look at; the folder is ignored by git. */
export const TEST_OUTPUT = resolve(__dirname, '../../../test-output');

/** A fresh machine has no Chromium: install Debian's package (the tests run as root, as CI does). */
function ensureChromium(): void {
  if (existsSync(CHROMIUM)) return;
  const apt = (...args: string[]) => execFileSync('apt-get', args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  apt('update');
  apt('install', '-y', '--no-install-recommends', 'chromium');
}

export async function launchBrowser(): Promise<Browser> {
  ensureChromium();
  mkdirSync(TEST_OUTPUT, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}

/** Every response body the page receives, for a scan once the page is done. */
export function recordResponses(page: Page): { bodies(): Promise<{ url: string; body: string }[]> } {
  const reads: Promise<{ url: string; body: string }>[] = [];
  const read = async (response: Response) => {
    // A redirect has no body to read; its headers are all there is.
    const body = response.status() >= 300 && response.status() < 400 ? '' : (await response.body()).toString('utf8');
    return { url: response.url(), body: `${JSON.stringify(await response.allHeaders())}\n${body}` };
  };
  page.on('response', (response) => reads.push(read(response)));
  return { bodies: () => Promise.all(reads) };
}

/** Content Security Policy refusals the browser reports: the page must cause none. */
export function recordCspViolations(page: Page): string[] {
  const violations: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
  });
  return violations;
}
