/** `keepwell …` (bin/keepwell.mjs, `npm run keepwell --`): runs the CLI and exits with its code. */
import { silenceSdkNodeVersionWarning } from './sdk-warning.js';
import { runCli } from './program.js';

silenceSdkNodeVersionWarning();

const code = await runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
});
process.exitCode = code;
