// firebase-admin for Node, pointed at fake FCM: the recipe of docs/fakes.md, then a small driver.
//
//   node fcm.mjs FAKE_URL PROJECT_ID < ops.json     (prints one JSON result per op, as a JSON list)
//
// ops.json is a list of {"op": "send" | "dryRun", "message": {...}} or {"op": "sendEach", "messages": [...]};
// messages are firebase-admin Message objects (camelCase, as a Node backend writes them).
// tests/node/test_node_sdks.py runs it and checks that docs/fakes.md shows the recipe verbatim.

// --- recipe: begin
import https from "node:https";
import net from "node:net";
import { initializeApp } from "firebase-admin/app";
import { getMessaging } from "firebase-admin/messaging";

/** firebase-admin Messaging whose FCM calls go to fake FCM at `fakeUrl` (e.g. http://127.0.0.1:9099). */
export function fakeFcmMessaging(fakeUrl, projectId, appName = "fake-fcm") {
  const fake = new URL(fakeUrl);
  // fcm.googleapis.com is hard-coded in the SDK: open a plain TCP socket to the fake for that host
  // (no TLS, so the fake needs no certificate); every other host connects as usual.
  class FakeFcmAgent extends https.Agent {
    createConnection(options, callback) {
      if (options.host !== "fcm.googleapis.com") return super.createConnection(options, callback);
      return net.createConnection({ host: fake.hostname, port: Number(fake.port) }, callback);
    }
  }
  const app = initializeApp(
    {
      projectId,
      // No OAuth round trip: fake FCM takes any bearer unless started with --bearer.
      credential: { getAccessToken: async () => ({ access_token: "fake-fcm-token", expires_in: 3600 }) },
      httpAgent: new FakeFcmAgent({ keepAlive: true }),
    },
    appName,
  );
  const messaging = getMessaging(app);
  // sendEach() otherwise speaks HTTP/2 over TLS, which ignores httpAgent: use HTTP/1.1 as send() does.
  messaging.enableLegacyHttpTransport();
  return messaging;
}
// --- recipe: end

function failure(error) {
  return { ok: false, code: error.code ?? null, message: error.message };
}

async function run(messaging, op) {
  try {
    if (op.op === "send") return { ok: true, name: await messaging.send(op.message) };
    if (op.op === "dryRun") return { ok: true, name: await messaging.send(op.message, true) };
    if (op.op === "sendEach") {
      const batch = await messaging.sendEach(op.messages);
      const responses = batch.responses.map((r) => (r.success ? { ok: true, name: r.messageId } : failure(r.error)));
      return { ok: true, successCount: batch.successCount, failureCount: batch.failureCount, responses };
    }
    return { ok: false, code: "driver/unknown-op", message: `unknown op ${op.op}` };
  } catch (error) {
    return failure(error);
  }
}

async function main() {
  const [fakeUrl, projectId] = process.argv.slice(2);
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const ops = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  const messaging = fakeFcmMessaging(fakeUrl, projectId);
  const results = [];
  for (const op of ops) results.push(await run(messaging, op));
  process.stdout.write(JSON.stringify(results) + "\n");
  process.exit(0); // keep-alive sockets would otherwise hold the process open
}

await main();
