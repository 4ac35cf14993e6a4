// Signs compact JWS tokens with panva/jose, an implementation independent of Laurel's.
//
//   node sign.mjs < JOBS.json
//
// JOBS.json is a list of {"header": {...}, "payload": {...}, "jwk": {private JWK}}; the output
// is the list of compact tokens, in order, as one JSON line. The payload is signed as the exact
// JSON bytes of the job (CompactSign), so no claim is added, converted or checked by jose: what
// the test wrote is what the verifier gets. Offline: nothing is fetched.
import {CompactSign, importJWK} from 'jose';

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function signOne({header, payload, jwk}) {
  if(typeof header?.alg !== 'string') {
    throw new Error('each job needs header.alg');
  }
  const key = await importJWK(jwk, header.alg);
  const bytes = new TextEncoder().encode(JSON.stringify(payload));
  return new CompactSign(bytes).setProtectedHeader(header).sign(key);
}

const jobs = JSON.parse(await readStdin());
if(!Array.isArray(jobs)) {
  throw new Error('the input must be a JSON list of jobs');
}
const tokens = [];
for(const job of jobs) {
  tokens.push(await signOne(job));
}
process.stdout.write(JSON.stringify(tokens) + '\n');
