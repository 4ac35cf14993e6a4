// CBOR-LD / VPQR with Digital Bazaar's and DCC's libraries, for Laurel's cross-checks.
//
// Usage: node cborld.mjs CONTEXTS_DIR < tasks.json > results.json
// tasks.json is an array of tasks; each result is {ok: true, ...} or {ok: false, error}.
//   {"op": "toQr", "lib": "db"|"dcc", "document": {...}, "format": "cbor-ld-1.0"|"legacy-singleton",
//    "multibase": "R"|"B"}                      -> {text}
//   {"op": "fromQr", "lib": "db"|"dcc", "text": "VP1-..."}  -> {document}
//   {"op": "decode", "lib": "db"|"dcc", "hex": "..."}        -> {document}
// Contexts are read from CONTEXTS_DIR (index.json maps URL -> file); nothing is fetched.
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import * as dbCborld from '@digitalbazaar/cborld';
import * as dbVpqr from '@digitalbazaar/vpqr';
import * as dccCborld from '@digitalcredentials/cborld';
import * as dccVpqr from '@digitalcredentials/vpqr';

const contextsDir = process.argv[2];
const index = JSON.parse(readFileSync(join(contextsDir, 'index.json'), 'utf8'));

async function documentLoader(url) {
  const name = index[url];
  if(!name) {
    throw new Error(`context ${url} is not bundled`);
  }
  const document = JSON.parse(readFileSync(join(contextsDir, name), 'utf8'));
  return {contextUrl: null, documentUrl: url, document};
}

async function run(task) {
  if(task.op === 'toQr' && task.lib === 'db') {
    const {payload} = await dbVpqr.toQrCode({
      vp: task.document, documentLoader, format: task.format,
      registryEntryId: task.format === 'legacy-singleton' ? undefined : 1,
      qrMultibaseEncoding: task.multibase
    });
    return {text: payload};
  }
  if(task.op === 'toQr' && task.lib === 'dcc') {
    const {payload} = await dccVpqr.toQrCode({vp: task.document, documentLoader});
    return {text: payload};
  }
  if(task.op === 'fromQr') {
    const lib = task.lib === 'db' ? dbVpqr : dccVpqr;
    const {vp} = await lib.fromQrCode({text: task.text, documentLoader});
    return {document: vp};
  }
  if(task.op === 'decode') {
    const lib = task.lib === 'db' ? dbCborld : dccCborld;
    const cborldBytes = Uint8Array.from(Buffer.from(task.hex, 'hex'));
    return {document: await lib.decode({cborldBytes, documentLoader})};
  }
  throw new Error(`unknown task ${task.op}/${task.lib}`);
}

const tasks = JSON.parse(readFileSync(0, 'utf8'));
const results = [];
for(const task of tasks) {
  try {
    results.push({ok: true, ...await run(task)});
  } catch(e) {
    results.push({ok: false, error: String(e && e.message || e)});
  }
}
process.stdout.write(JSON.stringify(results));
