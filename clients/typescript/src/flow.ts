// Switchyard over GraphQL from TypeScript: typed documents from the client preset, sent with
// fetch. Type-checked with `tsc --strict` in CI (tests/test_generated_clients.py).
import type { ResultOf, TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print } from "graphql";
import { graphql } from "./gql";

export const ViewerQuery = graphql(`
  query Viewer {
    viewer {
      username
      workspaces(first: 10) {
        nodes { id slug name }
      }
    }
  }
`);

export const OpenIssuesQuery = graphql(`
  query OpenIssues($workspace: String!, $key: String!, $after: String) {
    project(workspace: $workspace, key: $key) {
      issues(first: 2, after: $after, filter: { state: OPEN }) {
        totalCount
        pageInfo { hasNextPage endCursor }
        nodes { id number title priority assignee { username } labels { name } }
      }
    }
  }
`);

export const CreateIssueMutation = graphql(`
  mutation CreateIssue($input: CreateIssueInput!) {
    createIssue(input: $input) {
      issue { id number title priority version }
    }
  }
`);

export const UpdateIssueMutation = graphql(`
  mutation UpdateIssue($input: UpdateIssueInput!) {
    updateIssue(input: $input) {
      issue { id title version }
    }
  }
`);

export async function request<TData, TVariables>(
  url: string,
  token: string,
  document: TypedDocumentNode<TData, TVariables>,
  variables: TVariables,
): Promise<TData> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: print(document), variables }),
  });
  const body = (await response.json()) as {
    data?: TData;
    errors?: { message: string; extensions?: { code?: string } }[];
  };
  if (body.errors?.length || body.data === undefined) {
    const first = body.errors?.[0];
    throw new Error(`${first?.extensions?.code ?? response.status}: ${first?.message ?? ""}`);
  }
  return body.data;
}

export async function allOpenIssueTitles(url: string, token: string): Promise<string[]> {
  const titles: string[] = [];
  let after: string | null = null;
  for (;;) {
    const data: ResultOf<typeof OpenIssuesQuery> = await request(url, token, OpenIssuesQuery, {
      workspace: "acme",
      key: "WEB",
      after,
    });
    const issues = data.project?.issues;
    if (!issues) return titles;
    titles.push(...issues.nodes.map((issue) => `#${issue.number} ${issue.title} (${issue.priority})`));
    if (!issues.pageInfo.hasNextPage) return titles;
    after = issues.pageInfo.endCursor ?? null;
  }
}

export async function renameWithExpectedVersion(url: string, token: string, id: string): Promise<number> {
  const created = await request(url, token, CreateIssueMutation, {
    input: { projectId: id, title: "From TypeScript", priority: "HIGH" },
  });
  const issue = created.createIssue?.issue;
  if (!issue) throw new Error("no issue");
  const updated = await request(url, token, UpdateIssueMutation, {
    input: { id: issue.id, expectedVersion: issue.version, title: "Renamed" },
  });
  return updated.updateIssue?.issue.version ?? -1;
}
