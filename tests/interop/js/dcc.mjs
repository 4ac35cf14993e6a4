#!/usr/bin/env node
// Independent eddsa-rdfc-2022 verifier/signer for Laurel's interop tests,
// built only from Digital Bazaar / DCC libraries (the stack behind the DCC
// verifier and VC Playground), so Laurel's results can be cross-checked
// against code that shares nothing with it.
//
//   node dcc.mjs verify CREDENTIAL.json [--contexts DIR] [--vm-file VMS.json]
//                [--now ISO]
//     -> one JSON line {"verified": bool, "errors": [string, ...]}
//        exit 0 verified, 1 not verified, 2 usage error
//   node dcc.mjs sign UNSIGNED.json --seed HEX32 --created ISO [--contexts DIR]
//     -> the signed credential (JSON) on stdout; exit 0 ok, 1 failed, 2 usage
//
// Everything is offline: contexts come only from DIR/index.json, did:key is
// derived locally, other verification methods only from --vm-file. Any
// other URL makes the document loader throw; nothing is ever fetched.

import {readFile} from 'node:fs/promises';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';

import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from
  '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {driver as didKeyDriverFactory} from '@digitalbazaar/did-method-key';

const SCRIPT_DIR = path.dirname(fileURLToPath(import.meta.url));
const DEFAULT_CONTEXTS = path.resolve(
  SCRIPT_DIR, '..', '..', '..', 'verifier', 'contexts');
const DID_V1 = 'https://www.w3.org/ns/did/v1';
const MULTIKEY_V1 = 'https://w3id.org/security/multikey/v1';

class UsageError extends Error {}

// ---------------------------------------------------------------- loading

async function readJson(file, what) {
  let text;
  try {
    text = await readFile(file, 'utf8');
  } catch(e) {
    throw new UsageError(`cannot read ${what} ${file}: ${e.message}`);
  }
  try {
    return JSON.parse(text);
  } catch(e) {
    throw new UsageError(`${what} ${file} is not JSON: ${e.message}`);
  }
}

async function loadContexts(dir) {
  const index = await readJson(path.join(dir, 'index.json'), 'context index');
  const contexts = new Map();
  for(const [url, file] of Object.entries(index)) {
    contexts.set(url, await readJson(path.join(dir, file), 'context'));
  }
  return contexts;
}

// VM id -> Multikey VM document. Keys must equal the documents' ids, so a
// table keyed by something else (e.g. a bare DID) is caught, not misread.
async function loadVerificationMethods(file) {
  const vms = new Map();
  if(!file) {
    return vms;
  }
  const table = await readJson(file, 'vm-file');
  if(typeof table !== 'object' || table === null || Array.isArray(table)) {
    throw new UsageError('vm-file must be a JSON object {vmId: vmDocument}');
  }
  for(const [id, vm] of Object.entries(table)) {
    if(!vm || vm.id !== id || typeof vm.controller !== 'string') {
      throw new UsageError(
        `vm-file entry "${id}" must be a VM document with that id and ` +
        'a string controller');
    }
    vms.set(id, {'@context': MULTIKEY_V1, ...vm});
  }
  return vms;
}

function makeDocumentLoader({contexts, vms}) {
  const didKeyDriver = didKeyDriverFactory();
  // Resolve did:key with Multikey (not the 2020 suite) VMs, as
  // eddsa-rdfc-2022 expects.
  didKeyDriver.use({
    multibaseMultikeyHeader: 'z6Mk',
    fromMultibase: Ed25519Multikey.from
  });

  // Controller documents for non-DID VMs: the caller vouches for every VM in
  // the vm-file, so each controller lists its VMs as assertion methods. The
  // DID v1 context comes first so jsonld-signatures uses the VM list as is.
  const controllers = new Map();
  for(const vm of vms.values()) {
    const doc = controllers.get(vm.controller) ?? {
      '@context': [DID_V1, MULTIKEY_V1],
      id: vm.controller,
      assertionMethod: []
    };
    doc.assertionMethod.push(vm.id);
    controllers.set(vm.controller, doc);
  }

  return async function documentLoader(url) {
    const found = (document) => ({contextUrl: null, documentUrl: url, document});
    if(contexts.has(url)) {
      return found(structuredClone(contexts.get(url)));
    }
    if(url.startsWith('did:key:')) {
      return found(await didKeyDriver.get({url}));
    }
    if(vms.has(url)) {
      return found(structuredClone(vms.get(url)));
    }
    if(controllers.has(url)) {
      return found(structuredClone(controllers.get(url)));
    }
    throw new Error(`Document loader refused "${url}" (offline harness: ` +
      'not a known context, did:key or --vm-file entry)');
  };
}

// ---------------------------------------------------------------- verify

