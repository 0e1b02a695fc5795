using System.Net;
using Microsoft.Extensions.Configuration;
using MissionControl.Metrics.Webhooks;
using MissionControl.Outbound;

namespace MissionControl.Metrics.Tests;

/// <summary>The address guard, the retry schedule and the event filters, without a service.</summary>
public sealed class WebhookUnitTests
{
    [Theory]
    [InlineData("10.1.2.3", "private")]
    [InlineData("172.16.0.1", "private")]
    [InlineData("172.31.255.255", "private")]
    [InlineData("192.168.1.1", "private")]
    [InlineData("127.0.0.1", "loopback")]
    [InlineData("127.255.0.2", "loopback")]
    [InlineData("169.254.169.254", "link-local")]
    [InlineData("100.64.0.1", "cgnat")]
    [InlineData("100.127.255.254", "cgnat")]
    [InlineData("0.0.0.0", "unspecified")]
    [InlineData("224.0.0.1", "multicast")]
    [InlineData("255.255.255.255", "reserved")]
    [InlineData("::1", "loopback")]
    [InlineData("::", "unspecified")]
    [InlineData("fe80::1", "link-local")]
    [InlineData("febf::1", "link-local")]
    [InlineData("fc00::1", "unique-local")]
    [InlineData("fd12:3456::1", "unique-local")]
    [InlineData("ff02::1", "multicast")]
    [InlineData("::ffff:127.0.0.1", "loopback")]
    [InlineData("::ffff:10.0.0.1", "private")]
    [InlineData("::ffff:169.254.169.254", "link-local")]
    [InlineData("64:ff9b::a00:1", "private")]
    public void Internal_addresses_are_classified(string address, string why) =>
        Assert.Equal(why, AddressGuard.Classify(IPAddress.Parse(address)));

    [Theory]
    [InlineData("8.8.8.8")]
    [InlineData("1.1.1.1")]
    [InlineData("172.15.255.255")]
    [InlineData("172.32.0.1")]
    [InlineData("100.63.255.255")]
    [InlineData("100.128.0.1")]
    [InlineData("192.169.0.1")]
    [InlineData("169.253.0.1")]
    [InlineData("2606:4700:4700::1111")]
    [InlineData("::ffff:8.8.8.8")]
    public void Public_addresses_pass(string address) => Assert.Null(AddressGuard.Classify(IPAddress.Parse(address)));

    [Theory]
    [InlineData("localhost", true)]
    [InlineData("LOCALHOST.", true)]
    [InlineData("api.localhost", true)]
    [InlineData("printer.local", true)]
    [InlineData("example.com", false)]
    [InlineData("localhost.example.com", false)]
    [InlineData("local", false)]
    public void Local_names_are_classified(string host, bool local) => Assert.Equal(local, AddressGuard.ClassifyName(host) is not null);

    [Fact]
    public void Urls_are_checked_literally_and_allowed_hosts_permit_them()
    {
        var guard = new AddressGuard(AddressGuard.ParseHosts("127.0.0.1, hooks.local"));
        Assert.Null(guard.CheckUrl(new Uri("https://example.com/hook")));
        Assert.Null(guard.CheckUrl(new Uri("http://127.0.0.1:8080/hook")));
        Assert.Null(guard.CheckUrl(new Uri("http://hooks.local/hook")));
        Assert.NotNull(guard.CheckUrl(new Uri("http://127.0.0.2:8080/")));
        Assert.NotNull(guard.CheckUrl(new Uri("http://10.1.2.3/")));
        Assert.NotNull(guard.CheckUrl(new Uri("http://[::1]/")));
        Assert.NotNull(guard.CheckUrl(new Uri("http://[::ffff:127.0.0.2]/")));
        Assert.NotNull(guard.CheckUrl(new Uri("http://localhost/")));
        Assert.NotNull(guard.CheckUrl(new Uri("http://printer.local/")));
        Assert.NotNull(guard.CheckUrl(new Uri("ftp://example.com/")));
        Assert.NotNull(guard.CheckUrl(new Uri("file:///etc/passwd")));
        // A name resolving to an allowed address passes; to another internal one it does not.
        Assert.True(guard.IsAllowed("hooks.example", IPAddress.Loopback));
        Assert.False(guard.IsAllowed("hooks.example", IPAddress.Parse("127.0.0.2")));
        Assert.True(guard.IsAllowed("hooks.example", IPAddress.Parse("93.184.216.34")));
    }

