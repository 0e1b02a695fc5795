using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using MissionControl.Edge.Auth;

namespace MissionControl.UnitTests;

public sealed class SmallRulesTests
{
    [Theory]
    [InlineData("2026-01-02T03:04:05.1234567+02:00", "\"2026-01-02T01:04:05.123456Z\"")]
    [InlineData("0001-01-01T00:00:00Z", "\"0001-01-01T00:00:00.000000Z\"")]
    [InlineData("2099-12-31T23:59:59.9999999Z", "\"2099-12-31T23:59:59.999999Z\"")]
    public void Api_timestamps_are_UTC_with_microseconds_and_a_Z(string value, string json)
    {
        var time = DateTimeOffset.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(json, System.Text.Json.JsonSerializer.Serialize(time, JsonDefaults.Api));
        Assert.Equal(time.UtcTicks / 10, System.Text.Json.JsonSerializer.Deserialize<DateTimeOffset>(json, JsonDefaults.Api).UtcTicks / 10);
    }

    [Theory]
    [InlineData(null, null, true)]
    [InlineData(200, 0, true)]
    [InlineData(0, 0, false)]
    [InlineData(201, 0, false)]
    [InlineData(10, -1, false)]
    public void Page_limits_are_1_to_200_and_offsets_not_negative(int? limit, int? offset, bool ok)
    {
        Assert.Equal(ok, PageRequest.TryParse(limit, offset, out var page, out var error));
        Assert.Equal(ok, error is null);
        if (ok) Assert.Equal(limit ?? 50, page.Limit);
    }

    [Fact]
    public void The_admin_token_matches_only_itself()
    {
        var admin = new AdminToken("mc_admin_0123456789abcdef");

        Assert.True(admin.Matches("mc_admin_0123456789abcdef"));
        Assert.False(admin.Matches("mc_admin_0123456789abcdeF"));
        Assert.False(admin.Matches(""));
    }

    [Theory]
    [InlineData("abc-123_x.y:z", true)]
    [InlineData("has space", false)]
    [InlineData("<script>", false)]
    [InlineData("", false)]
    public async Task Request_ids_from_callers_are_kept_only_when_safe(string incoming, bool kept)
    {
        var context = new DefaultHttpContext();
        context.Request.Headers[RequestIdMiddleware.Header] = incoming;
        await new RequestIdMiddleware(_ => Task.CompletedTask).InvokeAsync(context);

        var id = context.Response.Headers[RequestIdMiddleware.Header].ToString();
        Assert.Equal(context.TraceIdentifier, id);
        Assert.Equal(kept, id == incoming);
        Assert.NotEmpty(id);
    }
}
