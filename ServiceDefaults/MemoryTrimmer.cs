using MissionControl.ProcessMemory;

namespace Microsoft.Extensions.Hosting;

/// <summary>Gives back what startup used once it is over (20 s), then keeps the idle process small (<see cref="IdleMemory"/>).</summary>
public sealed class MemoryTrimmer : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken ct) => IdleMemory.RunAsync(TimeSpan.FromSeconds(20), ct);
}
