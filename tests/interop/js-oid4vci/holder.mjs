// An OpenID4VCI 1.0 holder built on @openid4vc/openid4vci (the OpenWallet Foundation's
// oid4vc-ts), collecting a Laurel badge by the pre-authorized code flow and checking it with
// libraries Laurel does not share code with:
//
//   node holder.mjs OFFER TX_CODE
//
// 1. resolve the credential offer (by reference) and the issuer metadata (and through it the
//    authorization server metadata);
// 2. redeem the pre-authorized code with the tx_code;
// 3. for each configuration in the offer: get a nonce, sign an openid4vci-proof+jwt with a fresh
//    Ed25519 did:key, retrieve the credential;
// 4. verify the ldp_vc with @digitalbazaar/vc + eddsa-rdfc-2022 (contexts offline, did:key by
//    its driver, the status list fetched from Laurel) and the jwt_vc_json with jose.
//
// Prints one JSON object: {holder, configurations, results: {id: {format, verified, errors,
// subject, credential}}}. Exits 0 when the flow ran (verification results are in the output),
// 1 when a step of the flow failed.

import {createHash, randomBytes} from 'node:crypto';
import {readFile} from 'node:fs/promises';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {gunzipSync} from 'node:zlib';

import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {driver as didKeyDriverFactory} from '@digitalbazaar/did-method-key';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {cryptosuite as eddsaRdfc2022} from
  '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as vc from '@digitalbazaar/vc';
import {
  HashAlgorithm, clientAuthenticationAnonymous, setGlobalConfig
} from '@openid4vc/oauth2';
import {Openid4vciClient} from '@openid4vc/openid4vci';
import * as jose from 'jose';

const SCRIPT_DIR = path.dirname(fileURLToPath(import.meta.url));
const CONTEXTS = path.resolve(SCRIPT_DIR, '..', '..', '..', 'verifier', 'contexts');

// Laurel runs on loopback http in the test; everything else about the flow is as in production.
setGlobalConfig({allowInsecureUrls: true});

// ------------------------------------------------------------------ keys

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

function base58(bytes) {
  let n = BigInt('0x' + (Buffer.from(bytes).toString('hex') || '0'));
  let out = '';
  while(n > 0n) {
    out = B58[Number(n % 58n)] + out;
    n /= 58n;
  }
  for(const byte of bytes) {
    if(byte !== 0) {
      break;
    }
    out = '1' + out;
  }
  return out;
}

function unbase58(text) {
  let n = 0n;
  for(const char of text) {
    const digit = B58.indexOf(char);
    if(digit < 0) {
      throw new Error(`not base58: ${text}`);
    }
    n = n * 58n + BigInt(digit);
  }
  let hex = n.toString(16);
  if(hex.length % 2) {
    hex = '0' + hex;
  }
  const zeros = text.length - text.replace(/^1+/, '').length;
  return Buffer.concat([Buffer.alloc(zeros), Buffer.from(hex, 'hex')]);
}

async function newHolder() {
  const {privateKey, publicKey} = await jose.generateKeyPair(
    'EdDSA', {crv: 'Ed25519', extractable: true});
  const publicJwk = await jose.exportJWK(publicKey);
  const raw = Buffer.from(publicJwk.x, 'base64url');
  const multikey = 'z' + base58(Buffer.concat([Buffer.from([0xed, 0x01]), raw]));
  const did = `did:key:${multikey}`;
  return {privateKey, publicJwk, did, kid: `${did}#${multikey}`};
}

function ed25519JwkOfDidKey(verificationMethod) {
  const multikey = verificationMethod.split('#')[0].replace('did:key:', '');
  const bytes = unbase58(multikey.slice(1));
  if(bytes[0] !== 0xed || bytes[1] !== 0x01) {
    throw new Error(`${verificationMethod} is not an Ed25519 did:key`);
  }
  return {kty: 'OKP', crv: 'Ed25519', x: bytes.subarray(2).toString('base64url')};
}

// ------------------------------------------------------------------ verification

async function documentLoaderFor() {
  const index = JSON.parse(await readFile(path.join(CONTEXTS, 'index.json'), 'utf8'));
  const contexts = new Map();
  for(const [url, file] of Object.entries(index)) {
    contexts.set(url, JSON.parse(await readFile(path.join(CONTEXTS, file), 'utf8')));
  }
  const didKey = didKeyDriverFactory();
  didKey.use({multibaseMultikeyHeader: 'z6Mk', fromMultibase: Ed25519Multikey.from});
  return async function documentLoader(url) {
    const found = document => ({contextUrl: null, documentUrl: url, document});
    if(contexts.has(url)) {
      return found(structuredClone(contexts.get(url)));
    }
    if(url.startsWith('did:key:')) {
      return found(await didKey.get({url}));
    }
    throw new Error(`document loader refused ${url} (offline: not a known context or did:key)`);
  };
}

