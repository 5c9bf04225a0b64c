// Checks that the committed ui/dist is the build of the committed sources: the server embeds
// ui/dist (so `cargo run` works from a fresh clone without Node), and a stale dist would ship an
// old console. Builds into a temporary directory and compares every file byte for byte.
// Usage: npm run check-dist (exit 1 and the differences when stale; `npm run build` fixes it).

import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { build } from 'vite';

const here = new URL('.', import.meta.url).pathname;
const committed = join(here, 'dist');
const fresh = mkdtempSync(join(tmpdir(), 'sentinel-ui-dist-'));

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

try {
  await build({ root: here, logLevel: 'warn', build: { outDir: fresh, emptyOutDir: true } });
  const a = new Map(files(committed).map((p) => [relative(committed, p), readFileSync(p)]));
  const b = new Map(files(fresh).map((p) => [relative(fresh, p), readFileSync(p)]));
  const problems = [];
  for (const [name, bytes] of b) {
    if (!a.has(name)) problems.push(`missing from ui/dist: ${name}`);
    else if (!a.get(name).equals(bytes)) problems.push(`differs: ui/dist/${name}`);
  }
  for (const name of a.keys()) if (!b.has(name)) problems.push(`stale file in ui/dist: ${name}`);
  if (problems.length) {
    console.error(
      `ui/dist is not the build of ui/src:\n  ${problems.join('\n  ')}\nRun \`npm run build\` in ui/ and commit ui/dist.`,
    );
    process.exitCode = 1;
  } else {
    console.log(`ui/dist is up to date (${b.size} files)`);
  }
} finally {
  rmSync(fresh, { recursive: true, force: true });
}