// jsonld-signatures nests errors (VerificationError.errors, per-proof
// results, purpose results); flatten them into plain messages.
function collectErrors(result) {
  const messages = [];
  const add = (err) => {
    if(!err) {
      return;
    }
    if(Array.isArray(err)) {
      err.forEach(add);
      return;
    }
    if(Array.isArray(err.errors) && err.errors.length > 0) {
      err.errors.forEach(add);
      return;
    }
    let msg = typeof err === 'string' ? err :
      (err.message || JSON.stringify(err));
    // jsonld safe-mode errors only say "Safe mode validation error."; the
    // event carries the useful part (which term was dropped and why).
    const event = err.details?.event;
    if(event) {
      msg += ` (${event.code}: ${event.message} ` +
        `${JSON.stringify(event.details ?? {})})`;
    }
    if(!messages.includes(msg)) {
      messages.push(msg);
    }
  };
  add(result.error);
  for(const r of result.results ?? []) {
    add(r.error);
    add(r.purposeResult?.error);
  }
  add(result.statusResult?.error);
  return messages;
}

async function verify({file, contextsDir, vmFile, now}) {
  const credential = await readJson(file, 'credential');
  const documentLoader = makeDocumentLoader({
    contexts: await loadContexts(contextsDir),
    vms: await loadVerificationMethods(vmFile)
  });
  const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022});
  const result = await vc.verifyCredential({
    credential,
    suite,
    documentLoader,
    ...(now ? {now} : {}),
    // @digitalbazaar/vc only calls this when credentialStatus is present;
    // this harness has no status-list support, so such credentials fail
    // rather than pass unchecked.
    checkStatus: async () => ({
      verified: false,
      error: new Error('credentialStatus is not supported by this harness')
    })
  });
  const verified = result.verified === true;
  const errors = collectErrors(result);
  if(!verified && errors.length === 0) {
    errors.push('not verified (no error reported by the library)');
  }
  return {verified, errors};
}

// ---------------------------------------------------------------- sign

function parseSeed(hex) {
  if(typeof hex !== 'string' || !/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new UsageError('--seed must be 64 hex characters (32 bytes)');
  }
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

async function sign({file, contextsDir, seedHex, created}) {
  const seed = parseSeed(seedHex);
  if(!created || isNaN(new Date(created))) {
    throw new UsageError('--created must be an ISO 8601 date-time');
  }
  const credential = await readJson(file, 'credential');
  const {publicKeyMultibase} = await Ed25519Multikey.generate({seed});
  const did = `did:key:${publicKeyMultibase}`;
  // With a controller, generate() sets id = controller#publicKeyMultibase,
  // i.e. the did:key VM URL.
  const keyPair = await Ed25519Multikey.generate({seed, controller: did});
  const suite = new DataIntegrityProof({
    signer: keyPair.signer(), date: created, cryptosuite: eddsaRdfc2022
  });
  const documentLoader = makeDocumentLoader({
    contexts: await loadContexts(contextsDir), vms: new Map()
  });
  const signed = await vc.issue({credential, suite, documentLoader});
  // The library re-formats `created` (it drops sub-second digits); refuse
  // rather than silently sign a different timestamp than asked for.
  const proofs = [].concat(signed.proof);
  const proof = proofs[proofs.length - 1];
  if(proof.created !== created) {
    throw new Error(`library wrote created "${proof.created}", asked for ` +
      `"${created}" (use second precision, e.g. 2010-01-01T19:23:24Z)`);
  }
  return signed;
}

// ---------------------------------------------------------------- main

async function main(argv) {
  const [command, ...rest] = argv;
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        contexts: {type: 'string'},
        'vm-file': {type: 'string'},
        now: {type: 'string'},
        seed: {type: 'string'},
        created: {type: 'string'}
      }
    });
  } catch(e) {
    throw new UsageError(e.message);
  }
  const {values, positionals} = parsed;
  if(positionals.length !== 1) {
    throw new UsageError('expected exactly one credential file');
  }
  const file = positionals[0];
  const contextsDir = values.contexts ?? DEFAULT_CONTEXTS;

  if(command === 'verify') {
    if(values.seed || values.created) {
      throw new UsageError('--seed/--created are only for "sign"');
    }
    if(values.now && isNaN(new Date(values.now))) {
      throw new UsageError('--now must be an ISO 8601 date-time');
    }
    const result = await verify({
      file, contextsDir, vmFile: values['vm-file'], now: values.now
    });
    process.stdout.write(JSON.stringify(result) + '\n');
    return result.verified ? 0 : 1;
  }
  if(command === 'sign') {
    if(values['vm-file'] || values.now) {
      throw new UsageError('--vm-file/--now are only for "verify"');
    }
    const signed = await sign({
      file, contextsDir, seedHex: values.seed, created: values.created
    });
    process.stdout.write(JSON.stringify(signed, null, 2) + '\n');
    return 0;
  }
  throw new UsageError(`unknown command "${command ?? ''}"`);
}

const USAGE = 'usage: dcc.mjs verify CREDENTIAL.json [--contexts DIR] ' +
  '[--vm-file VMS.json] [--now ISO]\n' +
  '       dcc.mjs sign UNSIGNED.json --seed HEX32 --created ISO ' +
  '[--contexts DIR]\n';

try {
  process.exitCode = await main(process.argv.slice(2));
} catch(e) {
  if(e instanceof UsageError) {
    process.stderr.write(`dcc.mjs: ${e.message}\n${USAGE}`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`dcc.mjs: ${e.stack || e}\n`);
    process.exitCode = 1;
  }
}
