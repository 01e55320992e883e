// A client of the crmhub API. schema.d.ts is generated from
// api/openapi.json by openapi-typescript (`make sdk`; a test fails when it
// is stale); requests are openapi-fetch's, typed by path and method. This
// file is the hand-written part: bearer auth and cursor pagination.
import createClient, { type Client, type ClientOptions } from "openapi-fetch";
import type { paths, components } from "./schema.js";

export type { paths, components };
export type Schemas = components["schemas"];
export type CrmhubClient = Client<paths>;

export interface Options extends ClientOptions {
  /** The hub, e.g. "http://127.0.0.1:8080". */
  baseUrl: string;
  /** An API key, or a user's session or OIDC token. */
  token: string;
}

/** A client that sends token as its bearer credentials on every request. */
export function createCrmhubClient(options: Options): CrmhubClient {
  const { token, ...rest } = options;
  if (!token || !token.trim()) throw new Error("crmhub: no token");
  const client = createClient<paths>({ ...rest, baseUrl: rest.baseUrl.replace(/\/$/, "") });
  client.use({
    onRequest({ request }) {
      request.headers.set("Authorization", `Bearer ${token}`);
      return request;
    },
  });
  return client;
}

/** One page of a list: its items and the next page's cursor ("" after the last). */
export interface Page<T> {
  items: T[];
  next_cursor: string;
}

/** An answer that was not the one asked for: its status and RFC 9457 problem. */
export class CrmhubError extends Error {
  constructor(
    readonly status: number,
    readonly problem?: Schemas["Problem"],
  ) {
    super(`crmhub: HTTP ${status}${problem ? `: ${problem.title}${problem.detail ? `: ${problem.detail}` : ""}` : ""}`);
  }
}

/**
 * Walks a cursor-paginated list from its first page, yielding each item.
 * page fetches one page given the cursor ("" for the first).
 */
export async function* all<T>(page: (cursor: string) => Promise<Page<T>>): AsyncGenerator<T> {
  let cursor = "";
  for (;;) {
    const p = await page(cursor);
    yield* p.items;
    if (!p.next_cursor || p.next_cursor === cursor) return;
    cursor = p.next_cursor;
  }
}

/** The data of an openapi-fetch answer, or a CrmhubError. */
export function must<T>(r: { data?: T; error?: unknown; response: Response }): T {
  if (r.data === undefined || r.error !== undefined) {
    throw new CrmhubError(r.response.status, r.error as Schemas["Problem"] | undefined);
  }
  return r.data;
}
