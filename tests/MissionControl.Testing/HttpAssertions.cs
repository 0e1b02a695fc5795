using System.Net;
using System.Net.Http.Json;
using Xunit;

namespace MissionControl.Testing;

public static class HttpAssertions
{
    /// <summary>Waits for /health to report the database and the bus ready.</summary>
    public static async Task WaitHealthyAsync(this HttpClient client)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        HttpStatusCode last = 0;
        while (DateTime.UtcNow < deadline)
        {
            last = (await client.GetAsync("/health")).StatusCode;
            if (last == HttpStatusCode.OK) return;
            await Task.Delay(100);
        }
        throw new TimeoutException($"Service not healthy after 60 s (last /health answer {last}).");
    }

    public static async Task<System.Text.Json.JsonElement> ProblemAsync(this HttpResponseMessage response, HttpStatusCode expected)
    {
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("detail").GetString()));
        Assert.Equal(response.Headers.GetValues("X-Request-Id").Single(), problem.GetProperty("request_id").GetString());
        return problem;
    }
}
