using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using PlugAndCharge.Pki;

namespace PlugAndCharge.Server;

/// <summary>The ASP.NET Core host: health and readiness, PKI publication (later issues add their surfaces here).</summary>
public static class ServiceHost
{
    public static WebApplication Build(string[] urls, CertificateAuthorityServices ca, NpgsqlDataSource db)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(urls);
        builder.Logging.ClearProviders();
        builder.Logging.AddJsonConsole(o => o.IncludeScopes = false);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddProblemDetails();
        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapGet("/health/live", () => Results.Ok(new { status = "live" }));
        app.MapGet("/health/ready", async (CancellationToken ct) =>
        {
            try
            {
                await using var cmd = db.CreateCommand("select 1");
                await cmd.ExecuteScalarAsync(ct);
                return Results.Ok(new { status = "ready" });
            }
            catch (NpgsqlException)
            {
                return Results.Problem(statusCode: 503, title: "Database unavailable");
            }
        });
        app.MapPkiPublicationEndpoints(ca, TimeProvider.System);
        return app;
    }
}
