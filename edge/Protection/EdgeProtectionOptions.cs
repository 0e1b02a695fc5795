namespace MissionControl.Edge.Protection;

/// <summary>
/// The edge's protections, from configuration (environment variables in brackets):
/// RateLimiting:PerMinute [RateLimiting__PerMinute] requests per client IP per minute, 0 = off (default 100, seed 001);
/// RateLimiting:AuthFailuresPerMinute [RateLimiting__AuthFailuresPerMinute] 401 answers per client IP per minute
/// before credentials from it are refused with 429 unseen, 0 = off (default 10);
/// MC_TRUSTED_PROXIES peers whose X-Forwarded-For is believed (IPs or CIDRs);
/// MC_ALLOWED_HOSTS Host patterns served (empty = any);
/// Edge:MaxRequestBodyBytes [Edge__MaxRequestBodyBytes] request body limit, 0 = Kestrel's own (default 2 MiB).
/// </summary>
public sealed class EdgeProtectionOptions
{
    public const int DefaultPerMinute = 100;
    public const int DefaultAuthFailuresPerMinute = 10;
    /// <summary>Above the tasks service's 1 MiB webhook payload limit, so tasks answers that 413 itself.</summary>
    public const long DefaultMaxRequestBodyBytes = 2 * 1024 * 1024;

    public int PerMinute { get; init; } = DefaultPerMinute;
    public int AuthFailuresPerMinute { get; init; } = DefaultAuthFailuresPerMinute;
    public IReadOnlyList<string> TrustedProxies { get; init; } = [];
    public IReadOnlyList<string> AllowedHosts { get; init; } = [];
    public long MaxRequestBodyBytes { get; init; } = DefaultMaxRequestBodyBytes;

    /// <summary>
    /// Paths whose responses get no Content-Security-Policy: HTML pages that need scripts and styles
    /// (the API docs page to come). Every other response is JSON or SSE, which needs none.
    /// </summary>
    public IReadOnlyList<string> CspExemptPaths { get; init; } = ["/api/docs"];

    public static EdgeProtectionOptions FromConfiguration(IConfiguration configuration) => new()
    {
        PerMinute = NonNegative(configuration, "RateLimiting:PerMinute", DefaultPerMinute),
        AuthFailuresPerMinute = NonNegative(configuration, "RateLimiting:AuthFailuresPerMinute", DefaultAuthFailuresPerMinute),
        TrustedProxies = List(configuration["MC_TRUSTED_PROXIES"]),
        AllowedHosts = List(configuration["MC_ALLOWED_HOSTS"]),
        MaxRequestBodyBytes = NonNegative(configuration, "Edge:MaxRequestBodyBytes", DefaultMaxRequestBodyBytes),
    };

    private static IReadOnlyList<string> List(string? value) =>
        (value ?? "").Split([',', ';', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static T NonNegative<T>(IConfiguration configuration, string key, T fallback) where T : struct, System.Numerics.INumber<T>
    {
        var raw = configuration[key];
        if (string.IsNullOrWhiteSpace(raw)) return fallback;
        if (!T.TryParse(raw.Trim(), System.Globalization.CultureInfo.InvariantCulture, out var value) || value < T.Zero)
            throw new InvalidOperationException($"{key.Replace(":", "__")} must be a whole number, 0 or more (got \"{raw}\").");
        return value;
    }
}

/// <summary>Paths no protection but the security headers applies to: the probes must answer whatever Host or rate.</summary>
public static class ProbePaths
{
    public static bool Is(PathString path) => path.StartsWithSegments("/health") || path.StartsWithSegments("/alive");
}
