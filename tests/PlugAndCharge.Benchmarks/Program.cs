using BenchmarkDotNet.Running;

// Load tools that are not BenchmarkDotNet benchmarks: `dotnet run -c Release --project tests/PlugAndCharge.Benchmarks -- ocpi-load 1000 10 200`.
if (args is ["ocpi-load", ..]) return await PlugAndCharge.Benchmarks.Ocpi.OcpiRelayLoad.RunAsync(args[1..]);
// The hub's location store: GET-all of 85,000 locations and EVSE status PATCHes fanned out to 20 eMSPs (PNC_BENCH_DATABASE): `... -- ocpi-store 85000 500 10 20`.
if (args is ["ocpi-store", ..]) return await PlugAndCharge.Benchmarks.Ocpi.OcpiStoreLoad.RunAsync(args[1..]);
// The ceiling of the OCSP load method (ab on new connections against raw sockets): `... -- canned-http 5490 60`.
if (args is ["canned-http", ..]) return await PlugAndCharge.Benchmarks.Ocsp.CannedHttpServer.RunAsync(args[1..]);
// A steady in-memory installation loop to attach a profiler to (dotnet-trace): `... -- install-loop 20000`.
if (args is ["install-loop", ..]) return await PlugAndCharge.Benchmarks.Contracts.InstallationLoop.RunAsync(args[1..]);
// In-memory installations in a wall-clock window: one process against two on the same cores (`scripts/process-floor.sh`).
if (args is ["install-window", ..]) return await PlugAndCharge.Benchmarks.Contracts.InstallationWindow.RunAsync(args[1..]);
// Installations offered at a fixed rate (open loop), latency percentiles from scheduled start: `... -- install-rate 1000 30`.
if (args is ["install-rate", ..]) return await PlugAndCharge.Benchmarks.Contracts.InstallationRate.RunAsync(args[1..]);

// What an idle connected OCPP station costs the service (memory, CPU at rest): `... -- ocpp-idle 2000 30`.
if (args is ["ocpp-idle", ..]) return await PlugAndCharge.Benchmarks.Ocpp.IdleStations.RunAsync(args[1..]);

// Audited writes per second from several instances at once (the audit chain's lock): `... -- audit-rate 10 2 16`.
if (args is ["audit-rate", ..]) return await PlugAndCharge.Benchmarks.Audit.AuditRate.RunAsync(args[1..]);

// Every benchmark class in this assembly is selectable: `dotnet run -c Release --project tests/PlugAndCharge.Benchmarks -- --filter '*Exi*'`.
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
