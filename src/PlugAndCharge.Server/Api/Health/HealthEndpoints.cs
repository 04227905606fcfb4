using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Npgsql;

namespace PlugAndCharge.Server.Api.Health;

/// <summary>The health of one instance for load balancers: live (the process answers) and ready (its database answers).</summary>
public static class HealthEndpoints
{
    /// <param name="Status">"live" or "ready".</param>
    public sealed record HealthStatus(string Status);

    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder app)
    {
        var health = app.MapGroup("/health").WithTags("Health");
        health.MapGet("/live", Live).WithSummary("The process answers");
        health.MapGet("/ready", ReadyAsync).WithSummary("The database answers (503 problem details when not)").ProducesProblems(503);
        return app;
    }

    private static Ok<HealthStatus> Live() => TypedResults.Ok(new HealthStatus("live"));

    private static async Task<Results<Ok<HealthStatus>, ProblemHttpResult>> ReadyAsync(NpgsqlDataSource db, CancellationToken ct)
    {
        try
        {
            await using var cmd = db.CreateCommand("select 1");
            await cmd.ExecuteScalarAsync(ct);
            return TypedResults.Ok(new HealthStatus("ready"));
        }
        catch (NpgsqlException)
        {
            return TypedResults.Problem(statusCode: 503, title: "Database unavailable");
        }
    }
}
