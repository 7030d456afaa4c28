// Jest reporter: records each package's pass/fail counts so `pnpm test` can print one closing line
// `N passed, N failed` over the whole workspace (CI reads that line; jest's own output it does not).
const fs = require('node:fs');
const path = require('node:path');

class SummaryReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
  }
  onRunComplete(_contexts, results) {
    const dir = path.join(__dirname, '..', '..', '.test-results');
    fs.mkdirSync(dir, { recursive: true });
    // A second run of a package's suites on another backend (COPE_BACKEND) is recorded beside the first.
    const backend = process.env.COPE_BACKEND ? `@${process.env.COPE_BACKEND}` : '';
    const name = (path.relative(path.join(__dirname, '..', '..'), this.rootDir).replace(/[\\/]/g, '_') || 'root') + backend;
    const failedSuites = results.testResults.filter((r) => r.testExecError || r.failureMessage).length;
    fs.writeFileSync(path.join(dir, `${name}.json`), JSON.stringify({
      project: name,
      passed: results.numPassedTests,
      failed: results.numFailedTests,
      skipped: results.numPendingTests + results.numTodoTests,
      failedSuites: results.numFailedTestSuites,
      suitesWithErrors: failedSuites,
    }));
  }
}
module.exports = SummaryReporter;
