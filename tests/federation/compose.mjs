// Composes the supergraph of the gateway and the sandbox's case-management subgraph.
//
//   node tests/federation/compose.mjs <out.graphql> <name>=<graphql URL>...
//
// Each subgraph's SDL is read with `{ _service { sdl } }`, with the bearer token of the
// FEDERATION_TOKEN variable (both subgraphs take the gateway's tokens), and the services are
// composed with @theguild/federation-composition (the same rules and messages as Apollo's).
// Any composition error is printed and the exit code is 1; the supergraph SDL is written
// otherwise.
import { writeFileSync } from "node:fs";
import { parse } from "graphql";
import { composeServices, compositionHasErrors } from "@theguild/federation-composition";

const [out, ...subgraphs] = process.argv.slice(2);
if (!out || subgraphs.length === 0) {
  console.error("usage: compose.mjs <out.graphql> <name>=<graphql URL>...");
  process.exit(2);
}
const token = process.env.FEDERATION_TOKEN ?? "";

async function sdlOf(url) {
  const answer = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: "{ _service { sdl } }" }),
  });
  const body = await answer.json();
  if (answer.status !== 200 || body.errors) {
    throw new Error(`${url}: ${answer.status} ${JSON.stringify(body.errors ?? body)}`);
  }
  return body.data._service.sdl;
}

const services = [];
for (const spec of subgraphs) {
  const [name, url] = [spec.slice(0, spec.indexOf("=")), spec.slice(spec.indexOf("=") + 1)];
  services.push({ name, url, typeDefs: parse(await sdlOf(url)) });
}
const result = composeServices(services);
if (compositionHasErrors(result)) {
  for (const error of result.errors) console.error(error.message);
  process.exit(1);
}
writeFileSync(out, result.supergraphSdl);
console.log(`supergraph of ${services.map((s) => s.name).join(", ")} written to ${out}`);