// BitstringStatusList: the bit at statusListIndex of the list Laurel publishes, fetched over
// HTTP (the list's own signature is Laurel's, checked by the Python side's verifier).
async function checkStatus({credential}) {
  const entries = [].concat(credential.credentialStatus ?? []);
  for(const entry of entries) {
    const response = await fetch(entry.statusListCredential);
    if(!response.ok) {
      return {verified: false, error: new Error(`status list: HTTP ${response.status}`)};
    }
    let list = await response.json();
    if(typeof list === 'string') {
      list = jose.decodeJwt(list);
    }
    const encoded = list.credentialSubject.encodedList;
    const bits = gunzipSync(Buffer.from(encoded.slice(1), 'base64url'));
    const index = Number(entry.statusListIndex);
    const set = (bits[Math.floor(index / 8)] >> (7 - (index % 8))) & 1;
    if(set) {
      return {verified: false, error: new Error(`${entry.statusPurpose} bit is set`)};
    }
  }
  return {verified: true};
}

async function verifyLdp(credential) {
  const result = await vc.verifyCredential({
    credential,
    suite: new DataIntegrityProof({cryptosuite: eddsaRdfc2022}),
    documentLoader: await documentLoaderFor(),
    checkStatus
  });
  const errors = [];
  const add = error => {
    if(!error) {
      return;
    }
    if(Array.isArray(error)) {
      error.forEach(add);
    } else if(Array.isArray(error.errors) && error.errors.length) {
      error.errors.forEach(add);
    } else {
      errors.push(error.message ?? String(error));
    }
  };
  add(result.error);
  for(const r of result.results ?? []) {
    add(r.error);
  }
  add(result.statusResult?.error);
  return {verified: result.verified === true, errors};
}

async function verifyJwt(compact, issuerDid) {
  try {
    const {kid, alg} = jose.decodeProtectedHeader(compact);
    if(!kid?.startsWith(issuerDid)) {
      return {verified: false, errors: [`the JWT's kid ${kid} is not the issuer's`]};
    }
    const key = await jose.importJWK(ed25519JwkOfDidKey(kid), alg);
    const {payload} = await jose.jwtVerify(compact, key, {algorithms: ['EdDSA']});
    return {verified: true, errors: [], payload};
  } catch(error) {
    return {verified: false, errors: [error.message]};
  }
}

// ------------------------------------------------------------------ the flow

async function main(offer, txCode) {
  const holder = await newHolder();
  const client = new Openid4vciClient({
    callbacks: {
      fetch,
      hash: (data, alg) => createHash(
        alg === HashAlgorithm.Sha256 ? 'sha256' : alg.replace('-', '').toLowerCase()
      ).update(data).digest(),
      generateRandom: bytes => randomBytes(bytes),
      clientAuthentication: clientAuthenticationAnonymous(),
      signJwt: async (signer, {header, payload}) => {
        if(signer.method !== 'did' || signer.didUrl !== holder.kid) {
          throw new Error(`unexpected signer ${JSON.stringify(signer)}`);
        }
        const jwt = await new jose.SignJWT(payload).setProtectedHeader(header)
          .sign(holder.privateKey);
        return {jwt, signerJwk: holder.publicJwk};
      }
    }
  });

  const credentialOffer = await client.resolveCredentialOffer(offer);
  const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer);
  const {accessTokenResponse} = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
    credentialOffer, issuerMetadata, txCode
  });

  const results = {};
  for(const id of credentialOffer.credential_configuration_ids) {
    const {c_nonce: nonce} = await client.requestNonce({issuerMetadata});
    const {jwt} = await client.createCredentialRequestJwtProof({
      issuerMetadata,
      credentialConfigurationId: id,
      nonce,
      signer: {method: 'did', didUrl: holder.kid, alg: 'EdDSA'}
    });
    const response = await client.retrieveCredentials({
      issuerMetadata,
      accessToken: accessTokenResponse.access_token,
      credentialConfigurationId: id,
      proofs: {jwt: [jwt]}
    });
    const [{credential}] = response.credentialResponse.credentials;
    const format = issuerMetadata.credentialIssuer
      .credential_configurations_supported[id].format;
    if(format === 'ldp_vc') {
      const checked = await verifyLdp(credential);
      results[id] = {format, ...checked, subject: credential.credentialSubject?.id, credential};
    } else {
      const issuerDid = jose.decodeJwt(credential).iss ??
        jose.decodeJwt(credential).issuer?.id;
      const checked = await verifyJwt(credential, issuerDid);
      results[id] = {
        format,
        verified: checked.verified,
        errors: checked.errors,
        subject: checked.payload?.credentialSubject?.id,
        sub: checked.payload?.sub,
        credential
      };
    }
  }
  return {
    holder: holder.did,
    credentialIssuer: credentialOffer.credential_issuer,
    configurations: credentialOffer.credential_configuration_ids,
    tokenType: accessTokenResponse.token_type,
    results
  };
}

const [offer, txCode] = process.argv.slice(2);
if(!offer || !txCode) {
  process.stderr.write('usage: node holder.mjs OFFER TX_CODE\n');
  process.exit(2);
}
try {
  process.stdout.write(JSON.stringify(await main(offer, txCode)) + '\n');
} catch(error) {
  process.stderr.write(`${error.stack ?? error}\n${JSON.stringify(error.response ?? error.errorResponse ?? '', null, 1)}\n`);
  process.exit(1);
}
