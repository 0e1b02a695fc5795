using System.Text.Json.Nodes;

namespace MissionControl.LocalServers.Tests;

/// <summary>The gateway's config file across restarts of the same work dir (no gateway is started).</summary>
public sealed class OpenClawConfigTests
{
    private const string Earlier = """
        {
          // written by an earlier start, then by the gateway and by the user
          "gateway": { "mode": "local", "port": 18789, "bind": "loopback", "auth": { "mode": "token", "token": "old" } },
          "agents": {
            "defaults": { "workspace": "/old/workspace", "model": { "primary": "mine/model-1" } },
            "entries": { "mc-1": { "name": "mc-1", "workspace": "/w/workspace-mc-1" } },
          },
          "models": { "mode": "merge", "providers": { "mine": { "baseUrl": "http://127.0.0.1:9/v1" } } },
          "meta": { "lastTouchedVersion": "2026.9.6" },
        }
        """;

    [Fact]
    public void BuildConfig_KeepsTheAgentsAndTheUsersModel_AndSetsGatewayKeys()
    {
        var config = JsonNode.Parse(OpenClawServer.BuildConfig(18790, "new", "/new/workspace", "/log.jsonl", null, Earlier, "openclaw.json"))!;

        Assert.Equal(18790, config["gateway"]!["port"]!.GetValue<int>());
        Assert.Equal("new", config["gateway"]!["auth"]!["token"]!.GetValue<string>());
        Assert.Equal("/new/workspace", config["agents"]!["defaults"]!["workspace"]!.GetValue<string>());
        Assert.Equal("/log.jsonl", config["logging"]!["file"]!.GetValue<string>());
        Assert.Equal("mine/model-1", config["agents"]!["defaults"]!["model"]!["primary"]!.GetValue<string>());
        Assert.Equal("/w/workspace-mc-1", config["agents"]!["entries"]!["mc-1"]!["workspace"]!.GetValue<string>());
        Assert.NotNull(config["models"]!["providers"]!["mine"]);
        Assert.Equal("2026.9.6", config["meta"]!["lastTouchedVersion"]!.GetValue<string>());
    }

    [Fact]
    public void BuildConfig_RefusesToOverwriteAConfigItCannotRead()
    {
        var e = Assert.Throws<InvalidOperationException>(() =>
            OpenClawServer.BuildConfig(18790, "t", "/w", "/l", null, "{ \"agents\": ", "/x/openclaw.json"));
        Assert.Contains("/x/openclaw.json", e.Message);
    }

    [Fact]
    public void LastPort_AndNoConfig()
    {
        var workDir = Probes.NewWorkDir("openclaw-config");
        try
        {
            Assert.Null(OpenClawServer.LastPort(workDir));
            Directory.CreateDirectory(Path.Combine(workDir, "state"));
            File.WriteAllText(Path.Combine(workDir, "state", "openclaw.json"), Earlier);
            Assert.Equal(18789, OpenClawServer.LastPort(workDir));
        }
        finally
        {
            Directory.Delete(workDir, recursive: true);
        }
    }
}
