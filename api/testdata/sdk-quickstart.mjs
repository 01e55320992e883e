// The README's quick start through the TypeScript client (api/sdk/ts,
// built into ./sdk/dist): create a lead once for an Idempotency-Key, find
// it by a phone written another way, update it with a merge patch based on
// its version, refuse a stale one, walk the list, delete it. Prints what it
// saw as JSON. Run by sdk_test.go (TestSDKQuickStart).
import { createCrmhubClient, all, must, CrmhubError } from "./sdk/dist/index.js";

const [baseUrl, token] = process.argv.slice(2);
const c = createCrmhubClient({ baseUrl, token });
const out = {};

const body = { first_name: "Иван", last_name: "Петров-TS", company: "ООО Ромашка", phone: "8 (912) 345-67-80",
  email: "Ivan.TS@Romashka.ru", source: "web_site" };
const params = { header: { "Idempotency-Key": "quickstart-ts-1" } };
const lead = must(await c.POST("/api/v1/leads", { params, body }));
const again = must(await c.POST("/api/v1/leads", { params, body }));
out.id = lead.id;
out.sameForTheKey = again.id === lead.id;
out.phone = lead.phone;
out.email = lead.email;

const found = must(await c.GET("/api/v1/leads", { params: { query: { phone: "+7 912 345 67 80", limit: 10 } } }));
out.foundByPhone = found.items.map((l) => l.id);

const patched = must(await c.PATCH("/api/v1/leads/{id}", {
  params: { path: { id: lead.id }, header: { "If-Match": `"${lead.version}"` } },
  body: { status: "hot", title: "Директор" },
}));
out.status = patched.status;
out.title = patched.title;
const stale = await c.PATCH("/api/v1/leads/{id}", {
  params: { path: { id: lead.id }, header: { "If-Match": `"${lead.version}"` } },
  body: { title: "Никто" },
});
out.staleStatus = stale.response.status;
out.staleProblem = stale.error && stale.error.status;

const seen = [];
for await (const l of all(async (cursor) => must(await c.GET("/api/v1/leads", { params: { query: { limit: 1, cursor: cursor || undefined } } })))) {
  seen.push(l.id);
}
out.walked = seen;

const del = await c.DELETE("/api/v1/leads/{id}", { params: { path: { id: lead.id } } });
out.deleteStatus = del.response.status;
try {
  must(await c.GET("/api/v1/leads/{id}", { params: { path: { id: lead.id } } }));
} catch (e) {
  out.afterDelete = e instanceof CrmhubError ? e.status : String(e);
}
process.stdout.write(JSON.stringify(out) + "\n");
