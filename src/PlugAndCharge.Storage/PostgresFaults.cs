using Npgsql;
using Polly;
using Polly.Retry;

namespace PlugAndCharge.Storage;

/// <summary>
/// Which database failures are passing faults, and the retry of work that is safe to run again (issue 22). A failure
/// is retried only when PostgreSQL certainly did not commit the work: a serialization failure (40001) or deadlock
/// (40P01), which roll the transaction back, or any failure before COMMIT was sent (connection refused or reset, admin
/// shutdown 57P01, cannot connect now 57P03). A timeout is not retried (it spent its time already), nor a failure during
/// COMMIT, which leaves the outcome unknown: it is marked, and the callers that record certificates read back what happened.
/// </summary>
public static class PostgresFaults
{
    private const string CommitSent = "pnc.commit-sent";

    /// <summary>The database is unreachable, restarting, overloaded, or refused to wait (statement or lock timeout): worth a 503.</summary>
    public static bool IsUnavailable(Exception? e)
    {
        for (; e != null; e = e.InnerException)
        {
            if (e is PostgresException p)
                return p.SqlState is "40001" or "40P01" or "55P03" || p.SqlState.StartsWith("08", StringComparison.Ordinal)
                    || p.SqlState.StartsWith("53", StringComparison.Ordinal) || p.SqlState.StartsWith("57", StringComparison.Ordinal);
            if (e is NpgsqlException) return true; // no server error: the connection failed, timed out, or the pool ran dry
        }
        return false;
    }

    /// <summary>Safe to run again: PostgreSQL rolled the work back, or never got to commit it.</summary>
    public static bool IsRetryable(Exception e)
    {
        if (e.Data.Contains(CommitSent)) return false;
        for (Exception? x = e; x != null; x = x.InnerException)
        {
            if (x is TimeoutException) return false; // it took its time already: retrying would break the fail-fast budget
            if (x is PostgresException p) return p.SqlState is "40001" or "40P01" or "57P01" or "57P03" || p.SqlState.StartsWith("08", StringComparison.Ordinal);
            if (x is NpgsqlException n) return n.IsTransient;
        }
        return false;
    }

    /// <summary>Marks a failure that happened while COMMIT was on its way or being answered: its outcome is unknown.</summary>
    public static Exception MarkCommitSent(Exception e)
    {
        e.Data[CommitSent] = true;
        return e;
    }

    /// <summary>
    /// Three more tries with jittered exponential backoff from 50 ms (about 0.4 s in all, so a request during an outage
    /// still fails fast). A connection that broke empties the pool: after a database restart every idle connection in it
    /// is dead, and trying them one by one would spend the retries.
    /// </summary>
    public static ResiliencePipeline Retry(NpgsqlDataSource db) => new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
    {
        ShouldHandle = new PredicateBuilder().Handle<Exception>(IsRetryable),
        MaxRetryAttempts = 3,
        Delay = TimeSpan.FromMilliseconds(50),
        BackoffType = DelayBackoffType.Exponential,
        UseJitter = true,
        OnRetry = a =>
        {
            if (a.Outcome.Exception is NpgsqlException and not PostgresException || a.Outcome.Exception is PostgresException { SqlState: "57P01" or "57P03" }) db.Clear();
            return default;
        },
    }).Build();

    /// <summary>
    /// Runs <paramref name="work"/> in a transaction and commits it with its audit entries, again on a retryable failure;
    /// a failure during COMMIT is marked (<see cref="MarkCommitSent"/>) and passed on.
    /// </summary>
    internal static async Task InTransactionAsync(NpgsqlDataSource db, ResiliencePipeline retry, TimeProvider clock, Func<NpgsqlConnection, NpgsqlTransaction, Task> work, CancellationToken ct) =>
        await retry.ExecuteAsync(async token =>
        {
            await using var conn = await db.ConnectAsync(token);
            await using var tx = await conn.BeginTransactionAsync(token);
            await work(conn, tx);
            await PostgresAuditWriter.CommitAsync(tx, clock, token);
        }, ct);

    /// <summary>The failure came while COMMIT was on its way or being answered: PostgreSQL may have committed.</summary>
    public static bool IsCommitOutcomeUnknown(Exception e) => e.Data.Contains(CommitSent);

    /// <summary>
    /// After a commit whose outcome is unknown, asks PostgreSQL (on a fresh connection) whether the work is there, for up
    /// to about 3 s while the database comes back: true if <paramref name="committed"/> finds it, false if it does not,
    /// null if the database stayed out of reach.
    /// </summary>
    internal static async Task<bool?> ReadBackAsync(NpgsqlDataSource db, Func<NpgsqlConnection, Task<bool>> committed)
    {
        for (var attempt = 0; attempt < 10; attempt++)
        {
            try
            {
                await using var conn = await db.ConnectAsync();
                return await committed(conn);
            }
            catch (Exception e) when (IsUnavailable(e))
            {
                db.Clear();
                await Task.Delay(TimeSpan.FromMilliseconds(200 + Random.Shared.Next(200)));
            }
        }
        return null;
    }
}
