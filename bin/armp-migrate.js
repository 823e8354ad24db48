#!/usr/bin/env node
// Runs the compiled CLI; `npm ci` builds dist/ through the `prepare` script.
require("../dist/migrate/cli.js")
  .main(process.argv.slice(2))
  .then((code) => { process.exitCode = code; });
