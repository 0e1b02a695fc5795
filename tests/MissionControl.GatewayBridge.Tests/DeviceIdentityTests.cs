namespace MissionControl.GatewayBridge.Tests;

/// <summary>The Ed25519 device identity without a gateway.</summary>
public sealed class DeviceIdentityTests
{
    [Fact]
    public void The_v3_signature_payload_is_exactly_the_documented_string()
    {
        var payload = DeviceIdentity.BuildSignaturePayload(
            "3b4f9c", "test", "backend", "operator", ["operator.admin", "operator.read", "operator.write"],
            1795383460961, "test-token-0123456789abcdef", "00637fd2-aaaa-bbbb-cccc-0123456789ab", " Linux ", "  MacBookPro\t");
        Assert.Equal(
            "v3|3b4f9c|test|backend|operator|operator.admin,operator.read,operator.write|1795383460961|test-token-0123456789abcdef" +
            "|00637fd2-aaaa-bbbb-cccc-0123456789ab|linux|macbookpro",
            payload);
        Assert.Equal("v3|d|gateway-client|backend|operator||5||n||",
            DeviceIdentity.BuildSignaturePayload("d", "gateway-client", "backend", "operator", [], 5, null, "n", null, null));
    }

    [Fact]
    public void Signs_like_RFC_8032_test_vector_1()
    {
        var identity = DeviceIdentity.FromSeed(Convert.FromHexString("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
        Assert.Equal("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", Convert.ToHexStringLower(identity.PublicKey));
        Assert.Equal(
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
            Convert.ToHexStringLower(identity.Sign("")));
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(identity.PublicKey)), identity.DeviceId);
        Assert.Equal(43, identity.PublicKeyBase64Url.Length); // 32 bytes, base64url, no padding
    }

    [Fact]
    public void The_device_object_carries_a_signature_over_the_v3_payload()
    {
        var identity = DeviceIdentity.Create();
        var device = identity.BuildDeviceObject("test", "backend", "operator", ["operator.admin"], 1795383460961, "tok", "nonce-1", "linux", null);
        Assert.Equal(identity.DeviceId, (string?)device["id"]);
        Assert.Equal(1795383460961, (long)device["signedAt"]!);
        Assert.Equal("nonce-1", (string?)device["nonce"]);
        var signature = System.Buffers.Text.Base64Url.DecodeFromChars((string)device["signature"]!);
        Assert.True(identity.Verify($"v3|{identity.DeviceId}|test|backend|operator|operator.admin|1795383460961|tok|nonce-1|linux|", signature));
        Assert.False(identity.Verify($"v3|{identity.DeviceId}|test|backend|operator|operator.admin|1795383460961|tok|nonce-2|linux|", signature));
    }

    [Fact]
    public void LoadOrCreate_persists_the_same_key_in_a_private_file()
    {
        var dir = Path.Combine(Path.GetTempPath(), "mc-device-" + Guid.NewGuid().ToString("N"));
        try
        {
            var path = Path.Combine(dir, "keys", "device.json");
            var created = DeviceIdentity.LoadOrCreate(path);
            var loaded = DeviceIdentity.LoadOrCreate(path);
            Assert.Equal(created.DeviceId, loaded.DeviceId);
            Assert.Equal(created.Sign("x"), loaded.Sign("x"));
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            }
            Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!)); // no temporary file left behind
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

/// <summary>A signed device identity against the real gateway.</summary>
[Collection(OpenClawGatewayFixture.Collection)]
public sealed class DeviceHandshakeTests(OpenClawGatewayFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task A_signed_device_keeps_its_scopes_is_paired_on_loopback_and_can_reconnect_with_its_device_token()
    {
        var ct = Gateway.Timeout();
        var dir = Path.Combine(Path.GetTempPath(), "mc-device-" + Guid.NewGuid().ToString("N"));
        try
        {
            var device = DeviceIdentity.LoadOrCreate(Path.Combine(dir, "device.json"));
            var options = Gateway.Options(fixture) with { Device = device, ClientId = "test", ClientMode = "backend" };
            string deviceToken;
            await using (var client = await GatewayClient.ConnectAsync(options, ct))
            {
                output.WriteLine($"auth: {client.Hello.Payload.GetProperty("auth").GetRawText()}");
                Assert.Contains(GatewayScopes.Admin, client.Hello.Scopes);
                deviceToken = Assert.IsType<string>(client.Hello.DeviceToken);
                await client.RequestAsync("agents.list", null, ct);
            }

            // The same device (same key file) with only its device token.
            var again = DeviceIdentity.LoadOrCreate(Path.Combine(dir, "device.json"));
            var byToken = options with { Device = again, Token = null, DeviceToken = deviceToken };
            await using (var client = await GatewayClient.ConnectAsync(byToken, ct))
            {
                Assert.Equal("device-token", client.Hello.AuthMethod);
                Assert.Contains(GatewayScopes.Admin, client.Hello.Scopes);
                await client.RequestAsync("agents.list", null, ct);
            }

            // A different key claiming the same token is refused.
            var stranger = byToken with { Device = DeviceIdentity.Create() };
            var e = await Assert.ThrowsAsync<GatewayException>(() => GatewayClient.ConnectAsync(stranger, ct));
            output.WriteLine($"stranger: {e.Code}/{e.DetailCode}: {e.Message}");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
