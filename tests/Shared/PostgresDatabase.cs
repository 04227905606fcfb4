using Npgsql;

namespace PlugAndCharge.Tests;

/// <summary>
/// A fresh database per fixture on the PostgreSQL cluster the test command starts (PNC_TEST_DATABASE), or per load run
/// on the server a benchmark is given (PNC_BENCH_DATABASE), dropped afterwards with whatever connections are still open to it.
/// </summary>
public sealed class PostgresDatabase : IAsyncDisposable
{
    public string ConnectionString { get; }
    private readonly string _admin;
    private readonly string _name;

    private PostgresDatabase(string admin, string name, string cs) { _admin = admin; _name = name; ConnectionString = cs; }

    /// <param name="adminConnectionString">The cluster to create it on; the shared test cluster unless given (a fault test's own cluster, a benchmark's server).</param>
    /// <param name="prefix">The name's start; a random suffix keeps concurrent databases apart.</param>
    /// <param name="maxPoolSize">The pool size of <see cref="ConnectionString"/>; null keeps the admin connection string's.</param>
    public static async Task<PostgresDatabase> CreateAsync(string? adminConnectionString = null, string prefix = "pnc_test_", int? maxPoolSize = 64)
    {
        var admin = adminConnectionString ?? Environment.GetEnvironmentVariable("PNC_TEST_DATABASE")
            ?? throw new InvalidOperationException("PNC_TEST_DATABASE is not set: run the tests through scripts/test.sh, which starts PostgreSQL.");
        var name = prefix + Guid.NewGuid().ToString("N")[..12];
        await using (var conn = new NpgsqlConnection(admin))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand($"create database {name}", conn);
            await cmd.ExecuteNonQueryAsync();
        }
        var builder = new NpgsqlConnectionStringBuilder(admin) { Database = name };
        if (maxPoolSize is { } max) builder.MaxPoolSize = max;
        var cs = builder.ConnectionString;
        return new PostgresDatabase(admin, name, cs);
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var conn = new NpgsqlConnection(_admin);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand($"drop database if exists {_name} with (force)", conn);
        await cmd.ExecuteNonQueryAsync();
    }
}
