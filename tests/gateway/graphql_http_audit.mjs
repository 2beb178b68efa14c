// The GraphQL over HTTP audit suite (graphql-http's serverAudits) against one gateway.
//
// Usage: node graphql_http_audit.mjs <graphql url> <bearer token>
// Prints one JSON array on standard output: {id, name, status, reason} per audit. Audits whose
// name starts with MUST are the specification's requirements, SHOULD its recommendations.
import { serverAudits } from 'graphql-http';

const [url, token] = process.argv.slice(2);
if (!url || !token) {
  console.error('usage: node graphql_http_audit.mjs <graphql url> <bearer token>');
  process.exit(2);
}

// Every request of the gateway needs a bearer token; the audits send none of their own.
function fetchWithToken(input, init = {}) {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
}

const results = [];
for (const audit of serverAudits({ url, fetchFn: fetchWithToken })) {
  const result = await audit.fn();
  results.push({
    id: result.id,
    name: result.name,
    status: result.status,
    reason: result.status === 'ok' ? null : result.reason,
  });
}
process.stdout.write(JSON.stringify(results));
