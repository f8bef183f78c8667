#!/usr/bin/env node
// The parley program. Runs the compiled server (npm install builds it via `prepare`).
import { main } from '../dist/main.js';

const code = await main(process.argv.slice(2), {
  env: process.env,
  cwd: process.cwd(),
  stdout: process.stdout,
  stderr: process.stderr,
});
process.exitCode = code;
// A command is finished when main returns; do not let a stray handle keep the process up.
setTimeout(() => process.exit(code), 1000).unref();
