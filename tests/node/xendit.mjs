// xendit-node, pointed at fake Xendit the way a real Node backend is: the recipe of docs/fakes.md,
// then a small driver.
//
//   XENDIT_BASE_URL=http://127.0.0.1:9098 XENDIT_SECRET_KEY=xnd_development_… node xendit.mjs < ops.json
//
// ops.json is a list of {"op": "createInvoice" | "getInvoiceById" | "getInvoices" | "expireInvoice", "args": {...}},
// the SDK's own method names and request objects; prints the results as one JSON list
// (invoices as the SDK returns them, errors as {ok: false, status, errorCode, errorMessage}).

// --- recipe: begin
import { Xendit } from "xendit-node";

// The backend's .env: XENDIT_BASE_URL=http://127.0.0.1:9098 (fake Xendit), XENDIT_SECRET_KEY=xnd_development_…
const xendit = new Xendit({
  secretKey: process.env.XENDIT_SECRET_KEY,
  xenditURL: process.env.XENDIT_BASE_URL, // unset: https://api.xendit.co
});
// --- recipe: end

async function run(op) {
  try {
    return { ok: true, result: await xendit.Invoice[op.op](op.args) };
  } catch (error) {
    const { name, status, errorCode, errorMessage } = error;
    return { ok: false, name, status: status ?? null, errorCode: errorCode ?? null, errorMessage: errorMessage ?? error.message };
  }
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const results = [];
for (const op of JSON.parse(Buffer.concat(chunks).toString("utf8"))) results.push(await run(op));
process.stdout.write(JSON.stringify(results) + "\n");
