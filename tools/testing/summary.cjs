// Prints the workspace-wide closing line from the per-package results the summary reporter wrote.
// A package whose suites failed to run counts its failed suites as failures, so nothing is hidden.
const fs = require('node:fs');
const path = require('node:path');
const dir = path.join(__dirname, '..', '..', '.test-results');
let passed = 0, failed = 0, skipped = 0;
const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')) : [];
for (const f of files) {
  const r = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
  passed += r.passed;
  failed += Math.max(r.failed, r.failedSuites);
  skipped += r.skipped;
  console.log(`  ${r.project}: ${r.passed} passed, ${r.failed} failed${r.failedSuites ? `, ${r.failedSuites} suites failed` : ''}${r.skipped ? `, ${r.skipped} skipped` : ''}`);
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
