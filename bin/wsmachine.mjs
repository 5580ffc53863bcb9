#!/usr/bin/env node
// The `wsmachine` command of the installed package: runs the built CLI (dist/cli.js).
// From a checkout without a build, use `npm run demo` or `npx tsx src/cli/main.ts <command>`.
import('../dist/cli.js').catch((error) => {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/cli.js')) {
    console.error(
      'wsmachine: dist/cli.js is missing; run `npm run build` first (or `npx tsx src/cli/main.ts`).',
    );
    process.exitCode = 1;
    return;
  }
  throw error;
});
