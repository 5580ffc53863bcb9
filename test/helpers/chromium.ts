/**
 * Debian's chromium driven by playwright-core: never a downloaded browser. Suites that use it run
 * under `npm run test:system` and FAIL (never skip) when chromium is missing, naming the apt line.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Flags that keep chromium off the network and quiet on this closed machine. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Throws with the install line when Debian's chromium is not installed. */
export function requireChromium(): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `No browser at ${CHROMIUM}. The real-browser suites use Debian's chromium, never a downloaded ` +
        'browser: run `apt-get install -y chromium` (as root; .ci/run does it from ' +
        'scripts/system-packages.txt), then `npm run test:system`.',
    );
  }
}

/** Launches Debian's chromium headless. */
export async function launchChromium(): Promise<Browser> {
  requireChromium();
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}