    [Fact]
    public void The_retry_schedule_parses_ms_s_m_and_h()
    {
        Assert.Equal([TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30), TimeSpan.FromHours(2), TimeSpan.FromHours(8)],
            RetryScheduleParser.Parse(WebhookOptions.DefaultRetrySchedule));
        Assert.Equal([TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(1500), TimeSpan.FromSeconds(1)],
            RetryScheduleParser.Parse(" 200ms, 1.5s ,1S"));
        Assert.Empty(RetryScheduleParser.Parse(""));
        foreach (var bad in new[] { "30", "abc", "5x", "-1s", "s", "1,5s" })
            Assert.Throws<FormatException>(() => RetryScheduleParser.Parse(bad));
    }

    [Fact]
    public void Retry_waits_get_twenty_percent_jitter()
    {
        var random = new Random(7);
        var waits = Enumerable.Range(0, 1000).Select(_ => RetryScheduleParser.Jitter(TimeSpan.FromSeconds(10), random).TotalSeconds).ToList();
        Assert.All(waits, w => Assert.InRange(w, 8, 12));
        Assert.True(waits.Min() < 8.5 && waits.Max() > 11.5);
    }

    [Fact]
    public void Configuration_gives_the_schedule_and_the_allowed_hosts()
    {
        var configuration = new Microsoft.Extensions.Configuration.ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Webhooks:RetrySchedule"] = "1s,2m", ["Webhooks:AllowedHosts"] = "127.0.0.1, [::1],Hooks.Internal",
        }).Build();
        var options = WebhookOptions.From(configuration);
        Assert.Equal([TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(2)], options.RetrySchedule);
        Assert.True(options.AllowedHosts.SetEquals(["127.0.0.1", "::1", "hooks.internal"]));
        Assert.Equal(5, WebhookOptions.From(new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build()).RetrySchedule.Count);
    }

    [Theory]
    [InlineData("task.*", "task.created", true)]
    [InlineData("task.*", "task.status_changed", true)]
    [InlineData("task.*", "approval.resolved", false)]
    [InlineData("task.*", "task", false)]
    [InlineData("task.*", "task_tags.changed", false)]
    [InlineData("approval.resolved", "approval.resolved", true)]
    [InlineData("approval.resolved", "approval.created", false)]
    [InlineData("*", "gateway.connection_changed", true)]
    [InlineData("agent.provision.*", "agent.provision.failed", true)]
    public void Patterns_match_exact_types_prefixes_and_everything(string pattern, string type, bool matches) =>
        Assert.Equal(matches, WebhookEvents.Matches(pattern, type));

    [Theory]
    [InlineData("*", true)]
    [InlineData("task.*", true)]
    [InlineData("task.created", true)]
    [InlineData("task*", false)]
    [InlineData("*.created", false)]
    [InlineData(".*", false)]
    [InlineData("", false)]
    [InlineData("task created", false)]
    public void Patterns_are_validated(string pattern, bool valid) => Assert.Equal(valid, WebhookEvents.IsValidPattern(pattern));

    [Fact]
    public void The_signature_is_the_hmac_of_timestamp_dot_body()
    {
        // echo -n '1700000000.{"a":1}' | openssl dgst -sha256 -hmac secret
        Assert.Equal("sha256=" + Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData("secret"u8, "1700000000.{\"a\":1}"u8)),
            WebhookSender.Sign("secret", 1700000000, "{\"a\":1}"));
    }
}
