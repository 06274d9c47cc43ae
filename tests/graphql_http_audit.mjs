// Runs graphql-http's GraphQL-over-HTTP server audits (MUST, SHOULD and MAY) against a live
// endpoint and prints one line per audit, then `N passed, M failed`; exits 1 on any failure.
//
//   node tests/graphql_http_audit.mjs http://127.0.0.1:8000/graphql
//
// tests/processes/test_graphql_http_audit.py starts a real server and runs this against it.
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node tests/graphql_http_audit.mjs <graphql endpoint URL>');
  process.exit(2);
}

let passed = 0;
let failed = 0;
for (const { id, name, fn } of serverAudits({ url, fetchFn: fetch })) {
  let result;
  try {
    result = await fn();
  } catch (error) {
    // A thrown error (not an AuditError) is fatal for that audit: count it as failed.
    result = { id, name, status: 'error', reason: `fatal: ${error}` };
  }
  if (result.status === 'ok') {
    passed += 1;
    console.log(`${id}\t${name}\tok`);
  } else {
    failed += 1;
    let detail = result.reason;
    if (result.response) {
      const body = await result.response.text().catch(() => '');
      const type = result.response.headers.get('content-type');
      detail += ` [${result.response.status} ${type}] ${body.slice(0, 300)}`;
    }
    console.log(`${id}\t${name}\t${result.status}\t${detail}`);
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
