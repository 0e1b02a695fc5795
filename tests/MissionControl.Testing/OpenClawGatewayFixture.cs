using MissionControl.LocalServers;
using Xunit;

namespace MissionControl.Testing;

/// <summary>
/// A real OpenClaw gateway (from scripts/install-openclaw.sh) whose default model is a
/// <see cref="FakeModelServer"/>. A gateway takes about 10 s and 1–1.5 GB of RAM to start, so share one
/// per test collection:
/// <code>
/// [CollectionDefinition(OpenClawGatewayFixture.Collection)]
/// public sealed class GatewayCollection : ICollectionFixture&lt;OpenClawGatewayFixture&gt;;
/// [Collection(OpenClawGatewayFixture.Collection)] public sealed class MyTests(OpenClawGatewayFixture gateway) { … }
/// </code>
/// Without the install, initialisation fails with what to run (never a silent skip).
/// </summary>
public sealed class OpenClawGatewayFixture : IAsyncLifetime
{
    public const string Collection = "openclaw";

    private Action? _stop;
    private OpenClawServer? _gateway;
    private FakeModelServer? _model;

    public OpenClawServer Gateway => _gateway ?? throw new InvalidOperationException("The fixture is not initialised.");
    public FakeModelServer Model => _model ?? throw new InvalidOperationException("The fixture is not initialised.");

    /// <summary><c>ws://127.0.0.1:&lt;port&gt;</c>.</summary>
    public Uri Url => new(Gateway.Url);
    public string Token => Gateway.Token;
    public string WorkspaceRoot => Gateway.WorkspaceRoot;

    /// <summary>How long the gateway took to become ready (/readyz 200).</summary>
    public TimeSpan StartTime { get; private set; }

    public async Task InitializeAsync()
    {
        if (!OpenClawServer.IsInstalled)
        {
            throw new LocalServerUnavailableException(
                $"The OpenClaw gateway is not installed in {OpenClawServer.InstallDir}: run scripts/install-openclaw.sh (or set MC_OPENCLAW_DIR).");
        }
        var workDir = TestServers.CreateWorkDir("openclaw");
        try
        {
            _model = await FakeModelServer.StartAsync();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            _gateway = await OpenClawServer.StartAsync(
                // About 10 s on a quiet box; a restart while other test assemblies load both cores has taken over 60 s.
                new LocalServerOptions(workDir) { StartTimeout = TimeSpan.FromSeconds(180) },
                new OpenClawModelProvider(_model.BaseUrl));
            StartTime = clock.Elapsed;
            var gateway = _gateway;
            var model = _model;
            _stop = TestServers.RegisterBackstop(new Both(gateway, model), workDir);
        }
        catch
        {
            if (_model is not null)
            {
                await _model.DisposeAsync();
            }
            TestServers.DeleteWorkDir(workDir);
            throw;
        }
    }

    public Task DisposeAsync()
    {
        Interlocked.Exchange(ref _stop, null)?.Invoke();
        return Task.CompletedTask;
    }

    private sealed class Both(OpenClawServer gateway, FakeModelServer model) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await gateway.DisposeAsync();
            await model.DisposeAsync();
        }
    }
}
