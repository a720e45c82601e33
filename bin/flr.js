#!/usr/bin/env node
// The compiled CLI lives in dist/ (npm run build; npm pack builds it into the package).
import('../dist/lib/cli/process.js').then(
  ({ main }) => main(process.argv.slice(2)),
  (err) => {
    if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !String(err.message).includes('dist')) throw err
    process.stderr.write('flr: not built yet: run `npm run build` (or `npm start`) in the flr checkout first\n')
    process.exitCode = 1
  },
)
