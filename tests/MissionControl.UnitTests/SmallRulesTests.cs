using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using MissionControl.Edge.Auth;

namespace MissionControl.UnitTests;

public sealed class SmallRulesTests
{
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
