// Hive Gateway's configuration for the federation test: the router forwards to every
// subgraph the client's Authorization (both subgraphs take the Unefois gateway's tokens) and
// the access context of entity reads, Unefois-Purpose, Unefois-Recipient and Unefois-Object.
import { defineConfig } from "@graphql-hive/gateway";

const FORWARDED = ["authorization", "unefois-purpose", "unefois-recipient", "unefois-object"];

export const gatewayConfig = defineConfig({
  propagateHeaders: {
    fromClientToSubgraphs({ request }) {
      const headers = {};
      for (const name of FORWARDED) {
        const value = request.headers.get(name);
        if (value !== null) headers[name] = value;
      }
      return headers;
    },
  },
});
