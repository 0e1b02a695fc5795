using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace MissionControl.EndToEnd.Tests;

/// <summary>A user's endpoint (a webhook or an agent's callback) on 127.0.0.1 inside the test.</summary>
internal static class LoopbackReceiver
{
    /// <summary>Hands every request and its body to <paramref name="record"/> and answers 204; the base URL is <c>Urls.Single()</c>.</summary>
    public static async Task<WebApplication> StartAsync(Action<HttpRequest, string> record)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.Run(async http =>
        {
            using var reader = new StreamReader(http.Request.Body, Encoding.UTF8);
            record(http.Request, await reader.ReadToEndAsync());
            http.Response.StatusCode = StatusCodes.Status204NoContent;
        });
        await app.StartAsync();
        return app;
    }
}
