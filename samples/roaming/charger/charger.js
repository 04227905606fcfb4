'use strict';
// The sample's charging station: a real OCPP-J client (ocpp-rpc) driven line by line.
// usage: node charger.js '{"endpoint":"wss://host/ocpp","identity":"CS-1","protocol":"ocpp2.0.1","password":"...","ca":"PEM"}'
//
// After connecting it prints {"event":"connected","protocol":...}. Each stdin line {"id":N,"call":"Action","params":{}}
// is sent as a CALL; the answer comes back as {"id":N,"ok":true,"result":{}} or {"id":N,"ok":false,"code":..,"message":..}.
// Calls from the CSMS are answered Accepted and reported as {"event":"received","method":..,"params":..}.
// The station closes its connection when stdin ends.
const readline = require('readline');
const { RPCClient } = require('ocpp-rpc');

const say = obj => process.stdout.write(JSON.stringify(obj) + '\n');

async function main() {
    const cfg = JSON.parse(process.argv[2]);
    const cli = new RPCClient({
        endpoint: cfg.endpoint,
        identity: cfg.identity,
        protocols: [cfg.protocol],
        password: cfg.password,
        reconnect: false,
        callTimeoutMs: cfg.callTimeoutMs ?? 30000,
        wsOpts: { ca: cfg.ca, rejectUnauthorized: true },
    });
    cli.handle(({ method, params }) => {
        say({ event: 'received', method, params });
        return { status: 'Accepted' };
    });
    try {
        await cli.connect();
    } catch (e) {
        say({ event: 'failed', message: e.message, status: e.code ?? e.response?.statusCode ?? null });
        process.exit(2);
    }
    say({ event: 'connected', protocol: cli.protocol });

    // One CALL at a time, as OCPP-J requires of each side.
    let queue = Promise.resolve();
    const lines = readline.createInterface({ input: process.stdin });
    lines.on('line', line => {
        if (!line.trim()) return;
        const req = JSON.parse(line);
        queue = queue.then(async () => {
            try {
                say({ id: req.id, ok: true, result: await cli.call(req.call, req.params ?? {}) });
            } catch (e) {
                say({ id: req.id, ok: false, code: e.rpcErrorCode ?? e.name, message: e.message });
            }
        });
    });
    await new Promise(resolve => lines.on('close', resolve));
    await queue;
    await cli.close({ code: 1000, force: false }).catch(() => {});
}

main().catch(e => { say({ event: 'failed', message: String(e && e.stack || e) }); process.exit(1); });
