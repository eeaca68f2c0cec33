// Test peer: validates GS1 Digital Link URIs (one per stdin line) with the GS1 digital-link.js SDK.
// Prints "OK <uri>" or "INVALID <uri> <trace>" per line; exits 1 if any is invalid.
const { DigitalLink } = require('digital-link.js');
const lines = require('fs').readFileSync(0, 'utf8').split('\n').filter((l) => l.trim());
let invalid = 0;
for (const uri of lines) {
  let ok = false;
  let trace = '';
  try {
    const dl = DigitalLink(uri);
    ok = dl.isValid();
    if (!ok) trace = JSON.stringify(dl.getValidationTrace());
  } catch (error) {
    trace = String(error);
  }
  if (!ok) invalid += 1;
  console.log(`${ok ? 'OK' : 'INVALID'} ${uri} ${trace}`);
}
process.exit(invalid ? 1 : 0);
