namespace MissionControl.Messaging;

/// <summary>
/// SQLite allows one writer at a time, and a writer that finds the database locked sleeps in
/// SQLite's busy handler (1, 2, 5, 10… ms), which wrecks latency under concurrent writes. Hot write
/// paths queue here instead, in order and without sleeping. On PostgreSQL the gate is open.
/// </summary>
public sealed class DatabaseWriteGate(bool serialize)
{
    private readonly SemaphoreSlim? _gate = serialize ? new SemaphoreSlim(1, 1) : null;

    public async ValueTask<Releaser> EnterAsync(CancellationToken ct)
    {
        if (_gate is not null) await _gate.WaitAsync(ct);
        return new Releaser(_gate);
    }

    public readonly struct Releaser(SemaphoreSlim? gate) : IDisposable
    {
        public void Dispose() => gate?.Release();
    }
}
