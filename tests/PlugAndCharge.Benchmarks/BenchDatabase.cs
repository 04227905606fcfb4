using Npgsql;

namespace PlugAndCharge.Benchmarks;

/// <summary>
/// A database created for one load run on the server PNC_BENCH_DATABASE names (its user may create databases) and
/// dropped when disposed, with whatever connections are still open to it.
/// </summary>
internal sealed class BenchDatabase : IAsyncDisposable
{
    private readonly string _server;

    public string Name { get; }

    /// <summary>The connection string of the new database (the server's settings, this database).</summary>
    public string ConnectionString { get; }

    private BenchDatabase(string server, string name, string connectionString) => (_server, Name, ConnectionString) = (server, name, connectionString);

    /// <summary>The server's connection string from PNC_BENCH_DATABASE, or null when it is not set.</summary>
    public static string? Server => Environment.GetEnvironmentVariable("PNC_BENCH_DATABASE") is { Length: > 0 } s ? s : null;

    /// <param name="prefix">The name's start; a random suffix keeps concurrent runs apart.</param>
    public static async Task<BenchDatabase> CreateAsync(string server, string prefix, int? maxPoolSize = null)
    {
        var name = prefix + Guid.NewGuid().ToString("N")[..8];
        await ExecuteAsync(server, $"create database {name}");
        var builder = new NpgsqlConnectionStringBuilder(server) { Database = name };
        if (maxPoolSize is { } max) builder.MaxPoolSize = max;
        return new BenchDatabase(server, name, builder.ConnectionString);
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await ExecuteAsync(_server, $"drop database if exists {Name} with (force)");
    }

    private static async Task ExecuteAsync(string server, string statement)
    {
        await using var c = new NpgsqlConnection(server);
        await c.OpenAsync();
        await using var command = new NpgsqlCommand(statement, c);
        await command.ExecuteNonQueryAsync();
    }
}
