// Builds the addon at install time with the node-gyp that ships with npm, against this Node's own headers
// (offline). A missing compiler, header or BLAS leaves the package without its addon and the install green:
// @cope/model then runs on wasm and says why in one line.
const { spawnSync } = require('node:child_process');
const { existsSync, writeFileSync, mkdirSync } = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const status = path.join(root, 'build', 'status.txt');
const note = (text) => {
  mkdirSync(path.dirname(status), { recursive: true });
  writeFileSync(status, text + '\n');
  console.log(`@cope/backend-native: ${text}`);
};

const nodeDir = path.dirname(path.dirname(process.execPath));
const candidates = [
  process.env.npm_config_node_gyp,
  path.join(nodeDir, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  path.join(nodeDir, 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
].filter(Boolean);
const nodeGyp = candidates.find((p) => existsSync(p));
const blasHeader = ['/usr/include/cblas.h', '/usr/include/x86_64-linux-gnu/cblas.h', '/usr/include/aarch64-linux-gnu/cblas.h', '/usr/include/openblas/cblas.h'].find((p) => existsSync(p));
if (process.env.COPE_NATIVE_SKIP) note('not built (COPE_NATIVE_SKIP is set); the wasm backend is used');
else if (!nodeGyp) note('not built: node-gyp (shipped with npm) was not found; the wasm backend is used');
else if (!blasHeader) note('not built: cblas.h not found (apt-get install libopenblas-dev); the wasm backend is used');
else {
  const r = spawnSync(process.execPath, [nodeGyp, 'rebuild', '--nodedir', nodeDir], { cwd: root, encoding: 'utf8' });
  if (r.status === 0 && existsSync(path.join(root, 'build', 'Release', 'cope_native.node'))) note('built with OpenBLAS');
  else note(`not built: node-gyp failed (${(r.stderr || r.stdout || String(r.error)).trim().split('\n').slice(-3).join(' | ')}); the wasm backend is used`);
}
