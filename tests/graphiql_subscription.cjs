// Runs a subscription through GraphiQL's own fetcher: the graphiql.min.js that /graphql serves,
// set up exactly as the page sets it up (`GraphiQL.createFetcher({url, headers,
// subscriptionUrl})`, the headers editor's JSON passed along), with Node's WebSocket standing in
// for the browser's. Subscribes, then creates an issue over REST, and prints the first result.
//   node --experimental-websocket graphiql_subscription.cjs REPO_ROOT HTTP_URL TOKEN
const path = require("path");
const [root, url, token] = process.argv.slice(2);
const need = (name) => require(path.join(root, "node_modules", name));

globalThis.window = globalThis; // the page loads React and ReactDOM as globals first
globalThis.React = need("react");
globalThis.ReactDOM = need("react-dom");
require(path.join(root, "node_modules", "graphiql", "graphiql.min.js"));
const { parse } = need("graphql");

const query = `subscription Live { workspaceEvents(workspace: "acme") { type issue { title } } }`;
const headers = { Authorization: `Bearer ${token}` }; // what the headers editor holds

async function main() {
  const subscriptionUrl = url.replace(/^http/, "ws") + "/graphql";
  const fetcher = globalThis.GraphiQL.createFetcher({ url: `${url}/graphql`, headers: {}, subscriptionUrl });
  const results = await fetcher(
    { query, operationName: "Live" },
    { documentAST: parse(query), headers },
  );
  const iterator = results[Symbol.asyncIterator]();
  const first = iterator.next();
  await new Promise((resolve) => setTimeout(resolve, 500)); // subscribed by now
  const created = await fetch(`${url}/api/v1/workspaces/acme/projects/WEB/issues`, {
    method: "POST",
    headers: { ...headers, "Content-Type": "application/json" },
    body: JSON.stringify({ title: "seen in GraphiQL" }),
  });
  if (created.status !== 201) throw new Error(`issue not created: ${created.status}`);
  const { value } = await first;
  console.log(JSON.stringify(value));
  await iterator.return();
  process.exit(0);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
