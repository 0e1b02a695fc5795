using MissionControl.GatewayBridge.Connections;

namespace MissionControl.GatewayBridge.Tests;

[Collection(OpenClawGatewayFixture.Collection)]
public sealed class ProvisioningTests(OpenClawGatewayFixture fixture, ITestOutputHelper output)
{
    private static Dictionary<string, string> Files(string agentId, string soul = "Calm and precise.") => new()
    {
        ["IDENTITY.md"] = $"# IDENTITY\n\n- Name: Probe {agentId}\n- Emoji: 🤖\n",
        ["SOUL.md"] = $"# SOUL\n\n{soul}\n",
        ["AGENTS.md"] = $"# AGENTS\n\nYou work for Mission Control.\n\n## Tools\n\n- web_search\n- marker {agentId}\n",
        ["USER.md"] = "# USER\n\nThe Mission Control operators.\n",
        ["MEMORY.md"] = "# MEMORY\n\n(nothing yet)\n",
        ["TOOLS.md"] = "# TOOLS\n\nAUTH_TOKEN=not-accepted-here\n",
    };

    [Fact]
    public async Task Provision_update_and_delete_an_agent()
    {
        var ct = Gateway.Timeout(120);
        await using var client = await GatewayClient.ConnectAsync(Gateway.Options(fixture), ct);
        var id = Gateway.NewAgentId();
        var workspace = Path.Combine(fixture.WorkspaceRoot, "workspace-" + id);
        var files = Files(id);

        var result = await AgentProvisioner.ProvisionAsync(client, id, workspace, files, ["MEMORY.md"], ct);
        output.WriteLine($"create {result.CreateMs:0} ms, visible after {result.VisibleAfterMs:0} ms ({result.NotFoundRetries} not-found retries), " +
                         $"files {result.FilesMs:0} ms, total {result.TotalMs:0} ms");
        Assert.False(result.AgentExisted);
        Assert.Equal(["IDENTITY.md", "SOUL.md", "AGENTS.md", "USER.md", "MEMORY.md"], result.FilesWritten);
        Assert.Equal(["TOOLS.md"], result.FilesSkipped);
        Assert.Contains("unsupported file", result.SkipReasons["TOOLS.md"]);
        Assert.True(result.VisibleAfterMs > 0);
        Assert.True(result.CreateMs > 0 && result.FilesMs > 0 && result.TotalMs >= result.CreateMs + result.VisibleAfterMs);

        Assert.Contains(id, await Gateway.AgentIdsAsync(client, ct));
        foreach (var name in result.FilesWritten)
        {
            var file = await Gateway.GetFileAsync(client, id, name, ct);
            Assert.False(file.GetProperty("missing").GetBoolean());
            Assert.Equal(files[name], file.GetProperty("content").GetString());
            Assert.Equal(AgentProvisioner.Sha256Hex(files[name]), file.GetProperty("hash").GetString());
        }
        Assert.Equal(Path.GetFullPath(workspace), Path.GetFullPath((await client.RequestAsync("agents.files.list", new { agentId = id }, ct)).GetProperty("workspace").GetString()!));

        // The agent keeps its memory; then the run is repeated with a new SOUL.md.
        await client.RequestAsync("agents.files.set", new { agentId = id, name = "MEMORY.md", content = "# MEMORY\n\n- learned something\n" }, ct);
        var updated = Files(id, soul: "Bold and brief.");
        var again = await AgentProvisioner.ProvisionAsync(client, id, workspace, updated, ["MEMORY.md"], ct);
        output.WriteLine($"update: written [{string.Join(", ", again.FilesWritten)}], unchanged [{string.Join(", ", again.FilesUnchanged)}], " +
                         $"preserved [{string.Join(", ", again.FilesPreserved)}], skipped [{string.Join(", ", again.FilesSkipped)}], total {again.TotalMs:0} ms");
        Assert.True(again.AgentExisted);
        Assert.Equal(["SOUL.md"], again.FilesWritten);
        Assert.Equal(["IDENTITY.md", "AGENTS.md", "USER.md"], again.FilesUnchanged);
        Assert.Equal(["MEMORY.md"], again.FilesPreserved);
        Assert.Equal(["TOOLS.md"], again.FilesSkipped);
        Assert.Equal(updated["SOUL.md"], (await Gateway.GetFileAsync(client, id, "SOUL.md", ct)).GetProperty("content").GetString());
        Assert.Equal("# MEMORY\n\n- learned something\n", (await Gateway.GetFileAsync(client, id, "MEMORY.md", ct)).GetProperty("content").GetString());

        await AgentProvisioner.DeleteAsync(client, id, GatewayChat.SessionKey(id), ct);
        Assert.DoesNotContain(id, await Gateway.AgentIdsAsync(client, ct));
        await AgentProvisioner.DeleteAsync(client, id, GatewayChat.SessionKey(id), ct); // a repeated delete is fine
    }

    [Fact]
    public async Task An_id_the_gateway_would_rewrite_is_refused_up_front()
    {
        await using var client = await GatewayClient.ConnectAsync(Gateway.Options(fixture), Gateway.Timeout());
        await Assert.ThrowsAsync<ArgumentException>(() =>
            AgentProvisioner.ProvisionAsync(client, "MC Agent", fixture.WorkspaceRoot, new Dictionary<string, string>(), [], CancellationToken.None));
    }

    [Fact]
    public async Task Timings_of_five_provisioning_runs()
    {
        var ct = Gateway.Timeout(180);
        await using var client = await GatewayClient.ConnectAsync(Gateway.Options(fixture), ct);
        output.WriteLine("run  create_ms  visible_after_ms  not_found_retries  files_ms  total_ms  delete_ms  delete_retries");
        for (var i = 1; i <= 5; i++)
        {
            var id = Gateway.NewAgentId();
            var r = await AgentProvisioner.ProvisionAsync(client, id, Path.Combine(fixture.WorkspaceRoot, "workspace-" + id), Files(id), [], ct);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var retries = await DeleteAsTheBusWouldAsync(client, id, ct);
            output.WriteLine($"{i,3}  {r.CreateMs,9:0}  {r.VisibleAfterMs,16:0}  {r.NotFoundRetries,17}  {r.FilesMs,8:0}  {r.TotalMs,8:0}  {clock.Elapsed.TotalMilliseconds,9:0}  {retries,14}");
        }
    }

    /// <summary>
    /// A delete that fails transiently is retried, as the bus retries AgentDeprovisionConsumer: on a loaded machine the
    /// gateway once lost its own state lease mid-delete (UNAVAILABLE, OPENCLAW_STATE_LEASE_LOST: nothing deleted).
    /// Returns the retries it took.
    /// </summary>
    private static async Task<int> DeleteAsTheBusWouldAsync(GatewayClient client, string id, CancellationToken ct)
    {
        for (var retries = 0; ; retries++)
        {
            try
            {
                await AgentProvisioner.DeleteAsync(client, id, GatewayChat.SessionKey(id), ct);
                return retries;
            }
            catch (GatewayException e) when (Dispatching.IsTransient(e) && retries < 2)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), ct);
            }
        }
    }
}
