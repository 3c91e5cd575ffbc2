// An independent OCPP CSMS for evkiosk's tests: ocpp-rpc in strict mode, so every call the
// station sends and every answer it gives is checked against the official JSON schemas.
//
//   node csms.js --record FILE [--port N] [--password PW] [--protocols ocpp2.1,ocpp1.6]
//                [--receipt-url URL] [--after-boot FILE] [--authorize-status STATUS]
//
// --protocols: the subprotocols it accepts (ocpp2.1, ocpp2.0.1, ocpp1.6), in its order of
// preference; a station offering several gets the first of these it offered. Under 1.6 it
// answers StartTransaction with the next transactionId (continuing those in FILE, so a restart
// never gives an id twice).
// --after-boot FILE: a JSON list of [action, payload] the CSMS sends the station, one after the
// other, once it accepted the station's BootNotification; each answer (or the reason a call
// failed, strict validation of the station's answer included) is recorded as
// {"event": "call-result" | "call-failed", "action", "result" | "error"}. A step
// ["@wait", {"action": A, "count": N}] waits until the station sent N calls of A;
// ["@waitfile", {"path": P}] waits until the file P exists (a test's go-ahead); the string
// "$transactionId" in a payload is the transactionId of the last TransactionEvent received
// (1.6: the last one it gave in a StartTransaction answer).
// --authorize-status: the idTokenInfo.status of its 2.x Authorize answers (default Accepted).
// --tx-answer JSON: the answer to every 2.x TransactionEvent (default {}), e.g. a totalCost.
// Prints "LISTENING <port>" once it accepts connections. Appends every websocket message, in
// both directions, to FILE as one JSON line: {"at", "identity", "protocol", "outbound", "message"}
// (message as the raw OCPP-J array). A restart with the same FILE keeps appending.
"use strict";

const fs = require("fs");
const { RPCServer, createValidator } = require("ocpp-rpc");

function parseArgs(argv) {
  const args = {
    port: 0,
    protocols: "ocpp2.1",
    password: null,
    receiptUrl: null,
    record: null,
    afterBoot: null,
    authorizeStatus: null,
    txAnswer: null,
  };
  for (let i = 2; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, "").replace(/-(.)/g, (_, c) => c.toUpperCase());
    args[key] = argv[i + 1];
  }
  if (!args.record) throw new Error("--record FILE is required");
  args.port = Number(args.port);
  args.protocols = args.protocols.split(",");
  return args;
}

// ocpp-rpc 2.2.1 ships its 2.1 schemas with ids urn:XRequest / urn:XResponse but looks them up
// as urn:X.req / urn:X.conf: rename them so strict mode can find them.
function ocpp21Validator() {
  const schemas = require("ocpp-rpc/lib/schemas/ocpp2_1.json").map((schema) => {
    const id = schema.$id
      .replace(/^urn:(.*)Request$/, "urn:$1.req")
      .replace(/^urn:(.*)Response$/, "urn:$1.conf");
    return { ...schema, $id: id };
  });
  return createValidator("ocpp2.1", schemas);
}

const now = () => new Date().toISOString();
let transactionCounter = 0;

// The highest 1.6 transactionId given in FILE's earlier answers.
function lastGivenTransactionId(record) {
  if (!fs.existsSync(record)) return 0;
  let last = 0;
  for (const line of fs.readFileSync(record, "utf8").split("\n")) {
    if (!line.trim()) continue;
    const message = JSON.parse(line).message;
    if (message && message[0] === 3 && Number.isInteger(message[2].transactionId)) {
      last = Math.max(last, message[2].transactionId);
    }
  }
  return last;
}

