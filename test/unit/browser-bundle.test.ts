/**
 * The browser entry bundled the way a browser app would (esbuild, platform `browser`, in memory):
 * it must never reach `ws`, a Node built-in or OpenTelemetry (ARCHITECTURE.md §2), and it must carry
 * the native adapter as its default. Prints the min+gzip size.
 */
import { describe, expect, it } from 'vitest';
import { COMPAT_BROWSER_BUNDLE, bundleBrowser } from '../../scripts/bundle-browser.mjs';

describe('browser bundle (src/index.ts, esbuild platform browser)', () => {
  it('contains no ws, no node:* module and no OpenTelemetry; xstate and mitt are in', async () => {
    const report = await bundleBrowser({ write: false });
    const inputs = report.inputs;
    expect(report.forbidden).toEqual([]);
    expect(inputs.filter((p) => /node_modules\/ws\//.test(p))).toEqual([]);
    expect(inputs.filter((p) => p.includes('@opentelemetry'))).toEqual([]);
    expect(inputs.filter((p) => p.startsWith('node:'))).toEqual([]);
    expect(inputs).toContain('src/index.ts');
    expect(inputs).toContain('src/transport/native.ts');
    expect(inputs).not.toContain('src/transport/ws.ts');
    expect(inputs.some((p) => p.includes('node_modules/xstate/'))).toBe(true);
    expect(inputs.some((p) => p.includes('node_modules/mitt/'))).toBe(true);

    // The output itself: a self-contained ES module (nothing left to import at run time).
    expect(report.imports).toEqual([]);
    const text = new TextDecoder().decode(report.code);
    expect(text).toMatch(/export\s*\{[^}]*createClient/);

    console.log(
      `browser bundle: ${report.minBytes} bytes min, ${report.gzipBytes} bytes min+gzip (level 9), ` +
        `xstate and mitt included`,
    );
    expect(report.gzipBytes).toBeGreaterThan(0);
  });
});

describe('wsmachine/compat browser bundle (src/compat.ts, esbuild platform browser)', () => {
  it('contains no ws, no node:* module and no OpenTelemetry; the facade runs on the native adapter', async () => {
    const report = await bundleBrowser({
      write: false,
      entry: 'src/compat.ts',
      outfile: COMPAT_BROWSER_BUNDLE,
    });
    const inputs = report.inputs;
    expect(report.forbidden).toEqual([]);
    expect(inputs.filter((p) => /node_modules\/ws\//.test(p))).toEqual([]);
    expect(inputs.filter((p) => p.includes('@opentelemetry'))).toEqual([]);
    expect(inputs.filter((p) => p.startsWith('node:'))).toEqual([]);
    expect(inputs).toContain('src/compat.ts');
    expect(inputs).toContain('src/compat/reconnecting-websocket.ts');
    expect(inputs).toContain('src/compat/platform-events.ts');
    expect(inputs).toContain('src/transport/native.ts');
    expect(inputs).not.toContain('src/compat-node.ts');
    expect(inputs).not.toContain('src/transport/ws.ts');
    expect(report.imports).toEqual([]);
    const text = new TextDecoder().decode(report.code);
    expect(text).toMatch(/export\s*\{[^}]*ReconnectingWebSocket/);
    console.log(`wsmachine/compat browser bundle: ${report.gzipBytes} bytes min+gzip (level 9)`);
  });
});
