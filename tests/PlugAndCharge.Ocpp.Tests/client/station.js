'use strict';
// A charging station played by ocpp-rpc for the interop tests.
// usage: node station.js CONFIG.json   (prints one JSON document on stdout when done)
//
// CONFIG: {
//   endpoint, identity, protocol, password?, ca (PEM), cert?, key? (PEM, mutual TLS), strict? (ocpp-rpc strict mode),
//   localAddress? (source address to connect from, e.g. 127.0.0.2: another client as the server sees it),
//   replies?: { Method: payload | { ignore: N, reply: payload } | { error: Code, message? } }
//                                                                      answers to CSMS calls (first N left unanswered; error = CALLERROR)
//   pncReplies?: { MessageId: payload }                                1.6 DataTransfer(iso15118pnc) answers
//   steps: [ { call: Method, params } | { raw: "text", expectId: "id" } | { waitFor: Method, count?, timeoutMs? } | { sleepMs }
//            | { signal: "name" } ],                                  signal: prints "SIGNAL name" on stderr (NodeStation.WaitForSignalAsync)
//   onReceive?: { Method: { call, params } }                           a call the station makes after answering Method
//   holdUntilStdinEnds?: bool                                           stay connected for CSMS-initiated calls
// }
const fs = require('fs');
const { RPCClient, NOREPLY, createRPCError } = require('ocpp-rpc');

const PNC = 'org.openchargealliance.iso15118pnc';

async function main() {
    const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
    const out = { connected: false, protocol: null, results: [], received: [] };
    const wsOpts = { ca: cfg.ca, rejectUnauthorized: true };
    if (cfg.cert) { wsOpts.cert = cfg.cert; wsOpts.key = cfg.key; }
    if (cfg.localAddress) wsOpts.localAddress = cfg.localAddress;
    const cli = new RPCClient({
        endpoint: cfg.endpoint,
        identity: cfg.identity,
        protocols: cfg.protocols ?? [cfg.protocol],
        password: cfg.password,
        strictMode: cfg.strict ?? false,
        reconnect: false,
        callTimeoutMs: cfg.callTimeoutMs ?? 15000,
        wsOpts,
    });

    const unanswered = {};
    const inbound = [];
    cli.on('message', ({ message, outbound }) => { if (!outbound) inbound.push(String(message)); });
    cli.on('badMessage', () => {});

    const reply = (method, params) => {
        out.received.push({ method, params });
        const follow = (cfg.onReceive ?? {})[method];
        if (follow) {
            setTimeout(() => {
                cli.call(follow.call, follow.params ?? {}).then(
                    result => out.results.push({ ok: true, result, after: method }),
                    e => out.results.push({ ok: false, code: e.rpcErrorCode ?? e.name, message: e.message, after: method }));
            }, 10);
        }
        const r = (cfg.replies ?? {})[method];
        if (r && typeof r === 'object' && 'error' in r) throw createRPCError(r.error, r.message ?? '');
        if (r && typeof r === 'object' && 'ignore' in r) {
            unanswered[method] = (unanswered[method] ?? 0) + 1;
            if (unanswered[method] <= r.ignore) return NOREPLY;
            return r.reply;
        }
        return r ?? { status: 'Accepted' };
    };
    cli.handle(({ method, params }) => {
        if (method === 'DataTransfer' && params.vendorId === PNC) {
            const inner = JSON.parse(params.data ?? '{}');
            const name = 'pnc:' + params.messageId;
            const answer = reply(name, inner);
            if (answer === NOREPLY) return NOREPLY;
            return { status: 'Accepted', data: JSON.stringify(answer) };
        }
        return reply(method, params);
    });

    try {
        await cli.connect();
        out.connected = true;
        out.protocol = cli.protocol;
    } catch (e) {
        out.error = { name: e.name, message: e.message, status: e.code ?? e.response?.statusCode ?? null };
        return out;
    }

    for (const step of cfg.steps ?? []) {
        if (step.call) {
            const t0 = process.hrtime.bigint();
            try {
                const result = await cli.call(step.call, step.params ?? {});
                out.results.push({ ok: true, result, ms: Number(process.hrtime.bigint() - t0) / 1e6 });
            } catch (e) {
                out.results.push({ ok: false, code: e.rpcErrorCode ?? e.name, message: e.message, ms: Number(process.hrtime.bigint() - t0) / 1e6 });
            }
        } else if (step.raw !== undefined) {
            const before = inbound.length;
            cli.sendRaw(step.raw);
            const deadline = Date.now() + (step.timeoutMs ?? 5000);
            let answer = null;
            while (Date.now() < deadline && answer === null) {
                for (let i = before; i < inbound.length; i++) {
                    const m = JSON.parse(inbound[i]);
                    if (step.expectId === undefined || m[1] === step.expectId) { answer = m; break; }
                }
                if (answer === null) await new Promise(r => setTimeout(r, 20));
            }
            out.results.push({ ok: answer !== null, frame: answer });
        } else if (step.waitFor) {
            const deadline = Date.now() + (step.timeoutMs ?? 10000);
            const count = step.count ?? 1;
            while (Date.now() < deadline && out.received.filter(r => r.method === step.waitFor).length < count) {
                await new Promise(r => setTimeout(r, 20));
            }
        } else if (step.signal) {
            process.stderr.write('SIGNAL ' + step.signal + '\n');
        } else if (step.sleepMs) {
            await new Promise(r => setTimeout(r, step.sleepMs));
        }
    }

    if (cfg.holdUntilStdinEnds) {
        process.stderr.write('READY\n');
        await new Promise(resolve => { process.stdin.on('end', resolve); process.stdin.on('close', resolve); process.stdin.resume(); });
    }
    await cli.close({ code: 1000, force: false }).catch(() => {});
    return out;
}

main().then(
    out => { process.stdout.write(JSON.stringify(out) + '\n'); process.exit(0); },
    e => { process.stdout.write(JSON.stringify({ fatal: String(e && e.stack || e) }) + '\n'); process.exit(1); },
);
