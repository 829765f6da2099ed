/** Where the compiled entry of one of this folder's worker threads is. */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * `file` beside this module in dist/, or in dist/ when running from sources (tests); `what` names
 * the thread in the error when neither exists.
 */
export function compiledThreadEntry(file: string, what: string): string {
  const beside = join(__dirname, file);
  if (existsSync(beside)) return beside;
  const built = resolve(__dirname, '../../../../dist/libs/state/src/sqlite', file);
  if (existsSync(built)) return built;
  throw new Error(`the ${what}'s compiled entry is missing (looked for ${beside} and ${built}): run "npm run build"`);
}
