/** Types of scripts/bundle-browser.mjs, for the tests that import it. */

/** Absolute path of the written browser bundle (`dist/browser/wsmachine.js`). */
export declare const BROWSER_BUNDLE: string;

/** Absolute path of the written `wsmachine/compat` browser bundle (`dist/browser/compat.js`). */
export declare const COMPAT_BROWSER_BUNDLE: string;

/** What {@link bundleBrowser} returns. */
export interface BrowserBundleReport {
  /** The minified bundle. */
  code: Uint8Array;
  /** Its size in bytes, minified. */
  minBytes: number;
  /** Its size in bytes, minified and gzipped (zlib level 9). */
  gzipBytes: number;
  /** Every file esbuild put in (metafile inputs). */
  inputs: string[];
  /** Modules the bundle still imports at run time (empty: it is self-contained). */
  imports: string[];
  /** Imports of `ws`, Node built-ins or OpenTelemetry, each with its importer; empty when clean. */
  forbidden: string[];
  /** Minified bytes per package (`wsmachine` is our own code). */
  packages: Record<string, number>;
}

/**
 * Bundles `entry` (default `src/index.ts`) for browsers; `write: true` also writes `outfile` (default
 * {@link BROWSER_BUNDLE}).
 */
export declare function bundleBrowser(options?: {
  write?: boolean;
  entry?: string;
  outfile?: string;
}): Promise<BrowserBundleReport>;
