using BenchmarkDotNet.Running;

// Every benchmark class in this assembly is selectable: `dotnet run -c Release --project tests/PlugAndCharge.Benchmarks -- --filter '*Exi*'`.
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
