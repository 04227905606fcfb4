'use strict';
// Load for the OCPP endpoint: opens many station connections (ocpp-rpc over TLS), then drives calls at a fixed rate
// spread over the stations and reports latency percentiles. Bounded in count and time; loopback only.
// usage: node load.js CONFIG.json
// CONFIG: { endpoint, ca, password, protocol, ids: [...], connectConcurrency,
//           phases: [ { name, method, params | paramsList, rate, seconds } ] }
const fs = require('fs');
const { RPCClient } = require('ocpp-rpc');

const sleep = ms => new Promise(r => setTimeout(r, ms));

function percentile(sorted, p) {
    if (sorted.length === 0) return null;
    const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p / 100 * sorted.length) - 1));
    return Math.round(sorted[i] * 100) / 100;
}

async function connectAll(cfg) {
    const clients = new Array(cfg.ids.length);
    let next = 0, failed = 0;
    const t0 = Date.now();
    async function worker() {
        while (next < cfg.ids.length) {
            const i = next++;
            const cli = new RPCClient({
                endpoint: cfg.endpoint, identity: cfg.ids[i], protocols: [cfg.protocol], password: cfg.password,
                reconnect: false, callTimeoutMs: 10000, pingIntervalMs: 120000, wsOpts: { ca: cfg.ca },
            });
            try { await cli.connect(); clients[i] = cli; } catch (e) { failed++; }
        }
    }
    await Promise.all(Array.from({ length: cfg.connectConcurrency ?? 50 }, worker));
    return { clients: clients.filter(Boolean), failed, ms: Date.now() - t0 };
}

async function phase(clients, p) {
    const total = Math.round(p.rate * p.seconds);
    const latencies = [];
    let errors = 0, sent = 0, maxLagMs = 0;
    const pending = [];
    const start = performance.now();
    while (sent < total) {
        const now = performance.now();
        while (sent < total && start + sent * 1000 / p.rate <= now) {
            maxLagMs = Math.max(maxLagMs, now - (start + sent * 1000 / p.rate));
            const cli = clients[sent % clients.length];
            const params = p.paramsList ? p.paramsList[sent % p.paramsList.length] : p.params;
            const t0 = performance.now();
            pending.push(cli.call(p.method, params).then(
                r => { latencies.push(performance.now() - t0); if (p.expect && !p.expect.every(([k, v]) => String(k.split('.').reduce((o, x) => o?.[x], r)) === v)) errors++; },
                () => { errors++; }));
            sent++;
        }
        await sleep(1);
    }
    await Promise.all(pending);
    const elapsed = (performance.now() - start) / 1000;
    latencies.sort((a, b) => a - b);
    return {
        name: p.name, method: p.method, requested_rate: p.rate, sent, ok: latencies.length, errors,
        achieved_rate: Math.round(sent / elapsed), p50_ms: percentile(latencies, 50), p90_ms: percentile(latencies, 90),
        p99_ms: percentile(latencies, 99), max_ms: percentile(latencies, 100), max_schedule_lag_ms: Math.round(maxLagMs * 100) / 100,
    };
}

async function main() {
    const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
    const { clients, failed, ms } = await connectAll(cfg);
    const report = { stations: cfg.ids.length, connected: clients.length, connect_failed: failed, connect_ms: ms, phases: [] };
    for (const p of cfg.phases) report.phases.push(await phase(clients, p));
    report.still_connected = clients.filter(c => c.state === 1).length;
    await Promise.all(clients.map(c => c.close({ force: true }).catch(() => {})));
    return report;
}

main().then(
    r => { process.stdout.write(JSON.stringify(r) + '\n'); process.exit(0); },
    e => { process.stdout.write(JSON.stringify({ fatal: String(e && e.stack || e) }) + '\n'); process.exit(1); },
);
