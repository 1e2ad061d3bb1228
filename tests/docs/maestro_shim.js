// Runs a Maestro runScript file under Node as Maestro would: env entries as globals, a synchronous
// http.get/post returning {status, body}, json() and output. Prints output as JSON.
// Usage: node maestro_shim.js SCRIPT ENV_JSON
'use strict';
const {execFileSync} = require('child_process');
const fs = require('fs');
const vm = require('vm');

function call(method, url, options) {
  const args = ['-s', '-X', method, '-w', '\n%{http_code}'];
  for (const [name, value] of Object.entries((options && options.headers) || {})) {
    args.push('-H', `${name}: ${value}`);
  }
  if (options && options.body !== undefined) args.push('--data-binary', options.body);
  const text = execFileSync('curl', [...args, url]).toString();
  const cut = text.lastIndexOf('\n');
  return {status: Number(text.slice(cut + 1)), body: text.slice(0, cut)};
}

const context = {
  http: {get: (url, options) => call('GET', url, options), post: (url, options) => call('POST', url, options)},
  json: JSON.parse,
  output: {},
  ...JSON.parse(process.argv[3]),
};
vm.runInNewContext(fs.readFileSync(process.argv[2], 'utf8'), context);
process.stdout.write(JSON.stringify(context.output));