function handlers(args) {
  const v2 = {
    BootNotification: () => ({ currentTime: now(), interval: 300, status: "Accepted" }),
    Heartbeat: () => ({ currentTime: now() }),
    StatusNotification: () => ({}),
    Authorize: () => ({ idTokenInfo: { status: args.authorizeStatus || "Accepted" } }),
    TransactionEvent: () => (args.txAnswer ? JSON.parse(args.txAnswer) : {}),
    MeterValues: () => ({}),
    NotifyEvent: () => ({}),
    SecurityEventNotification: () => ({}),
    NotifyReport: () => ({}),
    NotifySettlement: ({ params }) =>
      args.receiptUrl
        ? { receiptUrl: args.receiptUrl.replace("{pspRef}", encodeURIComponent(params.pspRef)) }
        : {},
  };
  const v16 = {
    BootNotification: () => ({ currentTime: now(), interval: 300, status: "Accepted" }),
    Heartbeat: () => ({ currentTime: now() }),
    StatusNotification: () => ({}),
    Authorize: () => ({ idTagInfo: { status: "Accepted" } }),
    StartTransaction: () => ({
      transactionId: ++transactionCounter,
      idTagInfo: { status: "Accepted" },
    }),
    StopTransaction: () => ({ idTagInfo: { status: "Accepted" } }),
    MeterValues: () => ({}),
  };
  return { "ocpp2.1": v2, "ocpp2.0.1": v2, "ocpp1.6": v16 };
}

async function main() {
  const args = parseArgs(process.argv);
  transactionCounter = lastGivenTransactionId(args.record);
  const record = fs.openSync(args.record, "a");
  const write = (entry) => fs.writeSync(record, JSON.stringify({ at: now(), ...entry }) + "\n");
  const server = new RPCServer({
    protocols: args.protocols,
    strictMode: true,
    strictModeValidators: [ocpp21Validator()],
    respondWithDetailedErrors: true,
  });
  server.auth((accept, reject, handshake) => {
    const given = handshake.password ? handshake.password.toString("utf8") : null;
    if (args.password !== null && given !== args.password) {
      write({ identity: handshake.identity, event: "refused", reason: "password" });
      reject(401, "bad credentials");
      return;
    }
    accept();
  });
  const byProtocol = handlers(args);
  server.on("client", (client) => {
    write({ identity: client.identity, protocol: client.protocol, event: "connected" });
    client.on("message", ({ message, outbound }) => {
      write({
        identity: client.identity,
        protocol: client.protocol,
        outbound,
        message: JSON.parse(message.toString()),
      });
    });
    client.on("close", () => write({ identity: client.identity, event: "closed" }));
    const script = args.afterBoot ? JSON.parse(fs.readFileSync(args.afterBoot, "utf8")) : [];
    const received = {};
    let lastTransactionId = null;
    client.on("message", ({ message, outbound }) => {
      const frame = JSON.parse(message.toString());
      if (outbound || frame[0] !== 2) return;
      received[frame[2]] = (received[frame[2]] || 0) + 1;
      if (frame[2] === "TransactionEvent") lastTransactionId = frame[3].transactionInfo.transactionId;
    });
    client.on("message", ({ message, outbound }) => {
      const frame = JSON.parse(message.toString());
      if (outbound && frame[0] === 3 && Number.isInteger(frame[2].transactionId)) {
        lastTransactionId = frame[2].transactionId;
      }
    });
    const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
    const runScript = async () => {
      for (const [action, raw] of script) {
        if (action === "@wait") {
          while ((received[raw.action] || 0) < raw.count) await sleep(20);
          continue;
        }
        if (action === "@waitfile") {
          while (!fs.existsSync(raw.path)) await sleep(20);
          continue;
        }
        const payload = JSON.parse(
          JSON.stringify(raw).split('"$transactionId"').join(JSON.stringify(lastTransactionId)),
        );
        try {
          const result = await client.call(action, payload);
          write({ identity: client.identity, event: "call-result", action, result });
        } catch (err) {
          write({ identity: client.identity, event: "call-failed", action, error: String(err) });
        }
      }
    };
    for (const [method, handler] of Object.entries(byProtocol[client.protocol] || {})) {
      client.handle(method, (call) => {
        const answer = handler(call);
        if (method === "BootNotification" && answer.status === "Accepted" && script.length) {
          setTimeout(runScript, 0);
        }
        return answer;
      });
    }
  });
  const http = await server.listen(args.port, "127.0.0.1");
  process.stdout.write(`LISTENING ${http.address().port}\n`);
  const stop = () => server.close({ force: true }).then(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main().catch((err) => {
  process.stderr.write(`csms: ${err.stack || err}\n`);
  process.exit(1);
});
