namespace MissionControl.Testing;

/// <summary>Polls a condition until it holds, for what settles just after an observable step (a commit's aftermath, a delivery).</summary>
public static class Eventually
{
    public static async Task HoldsAsync(Func<Task<bool>> condition, string what, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException(what);
            await Task.Delay(50);
        }
    }

    public static Task HoldsAsync(Func<bool> condition, string what, int seconds = 30) => HoldsAsync(() => Task.FromResult(condition()), what, seconds);
}
