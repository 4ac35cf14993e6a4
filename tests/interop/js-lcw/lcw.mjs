// A Learner Credential Wallet stand-in: the exchange steps of LCW 2.2 (ExchangeCredentials.tsx,
// exchanges.ts, composeVp.ts, credentialRequest.ts), with the npm packages LCW ships, run against
// a Laurel on loopback. Usage: node lcw.mjs <options.json>; prints one JSON line.
//
// options: {start, seed, signerSeed?, forgedVm?, suite?, vcdm?, challenge?, domain?, purpose?,
//           repeat?, verify?}
//   start      https://lcw.app/request?request=…, an interaction URL (…?iuv=1), or dccrequest://…
//   seed       hex of the holder's 32-byte Ed25519 seed (its did:key is the holder)
//   signerSeed sign with this other key (its own did:key) while naming the holder above
//   forgedVm   sign with signerSeed's key but call it a method of the holder's DID
//   suite      "Ed25519Signature2020" (default, as LCW) or "eddsa-rdfc-2022"
//   vcdm       1 or 2: the presentation's context (default 1)
//   challenge, domain   override what the request asked for
//   purpose    "authentication" (default) or "assertionMethod"
//   repeat     post the same presentation this many times (default 1)
//   verify     verify the received credential with @digitalcredentials/verifier-core
import {readFileSync} from 'node:fs';

import {DataIntegrityProof} from '@digitalcredentials/data-integrity';
import {driver as didKeyDriver} from '@digitalcredentials/did-method-key';
import * as Ed25519Multikey from '@digitalcredentials/ed25519-multikey';
import {Ed25519Signature2020} from '@digitalcredentials/ed25519-signature-2020';
import {Ed25519VerificationKey2020} from '@digitalcredentials/ed25519-verification-key-2020';
import {cryptosuite as eddsaRdfc2022} from '@digitalcredentials/eddsa-rdfc-2022-cryptosuite';
import jsigs from '@digitalcredentials/jsonld-signatures';
import {securityLoader} from '@digitalcredentials/security-document-loader';
import * as vc from '@digitalcredentials/vc';
import {verifyCredential} from '@digitalcredentials/verifier-core';

const documentLoader = securityLoader().build();
const didKey = didKeyDriver();
didKey.use({multibaseMultikeyHeader: 'z6Mk', fromMultibase: Ed25519VerificationKey2020.from});
const options = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const steps = [];

async function call(url, body, method = 'POST') {
  const init = {method, headers: {Accept: 'application/json'}};
  if(method === 'POST') {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(url, init);
  const text = await response.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = {text};
  }
  steps.push({url, method, status: response.status, body: json});
  return {status: response.status, body: json};
}

async function keyFor(seedHex) {
  const keyPair = await Ed25519VerificationKey2020.generate({
    seed: Uint8Array.from(Buffer.from(seedHex, 'hex'))
  });
  const {didDocument} = await didKey.fromKeyPair({verificationKeyPair: keyPair});
  // The holder's authentication method, as LCW's key pair: the did:key's one key.
  const [method] = didDocument.authentication;
  keyPair.id = typeof method === 'string' ? method : method.id;
  keyPair.controller = didDocument.id;
  return {did: didDocument.id, key: keyPair};
}

async function suiteFor(key) {
  if(options.suite === 'eddsa-rdfc-2022') {
    const multikey = await Ed25519Multikey.from(key);
    return new DataIntegrityProof({signer: multikey.signer(), cryptosuite: eddsaRdfc2022});
  }
  return new Ed25519Signature2020({key});
}

// Where the wallet is sent: LCW's deep link, a VCALM interaction URL, or the legacy link.
async function entry(start) {
  if(start.startsWith('dccrequest://')) {
    const query = new URL(start.replace('dccrequest://', 'https://dccrequest.invalid/')).searchParams;
    if(query.get('auth_type') !== 'bearer') {
      throw new Error('Only bearer auth_type is supported');
    }
    return {legacy: true, url: query.get('vc_request_url'), challenge: query.get('challenge')};
  }
  if(start.startsWith('https://lcw.app/request')) {
    const request = JSON.parse(new URL(start).searchParams.get('request'));
    return {legacy: false, url: request.protocols.vcapi};
  }
  const answer = await call(start, null, 'GET');
  if(!answer.body?.protocols?.vcapi) {
    throw new Error('Only vcapi is currently supported');
  }
  return {legacy: false, url: answer.body.protocols.vcapi};
}

async function run() {
  const found = await entry(options.start);
  let challenge = found.challenge;
  let domain;
  if(!found.legacy) {
    const asked = await call(found.url, {});
    const request = asked.body.verifiablePresentationRequest;
    const queries = [].concat(request?.query ?? []);
    const didAuth = queries.filter(query => query.type === 'DIDAuthentication');
    if(didAuth.length !== 1) {
      throw new Error('Expected one DIDAuthentication query');
    }
    if(!request.challenge || !request.domain) {
      throw new Error('DIDAuthentication request needs a challenge and a domain');
    }
    ({challenge, domain} = request);
  }
  challenge = options.challenge ?? challenge;
  domain = options.domain ?? domain;

  const holder = await keyFor(options.seed);
  let signingKey = holder.key;
  if(options.signerSeed) {
    signingKey = (await keyFor(options.signerSeed)).key;
    if(options.forgedVm) {
      signingKey.controller = holder.did;
      signingKey.id = `${holder.did}#${signingKey.fingerprint()}`;
    }
  }
  const presentation = vc.createPresentation({
    holder: holder.did, version: options.vcdm === 2 ? 2.0 : 1.0
  });
  const suite = await suiteFor(signingKey);
  let signed;
  if(options.purpose === 'assertionMethod') {
    // Everything right but the purpose: the challenge and domain asked for, on an assertion.
    class AssertionWithChallenge extends jsigs.purposes.AssertionProofPurpose {
      async update(proof, options) {
        return {...await super.update(proof, options), challenge, domain};
      }
    }
    signed = await jsigs.sign(presentation, {
      suite, documentLoader, purpose: new AssertionWithChallenge()
    });
  } else {
    signed = await vc.signPresentation({presentation, suite, challenge, domain, documentLoader});
  }
  for(let n = 0; n < (options.repeat ?? 1); n++) {
    await call(found.url, found.legacy ? signed : {verifiablePresentation: signed});
  }
  const result = {holder: holder.did, presentation: signed, steps};
  const first = steps.find(step => step.body?.verifiablePresentation || step.body?.verifiableCredential);
  const got = first?.body?.verifiablePresentation ?? first?.body;
  const credentials = got ? [].concat(got.verifiableCredential ?? []) : [];
  result.credentials = credentials;
  if(options.verify && credentials.length) {
    result.verification = await verifyCredential({
      credential: credentials[0], knownDIDRegistries: []
    });
  }
  return result;
}

try {
  console.log(JSON.stringify(await run()));
} catch(error) {
  console.log(JSON.stringify({error: String(error?.stack ?? error), steps}));
  process.exitCode = 2;
}
