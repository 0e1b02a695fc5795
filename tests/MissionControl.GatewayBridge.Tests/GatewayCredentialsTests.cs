using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using MissionControl.GatewayBridge.Connections;

namespace MissionControl.GatewayBridge.Tests;

public sealed class GatewayCredentialsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mc-bridge-creds-").FullName;

    private GatewayCredentials Credentials() => new(
        DataProtectionProvider.Create(new DirectoryInfo(Path.Combine(_dir, "keys"))),
        Options.Create(new BridgeOptions { DeviceIdentityPath = Path.Combine(_dir, "device.json") }),
        new Microsoft.Extensions.Hosting.Internal.HostingEnvironment { ContentRootPath = _dir }, new ConfigurationBuilder().Build());

    [Theory]
    [InlineData("ws://127.0.0.1:18789", false)]
    [InlineData("ws://localhost:18789", false)]
    [InlineData("ws://[::1]:18789", false)]
    [InlineData("wss://gateway.example.test", true)]
    [InlineData("ws://gateway.invalid:18789", true)]
    public void A_remote_gateway_gets_our_device_identity_and_a_loopback_one_the_token_alone(string url, bool device)
    {
        var options = Credentials().ConnectOptions(new Uri(url), "token", allowInsecureTls: false, disableDevicePairing: false, deviceToken: "dt");
        Assert.Equal(device, options.Device is not null);
        Assert.Equal(device ? "dt" : null, options.DeviceToken);
        Assert.Equal("token", options.Token);
    }

    [Fact]
    public void A_gateway_registered_without_pairing_never_gets_a_device_and_tokens_round_trip_encrypted()
    {
        var credentials = Credentials();
        Assert.Null(credentials.ConnectOptions(new Uri("wss://gateway.example.test"), "t", false, disableDevicePairing: true).Device);
        var sealedToken = credentials.Protect("secret-token-value")!;
        Assert.DoesNotContain("secret-token-value", sealedToken);
        Assert.Equal("secret-token-value", credentials.Unprotect(sealedToken));
        Assert.Null(credentials.Protect(""));
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
