// Shared mocha settings. TypeScript is loaded by tsx (no emit step). Which files run is given on the
// command line: scripts/test.sh passes the unit globs, then the e2e globs.
module.exports = {
  'node-option': ['import=tsx'],
  timeout: 120000,
  reporter: 'spec',
  exit: true,
};
