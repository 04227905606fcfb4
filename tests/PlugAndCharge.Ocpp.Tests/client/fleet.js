'use strict';
// A fleet of stations under steady load for the fault-injection suite (scripts/faults.sh): ocpp-rpc stations that
// reconnect by themselves (as real chargers do), answer the operator commands the hub relays to them, and send
// Get15118EVCertificate and Authorize at fixed rates, scheduled open-loop. Every second it writes one JSON line with
// what happened in that second; accepted exiResponses go to a file for the invariant checks. Ends on "stop" on stdin.
// usage: node fleet.js CONFIG.json
// CONFIG: { endpoint, ca, password, protocol, ids: [...], connectConcurrency, deliveredFile, failFastMs,
//           streams: [ { name, method, paramsList, rate, ok: [[path, value]...] } ] }
const fs = require('fs');
const readline = require('readline');
const { RPCClient } = require('ocpp-rpc');

const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const failFastMs = cfg.failFastMs ?? 1000;
const delivered = fs.createWriteStream(cfg.deliveredFile, { flags: 'a' });
const clients = [];
let stopping = false;

// Per second and stream: sent (in the second it was scheduled); and the outcomes (ok, failed, slow failures over
// failFastMs, the slowest, failures by kind) in the second the call went on the wire, reported whenever they settle,
// so that a call in flight when a fault began counts there even if it settles 20 s later.
let bucket = null;
function newBucket() {
    const b = { t: Date.now(), streams: {}, outcomes: new Map() };
    for (const s of cfg.streams) b.streams[s.name] = { sent: 0 };
    return b;
}
function record(stream, sentAt, ms, kind) {
    const second = Math.floor((performance.timeOrigin + sentAt) / 1000) * 1000;
    const key = stream + '|' + second;
    let s = bucket.outcomes.get(key);
    if (!s) bucket.outcomes.set(key, s = { stream, t: second, ok: 0, failed: 0, slow_failed: 0, max_fail_ms: 0, max_ok_ms: 0, kinds: {} });
    if (kind === null) { s.ok++; s.max_ok_ms = Math.max(s.max_ok_ms, Math.round(ms)); return; }
    s.failed++;
    if (ms > failFastMs) s.slow_failed++;
    s.max_fail_ms = Math.max(s.max_fail_ms, Math.round(ms));
    s.kinds[kind] = (s.kinds[kind] ?? 0) + 1;
}

// The answers a station gives to what the hub sends it (OCPP 2.0.1 M03/M04/M05/F06/A03).
const handlers = {
    GetInstalledCertificateIds: () => ({ status: 'NotFound' }),
    InstallCertificate: () => ({ status: 'Accepted' }),
    DeleteCertificate: () => ({ status: 'NotFound' }),
    TriggerMessage: () => ({ status: 'Accepted' }),
    CertificateSigned: () => ({ status: 'Accepted' }),
};

function makeClient(id) {
    const cli = new RPCClient({
        endpoint: cfg.endpoint, identity: id, protocols: [cfg.protocol], password: cfg.password,
        reconnect: true, maxReconnects: Infinity, callTimeoutMs: 30000, pingIntervalMs: 5000,
        backoff: { initialDelay: 200, maxDelay: 2000, factor: 2, randomisationFactor: 0.25 },
        wsOpts: { ca: cfg.ca },
    });
    for (const [method, answer] of Object.entries(handlers)) cli.handle(method, answer);
    cli.on('error', () => {});
    return cli;
}

function classify(e) {
    const m = String(e && e.message || e);
    if (e && e.rpcErrorCode) return 'CALLERROR ' + e.rpcErrorCode;
    if (/timed? ?out/i.test(m)) return 'timeout';
    if (/not open|disconnected|closed/i.test(m)) return 'disconnected';
    return 'error';
}

// OCPP-J lets a station have one CALL outstanding (ocpp-rpc queues the others), so a call waits in the station behind
// its predecessor: its latency counts from when the predecessor settled, i.e. from when it could go on the wire.
const previous = new Map();

function send(stream, i) {
    const cli = clients[i % clients.length];
    const params = stream.paramsList[i % stream.paramsList.length];
    let t0 = performance.now();
    const before = previous.get(cli);
    if (before) before.then(() => { t0 = Math.max(t0, performance.now()); });
    const call = cli.call(stream.method, params);
    previous.set(cli, call.then(() => {}, () => {}));
    call.then(
        r => {
            const ms = performance.now() - t0;
            const good = stream.ok.every(([k, v]) => String(k.split('.').reduce((o, x) => o?.[x], r)) === v);
            if (good) {
                record(stream.name, t0, ms, null);
                if (r.exiResponse && stream.method === 'Get15118EVCertificate') delivered.write(r.exiResponse + '\n');
            } else {
                // A refusal in the protocol's own form: Get15118EVCertificate Failed with a signed EXI FAILED, or without one.
                const kind = stream.method === 'Get15118EVCertificate'
                    ? (r.exiResponse ? 'Failed+signed EXI' : 'Failed, no EXI') + (r.statusInfo ? ' ' + r.statusInfo.reasonCode : '')
                    : 'refused ' + JSON.stringify(r).slice(0, 60);
                record(stream.name, t0, ms, kind);
            }
        },
        e => record(stream.name, t0, performance.now() - t0, classify(e)));
}

async function drive(stream) {
    const start = performance.now();
    let sent = 0;
    while (!stopping) {
        const now = performance.now();
        while (start + sent * 1000 / stream.rate <= now) { bucket.streams[stream.name].sent++; send(stream, sent); sent++; }
        await new Promise(r => setTimeout(r, 2));
    }
}

async function main() {
    let next = 0;
    async function worker() {
        while (next < cfg.ids.length) {
            const cli = makeClient(cfg.ids[next++]);
            clients.push(cli);
            await cli.connect().catch(() => {});
        }
    }
    await Promise.all(Array.from({ length: cfg.connectConcurrency ?? 20 }, worker));
    process.stdout.write(JSON.stringify({ type: 'connected', connected: clients.filter(c => c.state === 1).length }) + '\n');

    bucket = newBucket();
    const ticker = setInterval(() => {
        const done = bucket;
        bucket = newBucket();
        done.connected = clients.filter(c => c.state === 1).length;
        process.stdout.write(JSON.stringify({ type: 'second', ...done, outcomes: [...done.outcomes.values()] }) + '\n');
    }, 1000);
    const drivers = cfg.streams.map(drive);

    const rl = readline.createInterface({ input: process.stdin });
    await new Promise(resolve => rl.on('line', l => { if (l.trim() === 'stop') resolve(); }).on('close', resolve));
    stopping = true;
    await Promise.all(drivers);
    await new Promise(r => setTimeout(r, 2000)); // answers still in flight
    clearInterval(ticker);
    await Promise.all(clients.map(c => c.close({ force: true }).catch(() => {})));
    await new Promise(r => delivered.end(r));
}

main().then(() => process.exit(0), e => { process.stdout.write(JSON.stringify({ type: 'fatal', error: String(e && e.stack || e) }) + '\n'); process.exit(1); });
