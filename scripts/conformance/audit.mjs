#!/usr/bin/env node
// Runs graphql-http's GraphQL-over-HTTP server audits against one CaseGraph
// endpoint and fails on ANY audit that does not pass, whatever its level:
// the project promises MUST, SHOULD and MAY alike (README, "GraphQL over
// HTTP").
//
//   CASEGRAPH_TOKEN=<jwt> node audit.mjs http://127.0.0.1:8080/graphql
//
// /graphql needs a token for every request, so each audit request carries it
// as a bearer token; without one every audit would only see 401s.
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
const token = process.env.CASEGRAPH_TOKEN;
if (!url || !token) {
  console.error('usage: CASEGRAPH_TOKEN=<jwt> node audit.mjs <graphql endpoint URL>');
  process.exit(2);
}

function withToken(input, init = {}) {
  const headers = new Headers(init.headers);
  headers.set('Authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
}

const tally = new Map(); // level -> { passed, failed }
const failures = [];
for (const audit of serverAudits({ url, fetchFn: withToken })) {
  const level = audit.name.split(' ', 1)[0]; // "MUST", "SHOULD" or "MAY"
  let result;
  try {
    result = await audit.fn();
  } catch (err) {
    result = { status: 'error', reason: `the audit itself failed: ${err?.message ?? err}` };
  }
  const counts = tally.get(level) ?? { passed: 0, failed: 0 };
  if (result.status === 'ok') {
    counts.passed++;
  } else {
    counts.failed++;
    failures.push(`${audit.id} ${audit.name}\n    ${String(result.reason).replace(/\s+/g, ' ').slice(0, 400)}`);
  }
  tally.set(level, counts);
}

for (const f of failures) console.log(`FAIL ${f}`);
for (const [level, { passed, failed }] of tally) {
  console.log(`${level}: ${passed}/${passed + failed} passed`);
}
if (failures.length > 0) {
  console.log(`conformance: ${failures.length} audit(s) failed`);
  process.exit(1);
}
console.log('conformance: every audit passed');
